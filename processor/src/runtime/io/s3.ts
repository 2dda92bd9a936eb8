/**
 * S3 access: the default credential chain (on EKS the Pod Identity agent's endpoint, which the SDK
 * reads from AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE),
 * downloads as parallel ranged GETs that resume after a connection drops mid-body, and uploads
 * that are aborted cleanly.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand, GetObjectCommand, GetObjectCommandOutput, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
  S3Client, S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { S3Location, s3Uri } from '../config';
import { BadInputError, RunAbortedError, SupersededInputError, describeError, errorFields } from '../errors';
import type { Logger } from '../log';
import { awsClientSettings } from './aws-client';
import type { ByteSource } from './source';


/** How often a download part is resumed after its body broke off, or an upload restarted from its file. */
const MAX_RESUMES = 5;
const MAX_UPLOAD_ATTEMPTS = 3;
const RETRY_BASE_DELAY_MS = 200;
/** Part size for multipart uploads (S3's minimum is 5 MiB); with queueSize 4 at most 32 MiB in flight. */
export const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
const UPLOAD_QUEUE_SIZE = 4;

/**
 * An S3 client from the environment. AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) selects a local
 * S3 such as s3rver: path-style addressing, and checksums only where S3 requires them, since
 * emulators do not implement the SDK's default streaming checksums.
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const config: S3ClientConfig = awsClientSettings(env, 'AWS_ENDPOINT_URL_S3', 120_000);
  if (config.endpoint) {
    config.forcePathStyle = true;
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  return new S3Client(config);
}

/** Part size of the parallel ranged GETs that read an input object. */
export const DOWNLOAD_PART_BYTES = 4 * 1024 * 1024;
/** Ranged GETs in flight at once (with their parts, 16 MiB). */
export const DOWNLOAD_CONCURRENCY = 4;

/** An S3 object opened for reading, front to back. */
export interface S3ObjectSource extends ByteSource {
  readonly size: number;
  readonly lastModified: Date | undefined;
  /** The version read (absent in an unversioned bucket). */
  readonly versionId: string | undefined;
  /** The ETag of the bytes read, without quotes. */
  readonly eTag: string | undefined;
}

/** The object version an S3 event names: what a queue-mode read must get, or nothing. */
export interface ObjectVersion {
  /** Every GET asks for this version (a versioned bucket). */
  readonly versionId?: string;
  /** Without a version id, every GET is pinned to this ETag (If-Match): an unversioned bucket. */
  readonly eTag?: string;
}

export interface OpenObjectOptions {
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /**
   * The version to read. When given, a version that is gone (NoSuchVersion, NoSuchKey, a 412 on
   * its ETag) fails as SupersededInputError instead of bad input.
   */
  readonly version?: ObjectVersion;
}

/**
 * Reads an object as parallel ranged GETs of DOWNLOAD_PART_BYTES, DOWNLOAD_CONCURRENCY at a time, handed out in
 * order. With `version`, every GET asks for the event's version id, or, without one, is pinned to
 * the event's ETag (If-Match). Otherwise the first GET (the first part) tells the ETag, and every
 * later GET is pinned to it, so all parts come from one version of the object and a change while
 * reading fails the run (412 PreconditionFailed). Failed requests are retried by the SDK (bounded
 * by maxAttempts); a part whose body breaks off mid-stream resumes from the byte reached (a few
 * times at most). NoSuchKey and NoSuchBucket fail at once as BadInputError naming bucket and key;
 * AccessDenied fails at once as a plain error (exit 1: a permission or propagation problem that
 * a later retry may not have).
 */
export async function openS3Object(client: S3Client, location: S3Location, options: OpenObjectOptions): Promise<S3ObjectSource> {
  const partBytes = DOWNLOAD_PART_BYTES;
  const reader = new PartReader(client, location, options.version, options.log, options.signal);
  try {
    let first: GetObjectCommandOutput;
    try {
      first = await reader.get(`bytes=0-${partBytes - 1}`);
    } catch (error) {
      if (errorName(error) !== 'InvalidRange') throw error;
      // S3 answers a range of an empty object with 416: read it whole to learn it is empty.
      return emptyObject(reader, await reader.get(undefined));
    }
    const size = totalSizeOf(first);
    // Some S3 look-alikes answer a range of an empty object with `bytes 0-0/0` instead of 416.
    if (size === 0) return emptyObject(reader, first);
    if (size === undefined) {
      (first.Body as Readable | undefined)?.destroy();
      throw new Error(`reading ${s3Uri(location)}: the S3 endpoint did not answer the ranged GET with a Content-Range`);
    }
    reader.etag ??= first.ETag;
    return new PartsSource(reader, first, size, partBytes, DOWNLOAD_CONCURRENCY);
  } catch (error) {
    reader.stop();
    throw error;
  }
}

function emptyObject(reader: PartReader, response: GetObjectCommandOutput): S3ObjectSource {
  (response.Body as Readable | undefined)?.destroy();
  reader.stop();
  return {
    size: 0,
    lastModified: response.LastModified,
    versionId: response.VersionId,
    eTag: unquoted(response.ETag),
    read: async () => 0,
    close: async () => undefined,
  };
}

/** `"abc"` → `abc`: S3 events name ETags without the quotes that HTTP headers carry. */
function unquoted(eTag: string | undefined): string | undefined {
  return eTag?.replace(/^"(.*)"$/, '$1');
}

/** `abc` → `"abc"`, the form of an ETag in If-Match. */
function quoted(eTag: string): string {
  return eTag.startsWith('"') ? eTag : `"${eTag}"`;
}

/** The object's parts handed out in order, `concurrency` of them fetched ahead. */
class PartsSource implements S3ObjectSource {
  readonly lastModified: Date | undefined;
  readonly versionId: string | undefined;
  readonly eTag: string | undefined;
  private readonly parts: number;
  private readonly fetched: Array<Promise<Buffer>> = [];
  private nextPart = 0;
  private current: Buffer | undefined;
  private pos = 0;

  constructor(
    private readonly reader: PartReader,
    private first: GetObjectCommandOutput | undefined,
    readonly size: number,
    private readonly partBytes: number,
    private readonly concurrency: number,
  ) {
    this.lastModified = first?.LastModified;
    this.versionId = first?.VersionId;
    this.eTag = unquoted(first?.ETag);
    this.parts = Math.ceil(size / partBytes);
    this.fetchAhead();
  }

  async read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    while (this.current === undefined || this.pos === this.current.length) {
      const next = this.fetched.shift();
      if (next === undefined) return 0;
      if (this.current !== undefined) this.reader.recycle(this.current);
      try {
        this.current = await next;
      } catch (error) {
        this.reader.stop();
        throw error;
      }
      this.pos = 0;
      this.fetchAhead();
    }
    const n = Math.min(length, this.current.length - this.pos);
    this.current.copy(buf, offset, this.pos, this.pos + n);
    this.pos += n;
    return n;
  }

  async close(): Promise<void> {
    this.reader.stop();
    await Promise.all(this.fetched.splice(0).map((p) => p.catch(() => undefined)));
  }

  private fetchAhead(): void {
    while (this.nextPart < this.parts && this.fetched.length < this.concurrency) {
      const start = this.nextPart * this.partBytes;
      const promise = this.reader.part(start, Math.min(this.size, start + this.partBytes), this.first);
      this.first = undefined;
      promise.catch(() => undefined); // observed when the part is read
      this.fetched.push(promise);
      this.nextPart++;
    }
  }
}

/** The object's size from a ranged GET's Content-Range (`bytes 0-4194303/291772119`). */
function totalSizeOf(response: GetObjectCommandOutput): number | undefined {
  const match = /\/(\d+)$/.exec(response.ContentRange ?? '');
  return match ? Number(match[1]) : undefined;
}

/** GETs of one object: single requests, and whole parts with resumption. */
class PartReader {
  /** The ETag every part must have (If-Match). */
  etag: string | undefined;
  private readonly free: Buffer[] = [];
  /** Stops requests in flight when the reading ends early (a failure elsewhere) or the run is aborted. */
  private readonly stopping = new AbortController();
  private readonly onAbort: () => void;

  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
    private readonly version: ObjectVersion | undefined,
    private readonly log: Logger,
    private readonly runSignal: AbortSignal | undefined,
  ) {
    // With a version id every GET reads that version; the ETag is learned from the first.
    if (version?.versionId === undefined && version?.eTag !== undefined) this.etag = quoted(version.eTag);
    this.onAbort = () => this.stopping.abort();
    runSignal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Aborts what is in flight and lets go of the run's signal. */
  stop(): void {
    this.stopping.abort();
    this.runSignal?.removeEventListener('abort', this.onAbort);
  }

  /** Takes back a part's buffer once its bytes have been read. */
  recycle(buf: Buffer): void {
    if (this.free.length < 2) this.free.push(buf);
  }

  /** One GET (retried by the SDK) of the version read, pinned to its ETag once it is known; errors are mapped to the run's errors. */
  async get(range: string | undefined): Promise<GetObjectCommandOutput> {
    try {
      return await this.client.send(new GetObjectCommand({
        Bucket: this.location.bucket,
        Key: this.location.key,
        VersionId: this.version?.versionId,
        Range: range,
        IfMatch: this.etag,
      }), { abortSignal: this.stopping.signal });
    } catch (error) {
      if (this.runSignal?.aborted) throw new RunAbortedError();
      if (errorName(error) === 'InvalidRange') throw error;
      throw this.inputError(error);
    }
  }

  /** The run's error for a failed read: superseded when the event's version is gone. */
  inputError(error: unknown): Error {
    return this.version === undefined ? inputError(error, this.location) : versionReadError(error, this.location, this.version);
  }

  /** Bytes [start, end) of the object; `first` is a response already carrying them. */
  async part(start: number, end: number, first: GetObjectCommandOutput | undefined): Promise<Buffer> {
    const reused = this.free.pop();
    const buf = reused !== undefined && reused.length === end - start ? reused : Buffer.allocUnsafeSlow(end - start);
    let got = 0;
    let response = first;
    for (let resumes = 0; ; resumes++) {
      response ??= await this.get(`bytes=${start + got}-${end - 1}`);
      const body = response.Body as Readable;
      response = undefined;
      try {
        for await (const chunk of body) {
          const piece = chunk as Buffer;
          if (got + piece.length > buf.length) throw new Error(`the response for bytes ${start}-${end - 1} of ${s3Uri(this.location)} is longer than asked`);
          piece.copy(buf, got);
          got += piece.length;
        }
        if (got !== buf.length) throw new TransientS3Error(`the response body ended at byte ${start + got} of ${end}`);
        return buf;
      } catch (error) {
        if (this.runSignal?.aborted) throw new RunAbortedError();
        if (this.stopping.signal.aborted) throw error;
        if (!isTransient(error)) throw this.inputError(error);
        if (resumes >= MAX_RESUMES) {
          throw new Error(`downloading ${s3Uri(this.location)} failed after ${resumes + 1} attempts: ${describeError(error)}`, { cause: error });
        }
        this.log.warn(`Download of ${s3Uri(this.location)} interrupted at byte ${start + got} (${describeError(error)}); resuming`, { attempt: resumes + 2 });
        await sleep(backoffMs(resumes + 1), undefined, { signal: this.stopping.signal }).catch(() => undefined);
      } finally {
        body.destroy();
      }
    }
  }
}

/**
 * Uploads a local file (multipart above one part). A failed upload is restarted from the file a
 * few times when the failure is transient; the bytes are the file's either way. When `signal`
 * aborts, the multipart upload is aborted on S3 (AbortMultipartUpload) before this rejects.
 */
export async function uploadFile(
  client: S3Client,
  location: S3Location,
  path: string,
  options: { size: number; contentType: string; log: Logger; signal?: AbortSignal },
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    const body = createReadStream(path);
    const upload = new Upload({
      client,
      params: { Bucket: location.bucket, Key: location.key, Body: body, ContentLength: options.size, ContentType: options.contentType },
      partSize: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
    });
    let aborting: Promise<void> | undefined;
    const onAbort = (): void => {
      aborting = abortUpload(client, upload, location, options.size, options.log);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
      return;
    } catch (error) {
      if (options.signal?.aborted) {
        await aborting;
        throw new RunAbortedError();
      }
      if (!isTransient(error) || attempt >= MAX_UPLOAD_ATTEMPTS) throw outputError(error, location);
      options.log.warn(`Upload to ${s3Uri(location)} failed (${describeError(error)}); restarting`, { attempt: attempt + 1 });
      await sleep(backoffMs(attempt));
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      body.destroy();
    }
  }
}

/** Puts a small object (the manifest, JSON outputs) from memory; the SDK retries it. */
export async function putSmallObject(
  client: S3Client,
  location: S3Location,
  body: Buffer,
  contentType: string,
  signal?: AbortSignal,
): Promise<void> {
  try {
    const command = new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body, ContentType: contentType });
    await client.send(command, { abortSignal: signal });
  } catch (error) {
    if (signal?.aborted) throw new RunAbortedError();
    throw outputError(error, location);
  }
}

/**
 * Puts a small object only if no object has its key (If-None-Match: *), so that of two runs
 * racing to write it one wins. False when it already existed (412 PreconditionFailed). A 409
 * ConditionalRequestConflict means another conditional write of the key is still in flight and
 * may yet fail: it says nothing about who wins, so the PUT is sent again (with backoff, at most
 * CONDITIONAL_CONFLICT_ATTEMPTS times) until S3 answers 200 or 412.
 */
export async function putSmallObjectIfAbsent(
  client: S3Client,
  location: S3Location,
  body: Buffer,
  contentType: string,
  signal?: AbortSignal,
): Promise<boolean> {
  return putConditionally(client, location, body, contentType, { IfNoneMatch: '*' }, signal);
}

/**
 * Puts a small object only if the object under its key still has this ETag (If-Match), e.g. to
 * take over a claim whose holder died: of two runs taking it over one wins. False on 412, or 404
 * when the object is gone. Retries 409 as putSmallObjectIfAbsent does.
 */
export async function putSmallObjectIfMatch(
  client: S3Client,
  location: S3Location,
  body: Buffer,
  contentType: string,
  eTag: string,
  signal?: AbortSignal,
): Promise<boolean> {
  return putConditionally(client, location, body, contentType, { IfMatch: eTag }, signal);
}

/** Attempts of a conditional PUT that S3 answers with 409 ConditionalRequestConflict. */
export const CONDITIONAL_CONFLICT_ATTEMPTS = 6;
/** The first wait after a 409; it doubles with every further 409 (0.1 + 0.2 + … + 1.6 s in all). */
const CONDITIONAL_CONFLICT_BACKOFF_MS = 100;

async function putConditionally(
  client: S3Client,
  location: S3Location,
  body: Buffer,
  contentType: string,
  condition: { readonly IfNoneMatch?: string; readonly IfMatch?: string },
  signal?: AbortSignal,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      const command = new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body, ContentType: contentType, ...condition });
      await client.send(command, { abortSignal: signal });
      return true;
    } catch (error) {
      if (signal?.aborted) throw new RunAbortedError();
      const name = errorName(error);
      if (name === 'PreconditionFailed' || (condition.IfMatch !== undefined && (name === 'NoSuchKey' || name === 'NotFound'))) return false;
      if (name !== 'ConditionalRequestConflict' || attempt >= CONDITIONAL_CONFLICT_ATTEMPTS) throw outputError(error, location);
    }
    await sleep(CONDITIONAL_CONFLICT_BACKOFF_MS * 2 ** (attempt - 1), undefined, { signal }).catch(() => {
      throw new RunAbortedError();
    });
  }
}

/**
 * Stops an upload and makes sure S3 drops its parts. lib-storage's own abort resolves `done()`
 * at once but sends AbortMultipartUpload only after in-flight parts finish, which can be after
 * the process has exited, so it is sent here directly.
 */
async function abortUpload(client: S3Client, upload: Upload, location: S3Location, size: number, log: Logger): Promise<void> {
  await upload.abort();
  // A multipart upload gets its id from the first request; wait briefly if that is still in flight.
  for (let waited = 0; upload.uploadId === undefined && size > UPLOAD_PART_BYTES && waited < 5000; waited += 50) {
    await sleep(50);
  }
  if (upload.uploadId === undefined) return;
  try {
    await client.send(new AbortMultipartUploadCommand({ Bucket: location.bucket, Key: location.key, UploadId: upload.uploadId }));
    log.info(`Aborted multipart upload to ${s3Uri(location)}`, { uploadId: upload.uploadId });
  } catch (error) {
    log.warn(`Could not abort multipart upload to ${s3Uri(location)}: ${describeError(error)}`, { uploadId: upload.uploadId });
  }
}

/** Raised for a response that ended early; worth resuming. */
class TransientS3Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientS3Error';
  }
}

const TRANSIENT_NAMES = new Set([
  'TransientS3Error', 'SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeoutException',
  'TimeoutError', 'ThrottlingException', 'Throttling',
]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
  'ENETUNREACH', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET',
]);

/** Whether retrying may help: server errors, throttling, dropped connections. */
export function isTransient(error: unknown): boolean {
  const { name, message, code } = errorFields(error);
  if (TRANSIENT_NAMES.has(name) || (code !== undefined && TRANSIENT_CODES.has(code))) return true;
  const status = httpStatusOf(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if ((error as { $retryable?: unknown } | undefined)?.$retryable) return true;
  // A body cut off mid-stream surfaces as a plain "aborted" error from node:http.
  return /\b(aborted|socket hang up|premature close)\b/i.test(message);
}

function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function errorName(error: unknown): string {
  return errorFields(error).name;
}

function inputError(error: unknown, location: S3Location): Error {
  const name = errorName(error);
  const status = httpStatusOf(error);
  if (name === 'NoSuchKey' || (name === 'NotFound' && status === 404)) {
    return new BadInputError(`input object ${s3Uri(location)} does not exist (NoSuchKey): bucket '${location.bucket}', key '${location.key}'`, { cause: error });
  }
  if (name === 'NoSuchBucket') {
    return new BadInputError(`input bucket '${location.bucket}' does not exist (NoSuchBucket) reading key '${location.key}'`, { cause: error });
  }
  if (name === 'AccessDenied') {
    // A missing grant or one not yet propagated: the message must come back (and reach the
    // dead-letter queue, where it can be redriven), so this is not bad input.
    return new Error(
      `access denied reading ${s3Uri(location)} (bucket '${location.bucket}', key '${location.key}'): ${describeError(error)}; `
      + 'check the role\'s s3:GetObject (and s3:GetObjectVersion) grant on the input prefix',
      { cause: error },
    );
  }
  if (name === 'PreconditionFailed') {
    return new Error(`input object ${s3Uri(location)} changed while it was being downloaded`, { cause: error });
  }
  return new Error(`reading ${s3Uri(location)} failed: ${name}: ${describeError(error)}`, { cause: error });
}

/** Errors of a read of the version an event named: a version that is gone is superseded. */
function versionReadError(error: unknown, location: S3Location, version: ObjectVersion): Error {
  const name = errorName(error);
  const named = version.versionId !== undefined ? `version '${version.versionId}'` : `ETag ${quoted(version.eTag ?? '')}`;
  const superseded = (why: string): Error => new SupersededInputError(`${s3Uri(location)} ${named} is no longer there: ${why}`, { cause: error });
  if (name === 'NoSuchVersion') return superseded('the version was deleted (NoSuchVersion)');
  // GET of a version that is a delete marker.
  if (name === 'MethodNotAllowed') return superseded('the version is a delete marker');
  if (name === 'PreconditionFailed') return superseded('a newer upload replaced the object (PreconditionFailed on its ETag)');
  if (name === 'NoSuchKey' || (name === 'NotFound' && httpStatusOf(error) === 404)) return superseded('the object was deleted (NoSuchKey)');
  return inputError(error, location);
}

/**
 * Whether the key's current version is a delete marker (or the key is gone): an event's version
 * that was deleted since is superseded, even though it can still be read by its version id.
 */
export async function isKeyDeleted(client: S3Client, location: S3Location, signal?: AbortSignal): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal: signal });
    return false;
  } catch (error) {
    if (signal?.aborted) throw new RunAbortedError();
    if (httpStatusOf(error) === 404) return true;
    throw inputError(error, location);
  }
}

/** The keys under `prefix` of a bucket (all pages). */
export async function listKeys(client: S3Client, bucket: string, prefix: string, signal?: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    try {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } catch (error) {
      if (signal?.aborted) throw new RunAbortedError();
      throw outputError(error, { bucket, key: prefix });
    }
  } while (token !== undefined);
  return keys;
}

function outputError(error: unknown, location: S3Location): Error {
  if (error instanceof RunAbortedError) return error;
  const name = errorName(error);
  if (name === 'AccessDenied') {
    return new Error(`access denied writing ${s3Uri(location)} (bucket '${location.bucket}', key '${location.key}'): ${describeError(error)}`, { cause: error });
  }
  if (name === 'NoSuchBucket') {
    return new Error(`output bucket '${location.bucket}' does not exist (NoSuchBucket) writing key '${location.key}'`, { cause: error });
  }
  return new Error(`writing ${s3Uri(location)} failed: ${name}: ${describeError(error)}`, { cause: error });
}

function backoffMs(attempt: number): number {
  return RETRY_BASE_DELAY_MS * 2 ** Math.min(attempt - 1, 5);
}
