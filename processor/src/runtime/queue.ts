/**
 * Queue mode (the `onUpload()` trigger): a Job's processor takes one SQS message holding an S3
 * event notification and runs the pipeline once per object it names, each to
 * `<outputPrefix><key relative to the input prefix, without extension>/`.
 *
 * Each run reads exactly the object version its event names: the event's versionId, or in an
 * unversioned bucket the event's ETag (If-Match). The manifest records bucket, key, version id,
 * ETag and size.
 *
 * The message stays invisible to other consumers while the run works (ChangeMessageVisibility
 * every third of the visibility timeout, each call bounded in time so that one stuck call does not
 * hold up the next) and is deleted only after every object's manifest or report is written.
 * Outcomes, as exit codes:
 *
 * - 0: no message came (another Job took it, or the queue is empty), an S3 test event, or every
 *   object processed; the message is deleted. Also 0, with the message deleted:
 *   - an object version that already has a finished manifest (a redelivered message, a duplicate
 *     event): nothing is done, and the log says so; and when two Jobs race on one object, the
 *     manifest is written only if absent (If-None-Match: *), so only one finishes it;
 *   - a superseded object version (NoSuchVersion, a newer upload in an unversioned bucket, the key
 *     deleted since): a report `superseded_<runId>.json` is written where its outputs would go
 *     (the newer upload has an event of its own).
 * - 2: bad input. For an object that cannot be processed as given (not CSV, a required column
 *   missing, a key outside the input prefix or bucket, a key whose output keys would be longer
 *   than S3 allows) an error report `error_<runId>.json` (input, reason, run id, time) is written
 *   where its outputs would go (at the top of the output prefix when they have no place) and the
 *   message is deleted: retrying cannot fix it, and the Job's podFailurePolicy ends the Job
 *   without a retry, so the failure shows in the Job's status. A message that is not an S3 event
 *   at all is left on the queue, made visible at once, so it reaches the dead-letter queue after
 *   maxReceiveCount receives and nothing is lost.
 * - 1: any other failure (S3 or SQS unavailable after retries, AccessDenied on the input, output
 *   not writable, an input larger than the scratch volume can hold, which also gets an error
 *   report): the message is left; it comes back when its visibility timeout runs out and lands
 *   in the dead-letter queue after maxReceiveCount receives, from where it can be redriven once
 *   the cause is fixed.
 * - 143 (SIGTERM): the run stops and the message is made visible at once for another Job.
 *
 * Run ids are derived from the event (see runIdForObject): a redelivered message names the same
 * run, whose finished manifest it finds.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand, DeleteMessageCommand, Message, ReceiveMessageCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import { HeldClaim, claimLocationOf, claimObjectVersion } from './claim';
import {
  DEFAULT_RETRY_BACKOFF_SECONDS, OutputLocation, QueueConfig, RETRY_BACKOFF_MAX_SECONDS, isoSeconds, parseOutputLocation, s3Uri,
} from './config';
import {
  BadInputError, EXIT_BAD_INPUT, EXIT_OK, RunAbortedError, SupersededInputError, describeError, errorFields,
} from './errors';
import { createS3Client, isKeyDeleted, isTransient, listKeys, putSmallObject } from './io/s3';
import { createSqsClient } from './io/sqs';
import { Logger, silentLogger } from './log';
import { RunOutcome, type RunRecorder } from './metrics';
import { JSON_CONTENT_TYPE, manifestFileName } from './outputs';
import { runPipeline } from './run';
import {
  NotAnS3EventError, S3EventObject, objectVersionHash, outputPlaceOf, parseS3EventMessage, runIdForObject,
} from './s3-event';
import { ScratchSpaceError } from './scratch-space';
import type { NaValuesMode, Transform } from './transform';
import { walkthroughFileNames } from '../transforms/walkthrough/names';
import type { OutputFormat } from '../transforms/walkthrough/parquet/layout';

export interface QueueJobOptions extends QueueConfig {
  /** A local directory or `s3://bucket/prefix/`; each object gets a folder under it. */
  readonly output: string;
  /** Names every object's outputs instead of the derived run id. */
  readonly runId?: string;
  readonly scratchDir?: string;
  /** The scratch volume's size limit (see PipelineOptions.scratchVolumeBytes). */
  readonly scratchVolumeBytes?: number;
  /** Threads per object's run (see PipelineOptions.threads). */
  readonly threads?: number;
  /** Which cells are missing values (see PipelineOptions.naValues). @default 'default' */
  readonly naValues?: NaValuesMode;
  /** Which formats the tables are written in (see PipelineOptions.outputFormat); Parquet tables go to `output`'s root, one folder per table for all objects. @default 'csv' */
  readonly outputFormat?: OutputFormat;
  readonly log?: Logger;
  /** Aborting stops the run and releases the message. */
  readonly signal?: AbortSignal;
  /** Environment for the default clients (endpoints, region, retries); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly s3Client?: S3Client;
  readonly sqsClient?: SQSClient;
  /** Collects each processed object's counts for the run's metrics. */
  readonly recorder?: RunRecorder;
  /** What is made of each object; default the walkthrough (see PipelineOptions.transform). */
  readonly transform?: Transform;
}

/** The contents of `error_<runId>.json` and `superseded_<runId>.json`. */
export interface ErrorReport {
  readonly run_id: string;
  /** `s3://bucket/key` of the object. */
  readonly input: string;
  /** The version id and ETag the event named. */
  readonly version_id?: string;
  readonly etag?: string;
  readonly reason: string;
  /** When the report was written (ISO 8601). */
  readonly time: string;
  readonly message_id?: string;
}

type ObjectOutcome =
  | 'processed' | 'rejected' | 'skipped' | 'superseded'
  /** Another run holds a live claim on the version; look again once it would have expired. */
  | { readonly kind: 'claimed-elsewhere'; readonly retryAfterSeconds: number };

/**
 * Takes one message from the queue and processes it. Resolves to the exit code 0 or 2; rejects
 * with RunAbortedError (143) or another error (1) when the message is left on the queue.
 */
export async function runQueueJob(options: QueueJobOptions): Promise<number> {
  const log = options.log ?? silentLogger;
  const env = options.env ?? process.env;
  const sqs = options.sqsClient ?? createSqsClient(env);
  let s3 = options.s3Client;
  const s3Client = (): S3Client => (s3 ??= createS3Client(env));
  try {
    const message = await receiveOne(sqs, options, log);
    if (message === undefined) {
      log.info(`No message on the queue within ${options.waitSeconds} s; nothing to do`, { queue: options.queueUrl });
      return EXIT_OK;
    }
    return await handleMessage(message, sqs, s3Client, options, log);
  } finally {
    if (options.sqsClient === undefined) sqs.destroy();
    if (options.s3Client === undefined) s3?.destroy();
  }
}

async function receiveOne(sqs: SQSClient, options: QueueJobOptions, log: Logger): Promise<Message | undefined> {
  log.info(`Waiting up to ${options.waitSeconds} s for a message`, { queue: options.queueUrl });
  try {
    const response = await sqs.send(new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: options.waitSeconds,
      VisibilityTimeout: options.visibilityTimeoutSeconds,
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
    }), { abortSignal: options.signal });
    return response.Messages?.[0];
  } catch (error) {
    if (options.signal?.aborted) throw new RunAbortedError();
    throw new Error(`receiving from ${options.queueUrl} failed: ${errorFields(error).name}: ${describeError(error)}`, { cause: error });
  }
}

async function handleMessage(
  message: Message,
  sqs: SQSClient,
  s3: () => S3Client,
  options: QueueJobOptions,
  queueLog: Logger,
): Promise<number> {
  const messageId = message.MessageId ?? '(no id)';
  const log = queueLog.withContext({ messageId });
  log.info(`Received message ${messageId}`, { receiveCount: message.Attributes?.ApproximateReceiveCount });
  const visibility = new VisibilityKeeper(sqs, options.queueUrl, message.ReceiptHandle!, options.visibilityTimeoutSeconds, log);
  try {
    let event;
    try {
      event = parseS3EventMessage(message.Body);
    } catch (error) {
      if (!(error instanceof NotAnS3EventError)) throw error;
      log.error(`Message ${messageId} is not an S3 event notification: ${error.message}`);
      log.error('Leaving it on the queue, visible again at once: after maxReceiveCount receives it moves to the dead-letter queue');
      await visibility.release();
      return EXIT_BAD_INPUT;
    }

    let rejected = 0;
    let superseded = 0;
    let processed = 0;
    let lookAgainAfterSeconds: number | undefined;
    if (event.kind === 'test') {
      log.info(`S3 test event${event.bucket ? ` from bucket ${event.bucket}` : ''}: the notification works; nothing to process`);
    } else {
      if (event.ignored.length > 0) log.info(`Ignoring records that create no object: ${event.ignored.join(', ')}`);
      const fallbackTime = sentTime(message);
      for (const object of event.objects) {
        const outcome = await processObject(object, fallbackTime, messageId, s3, options, log);
        if (outcome === 'rejected') rejected++;
        if (outcome === 'superseded') superseded++;
        if (outcome === 'processed') processed++;
        if (typeof outcome === 'object') lookAgainAfterSeconds = Math.max(lookAgainAfterSeconds ?? 0, outcome.retryAfterSeconds);
      }
    }

    await visibility.stop();
    if (lookAgainAfterSeconds !== undefined) {
      // Possibly the holder's own message (its visibility lapsed): it must stay on the queue, so a
      // later look finds the manifest (and deletes it) or a dead claim (and takes it over).
      const delay = lookAgainDelaySeconds(lookAgainAfterSeconds);
      await visibility.returnAfter(delay);
      log.info(`Another run holds a live claim on an object of message ${messageId}: nothing counted; the message comes back in ${delay} s`);
      if (processed === 0) options.recorder?.markOutcome(RunOutcome.SKIPPED);
      return rejected > 0 ? EXIT_BAD_INPUT : EXIT_OK;
    }
    await deleteMessage(sqs, options.queueUrl, message, log);
    if (rejected > 0) {
      log.error(`${rejected} object(s) could not be processed; see the error report(s). The message is deleted: a retry cannot fix bad input`);
      return EXIT_BAD_INPUT;
    }
    if (superseded > 0) log.info(`${superseded} object version(s) superseded; see the superseded report(s)`);
    if (superseded > 0 && processed === 0) options.recorder?.markOutcome(RunOutcome.SUPERSEDED);
    return EXIT_OK;
  } catch (error) {
    if (options.signal?.aborted || error instanceof RunAbortedError) {
      await visibility.release();
      throw new RunAbortedError('stopped before the message was processed; it is visible again for another Job');
    }
    if (looksTransient(error)) {
      const delay = retryBackoffSeconds(message, options);
      await visibility.returnAfter(delay).then(
        () => log.error(`Leaving message ${messageId} on the queue: the failure looks transient, so it is delivered again in ${delay} s `
          + '(the backoff doubles with every receive), and moves to the dead-letter queue after maxReceiveCount receives'),
        (changeError) => log.error(`Leaving message ${messageId} on the queue: it is delivered again when its visibility timeout ends `
          + `(setting a ${delay} s backoff failed: ${describeError(changeError)})`),
      );
      throw error;
    }
    log.error(`Leaving message ${messageId} on the queue: it is delivered again when its visibility timeout ends, `
      + 'and moves to the dead-letter queue after maxReceiveCount receives');
    throw error;
  } finally {
    await visibility.stop();
  }
}

/** Runs the pipeline for one object, or writes its report; throws for failures worth a retry. */
async function processObject(
  object: S3EventObject,
  fallbackTime: Date,
  messageId: string,
  s3: () => S3Client,
  options: QueueJobOptions,
  messageLog: Logger,
): Promise<ObjectOutcome> {
  options.signal?.throwIfAborted();
  const input = s3Uri(object);
  const runId = options.runId ?? runIdForObject(object, fallbackTime);
  const log = messageLog.withContext({ runId, objectKey: object.key });
  const output = parseOutputLocation(options.output);
  const report = (kind: ReportKind, folder: string | undefined, reason: string): Promise<void> => writeReport(output, folder, kind, {
    run_id: runId, input, ...versionFields(object), reason, time: isoSeconds(new Date()), message_id: messageId,
  }, s3, options.signal, log);
  const reject = (folder: string | undefined, reason: string): Promise<ObjectOutcome> => report('error', folder, reason).then(() => 'rejected');

  if (options.inputBucket !== undefined && object.bucket !== options.inputBucket) {
    // The queue only hears from the input bucket; anything else was sent by hand or misrouted.
    return reject(undefined, `the object is in bucket '${object.bucket}', not the input bucket '${options.inputBucket}'`);
  }
  const place = outputPlaceOf(object.key, options.inputPrefix);
  if (place.kind === 'folder-marker') {
    log.info(`Skipping ${input}: a folder marker, no data`);
    return 'skipped';
  }
  if (place.kind === 'outside') {
    // Its path relative to the input prefix does not exist, so its outputs have no place that
    // cannot collide with another object's; the workload's role cannot read it either.
    return reject(undefined, place.reason);
  }
  const tooLong = outputKeyTooLong(output, place.folder, runId, options.transform);
  if (tooLong !== undefined) return reject(undefined, tooLong);

  const versionHash = options.runId === undefined ? objectVersionHash(object) : undefined;
  const finished = await finishedManifest(output, place.folder, runId, versionHash, s3, options.signal);
  if (finished !== undefined) {
    log.info(`${input} (${versionText(object)}) already has a finished manifest, ${finished}: nothing to do`);
    return 'skipped';
  }

  let claim: HeldClaim | undefined;
  if (output.kind === 's3') {
    const claimed = await claimObjectVersion(s3(), claimLocationOf(output.bucket, output.prefix, object), object, {
      runId, staleAfterSeconds: options.visibilityTimeoutSeconds, signal: options.signal,
    });
    if (claimed.kind === 'live') {
      log.info(`${input} (${versionText(object)}) is being processed by run ${claimed.holder.run_id} on pod ${claimed.holder.pod} `
        + `(claimed at ${claimed.holder.started_at}): nothing to do here`);
      return { kind: 'claimed-elsewhere', retryAfterSeconds: claimed.expiresInSeconds };
    }
    claim = claimed.claim;
    if (claimed.takenOverFrom !== undefined) {
      log.warn(`Took over the claim of run ${claimed.takenOverFrom.run_id} on pod ${claimed.takenOverFrom.pod} `
        + `(claimed at ${claimed.takenOverFrom.started_at}, older than the visibility timeout: that run died)`);
    }
  }
  try {
    return await processClaimedObject(object, runId, input, place.folder, versionHash, report, s3, options, log);
  } finally {
    const failure = await claim?.release();
    if (failure !== undefined) log.warn(`Could not delete the claim ${s3Uri(claim!.location)} (${failure}); it expires after the visibility timeout`);
  }
}

/** Processes an object version this run holds the claim of (or, for a local output, the only run). */
async function processClaimedObject(
  object: S3EventObject,
  runId: string,
  input: string,
  folder: string,
  versionHash: string | undefined,
  report: (kind: ReportKind, folder: string | undefined, reason: string) => Promise<void>,
  s3: () => S3Client,
  options: QueueJobOptions,
  log: Logger,
): Promise<ObjectOutcome> {
  const output = parseOutputLocation(options.output);
  // The holder before this run may have finished between the first look and the claim.
  const finished = await finishedManifest(output, folder, runId, versionHash, s3, options.signal);
  if (finished !== undefined) {
    log.info(`${input} (${versionText(object)}) already has a finished manifest, ${finished}: nothing to do`);
    return 'skipped';
  }
  const place = { folder };
  const reject = (at: string | undefined, reason: string): Promise<ObjectOutcome> => report('error', at, reason).then(() => 'rejected');
  const destination = output.kind === 's3'
    ? `s3://${output.bucket}/${output.prefix}${place.folder}/`
    : join(output.dir, place.folder);
  log.info(`Processing ${input}`, { output: destination, runId, eventTime: object.eventTime, ...versionFields(object) });
  try {
    if (object.versionId !== undefined && await isKeyDeleted(s3(), object, options.signal)) {
      throw new SupersededInputError(`${input} was deleted after version '${object.versionId}' was uploaded (its current version is a delete marker)`);
    }
    const result = await runPipeline({
      input,
      output: destination,
      runId,
      scratchDir: options.scratchDir,
      scratchVolumeBytes: options.scratchVolumeBytes,
      threads: options.threads,
      naValues: options.naValues,
      outputFormat: options.outputFormat,
      tablesOutput: options.output,
      log,
      signal: options.signal,
      s3Client: s3(),
      env: options.env,
      inputVersion: object.versionId !== undefined || object.eTag !== undefined ? { versionId: object.versionId, eTag: object.eTag } : undefined,
      exclusiveManifest: true,
      transform: options.transform,
    });
    // A run that lost the manifest race wrote nothing that counts.
    if (result.finishedElsewhere) return 'skipped';
    options.recorder?.addInput(result.counts);
    await deleteStaleErrorReport(output, folder, runId, s3, log);
    return 'processed';
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (error instanceof SupersededInputError) {
      log.warn(`Superseded: ${describeError(error)}. Nothing to process; the message is deleted`);
      await report('superseded', place.folder, describeError(error));
      return 'superseded';
    }
    if (error instanceof ScratchSpaceError) {
      // A bigger volume fixes it: report, and leave the message for a redrive from the dead-letter queue.
      log.error(`${input} does not fit the scratch volume: ${describeError(error)}`);
      await report('error', place.folder, describeError(error));
      throw error;
    }
    if (!(error instanceof BadInputError)) throw error;
    log.error(`Bad input ${input}: ${describeError(error)}`);
    return reject(place.folder, describeError(error));
  }
}

/** Whether the failure, or one it was caused by, is one a retry may fix (S3/SQS errors, throttling, dropped connections). */
function looksTransient(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ScratchSpaceError || e instanceof BadInputError) return false;
    if (isTransient(e)) return true;
  }
  return false;
}

/** base × 2^(receiveCount − 1) seconds, at most RETRY_BACKOFF_MAX_SECONDS and the visibility timeout. */
function retryBackoffSeconds(message: Message, options: QueueJobOptions): number {
  const receives = Math.max(1, Number(message.Attributes?.ApproximateReceiveCount) || 1);
  const base = options.retryBackoffSeconds ?? DEFAULT_RETRY_BACKOFF_SECONDS;
  const backoff = Math.min(RETRY_BACKOFF_MAX_SECONDS, base * 2 ** Math.min(receives - 1, 20));
  return Math.min(backoff, options.visibilityTimeoutSeconds);
}

/** SQS's longest visibility timeout (12 hours). */
const MAX_VISIBILITY_SECONDS = 43_200;

/** How long a message another run's live claim holds stays hidden: until the claim would expire, at least 30 s. */
function lookAgainDelaySeconds(claimExpiresInSeconds: number): number {
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(30, claimExpiresInSeconds + 5));
}

/** S3's limit on the length of a key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

/** Why the object's output keys cannot exist in S3 (longer than 1,024 bytes), or undefined when they fit. */
function outputKeyTooLong(output: OutputLocation, folder: string, runId: string, transform: Transform | undefined): string | undefined {
  if (output.kind !== 's3') return undefined;
  // The transform's files where it knows them (the default one's otherwise; a command transform
  // knows only its folder, and a program's longer key fails its upload), the manifest and the reports.
  const files = transform === undefined ? Object.values(walkthroughFileNames(runId)) : transform.fileNamesFor?.(runId) ?? [];
  const names = [...files, manifestFileName(runId), reportName('superseded', runId), reportName('error', runId)];
  const longest = names.reduce((a, b) => (Buffer.byteLength(a) >= Buffer.byteLength(b) ? a : b));
  const bytes = Buffer.byteLength(`${output.prefix}${folder}/${longest}`);
  if (bytes <= MAX_KEY_BYTES) return undefined;
  return `the object's output keys would be ${bytes} bytes long (${output.prefix}${folder}/${longest}), `
    + `more than the ${MAX_KEY_BYTES} bytes S3 allows: shorten its key or the output prefix`;
}

/**
 * The location of a finished manifest of this object version in `folder`, if there is one: the
 * run's own manifest, or with a derived run id any manifest whose run id ends in the version's hash
 * (a duplicate event may carry another event time).
 */
async function finishedManifest(
  output: OutputLocation,
  folder: string,
  runId: string,
  versionHash: string | undefined,
  s3: () => S3Client,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const own = manifestFileName(runId);
  const isFinished = (name: string): boolean => name === own
    || (versionHash !== undefined && new RegExp(`^manifest_\\d{8}-\\d{6}-${versionHash}\\.json$`).test(name));
  if (output.kind === 's3') {
    const prefix = `${output.prefix}${folder}/`;
    const keys = await listKeys(s3(), output.bucket, `${prefix}manifest_`, signal);
    const key = keys.find((k) => isFinished(k.slice(prefix.length)));
    return key === undefined ? undefined : s3Uri({ bucket: output.bucket, key });
  }
  const dir = join(output.dir, folder);
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const name = names.find(isFinished);
  return name === undefined ? undefined : join(dir, name);
}

/** The version id and ETag an event names, for reports and logs. */
function versionFields(object: S3EventObject): { version_id?: string; etag?: string } {
  return {
    ...(object.versionId === undefined ? {} : { version_id: object.versionId }),
    ...(object.eTag === undefined ? {} : { etag: object.eTag }),
  };
}

function versionText(object: S3EventObject): string {
  if (object.versionId !== undefined) return `version ${object.versionId}`;
  return object.eTag !== undefined ? `ETag ${object.eTag}` : 'no version named';
}

type ReportKind = 'error' | 'superseded';

function reportName(kind: ReportKind, runId: string): string {
  return `${kind}_${runId}.json`;
}

/** Writes `<kind>_<runId>.json` in `folder` of the output location (its top when undefined). */
async function writeReport(
  output: OutputLocation,
  folder: string | undefined,
  kind: ReportKind,
  report: ErrorReport,
  s3: () => S3Client,
  signal: AbortSignal | undefined,
  log: Logger,
): Promise<void> {
  const name = reportName(kind, report.run_id);
  const bytes = Buffer.from(JSON.stringify(report, null, 2) + '\n', 'utf8');
  if (output.kind === 's3') {
    const location = { bucket: output.bucket, key: `${output.prefix}${folder === undefined ? '' : `${folder}/`}${name}` };
    await putSmallObject(s3(), location, bytes, JSON_CONTENT_TYPE, signal);
    log.info(`Saved ${kind} report: ${s3Uri(location)}`);
    return;
  }
  const dir = folder === undefined ? output.dir : join(output.dir, folder);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), bytes);
  log.info(`Saved ${kind} report: ${join(dir, name)}`);
}

/**
 * Deletes `error_<runId>.json` that an earlier, failed run of this version left beside the outputs
 * (a scratch volume too small, since enlarged): the finished manifest is the answer now. A failure
 * to delete it only leaves it, as a warning.
 */
async function deleteStaleErrorReport(output: OutputLocation, folder: string, runId: string, s3: () => S3Client, log: Logger): Promise<void> {
  const name = reportName('error', runId);
  try {
    if (output.kind === 's3') {
      await s3().send(new DeleteObjectCommand({ Bucket: output.bucket, Key: `${output.prefix}${folder}/${name}` }));
    } else {
      await rm(join(output.dir, folder, name), { force: true });
    }
  } catch (error) {
    log.warn(`Could not delete a stale error report ${name} of an earlier run: ${describeError(error)}`);
  }
}

async function deleteMessage(sqs: SQSClient, queueUrl: string, message: Message, log: Logger): Promise<void> {
  try {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  } catch (error) {
    throw new Error(`deleting message ${message.MessageId} failed (${errorFields(error).name}: ${describeError(error)}); `
      + 'it will be delivered again and its outputs rewritten under the same run id', { cause: error });
  }
  log.info(`Deleted message ${message.MessageId} from the queue`);
}

/** The message's SentTimestamp (the same on every delivery); now if absent. */
function sentTime(message: Message): Date {
  const sent = Number(message.Attributes?.SentTimestamp);
  return Number.isFinite(sent) && sent > 0 ? new Date(sent) : new Date();
}

/** Longest wait for one ChangeMessageVisibility call (it normally takes milliseconds). */
const CHANGE_VISIBILITY_TIMEOUT_MS = 10_000;

/**
 * Keeps a received message invisible while the run works: every third of the visibility timeout
 * it asks SQS for another full timeout, so a slow run keeps its message and a crashed one (no more
 * renewals) gives it back within one timeout. Each call is aborted when it takes longer than the
 * interval between extensions (at most CHANGE_VISIBILITY_TIMEOUT_MS): a stuck connection would
 * otherwise hold the renewal for the SDK's request timeout times its attempts, long after the
 * message came back.
 */
class VisibilityKeeper {
  private readonly timer: NodeJS.Timeout;
  private readonly callTimeoutMs: number;
  private pending: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly receiptHandle: string,
    private readonly seconds: number,
    private readonly log: Logger,
  ) {
    const intervalMs = Math.max(1, Math.floor((seconds * 1000) / 3));
    this.callTimeoutMs = Math.min(CHANGE_VISIBILITY_TIMEOUT_MS, Math.max(1, Math.floor(intervalMs * 0.8)));
    this.timer = setInterval(() => this.extend(), intervalMs);
  }

  /** Stops renewing (waits for a renewal in flight). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.pending;
  }

  /** Stops renewing and makes the message visible again after `seconds`. */
  async returnAfter(seconds: number): Promise<void> {
    await this.stop();
    await this.change(seconds);
  }

  /** Stops renewing and makes the message visible at once, so another consumer can take it now. */
  async release(): Promise<void> {
    await this.stop();
    try {
      await this.change(0);
      this.log.info('Released the message: visible on the queue again');
    } catch (error) {
      this.log.warn(`Could not release the message (${describeError(error)}); it is visible again when its visibility timeout ends`);
    }
  }

  private extend(): void {
    if (this.stopped || this.pending !== undefined) return;
    this.pending = this.change(this.seconds)
      .then(() => this.log.debug(`Extended the message's visibility by ${this.seconds} s`))
      .catch((error) => this.log.warn(`Could not extend the message's visibility: ${describeError(error)}; trying again at the next extension`))
      .finally(() => {
        this.pending = undefined;
      });
  }

  private async change(seconds: number): Promise<void> {
    const timeout = AbortSignal.timeout(this.callTimeoutMs);
    try {
      await this.sqs.send(new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: this.receiptHandle,
        VisibilityTimeout: seconds,
      }), { abortSignal: timeout });
    } catch (error) {
      if (timeout.aborted) throw new Error(`ChangeMessageVisibility got no answer within ${this.callTimeoutMs} ms`, { cause: error });
      throw error;
    }
  }
}
