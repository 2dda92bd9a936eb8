import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { runIdForObject } from '../../../processor/src/runtime/s3-event';
import {
  CredentialsEndpoint, FaultProxy, LocalQueue, LocalS3, LocalSqs,
  encodeS3EventKey, localS3Client, startCredentialsEndpoint, startFaultProxy, startLocalS3, startLocalSqs,
} from '../../../processor/tools/local-aws';
import { HEADER, TempDirs, listKeys as listKeysIn, objectBytes, usePodIdentityCredentialsOnly, profileCell, runCli } from '../helpers';

const RAW = 'raw-data-bucket';
const PROCESSED = 'processed-data-bucket';
const ROOT = join(__dirname, '..', '..', '..');
/** Derived run ids: the event time, then 8 hex digits of bucket, key and version. */
const DERIVED_RUN_ID = /^\d{8}-\d{6}-[0-9a-f]{8}$/;
const OUTPUT_NAMES = ['cleaned_data', 'department_statistics', 'manifest', 'quality_metrics', 'rejected_rows', 'transformed_data'];

// Child processes and real servers on a busy machine.
jest.setTimeout(60_000);

const temp = new TempDirs();
let s3: LocalS3;
let sqs: LocalSqs;
let credentials: CredentialsEndpoint;
let proxy: FaultProxy;
/** In front of the SQS server, for the tests that make it hang. */
let sqsProxy: FaultProxy;
let admin: S3Client;
const savedEnv = { ...process.env };

const GOOD_CSV = [
  HEADER,
  `1,Name_1,34.0,52000.0,2019-03-02,${profileCell({ address: 'Street 9, City 4', phone: '5551234567', email: 'a@example.com' })},IT,100.0`,
  '2,Name_2,,61000.0,2020-01-02,,HR,',
  '3,Name_3,51.0,,2021-05-06,,,200.0',
].join('\n') + '\n';
/** No salary column: bad input (exit 2). */
const MISSING_COLUMN_CSV = 'id,name,age,hire_date,profile,department,bonus\n1,A,30,2020-01-01,,IT,1\n';

beforeAll(async () => {
  [s3, sqs, credentials] = await Promise.all([startLocalS3({ buckets: [RAW, PROCESSED] }), startLocalSqs(), startCredentialsEndpoint()]);
  proxy = await startFaultProxy(s3.endpoint);
  sqsProxy = await startFaultProxy(sqs.endpoint);
  // Only the container credentials endpoint may provide credentials, as on EKS with Pod Identity.
  usePodIdentityCredentialsOnly(temp, credentials.env());
  admin = localS3Client(s3.endpoint);
}, 60_000);

afterAll(async () => {
  admin?.destroy();
  await proxy?.close();
  await sqsProxy?.close();
  await credentials?.close();
  await sqs?.close();
  await s3?.close();
  process.env = savedEnv;
  temp.cleanup();
});

interface Workload {
  readonly label: string;
  readonly queue: LocalQueue;
  readonly dlq: LocalQueue;
  /** The input prefix, `in/<label>/`. */
  readonly prefix: string;
}

/**
 * A queue with a dead-letter queue, fed by S3 event notifications for objects created under
 * `in/<label>/` ending in `.csv`, as the onUpload trigger configures them.
 */
async function workload(label: string, options: { maxReceiveCount?: number; testEvent?: boolean } = {}): Promise<Workload> {
  const dlq = await sqs.createQueue(`${label}-dlq`);
  const queue = await sqs.createQueue(label, { deadLetter: { arn: dlq.arn, maxReceiveCount: options.maxReceiveCount ?? 3 } });
  const prefix = `in/${label}/`;
  await s3.notifyQueue({ bucket: RAW, queueUrl: queue.url, sqs: sqs.client, prefix, suffix: '.csv', testEvent: options.testEvent ?? false });
  return { label, queue, dlq, prefix };
}

async function upload(key: string, body: string): Promise<void> {
  await admin.send(new PutObjectCommand({ Bucket: RAW, Key: key, Body: body }));
  await s3.notificationsSent();
}

/** The ScaledJob's container environment, pointed at the local servers (S3 through the fault proxy). */
function jobEnv(w: Workload, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    QUEUE_URL: w.queue.url,
    INPUT_BUCKET: RAW,
    INPUT_PREFIX: w.prefix,
    OUTPUT_BUCKET: PROCESSED,
    OUTPUT_PREFIX: `runs/${w.label}/`,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    LOG_LEVEL: 'INFO',
    SCRATCH_DIR: temp.make('queue-scratch-'),
    AWS_ENDPOINT_URL_S3: proxy.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    RECEIVE_WAIT_SECONDS: '1',
    ...extra,
  };
}

function runJob(w: Workload, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; log: string }> {
  return runCli(jobEnv(w, extra));
}

function listKeys(prefix: string): Promise<string[]> {
  return listKeysIn(admin, PROCESSED, prefix);
}

async function getJson(key: string): Promise<Record<string, any>> {
  return JSON.parse((await objectBytes(admin, PROCESSED, key)).toString('utf8'));
}

/** The run id in output keys `<folder><name>_<runId>.<ext>`. */
function runIdOf(keys: readonly string[], folder: string): string {
  const name = keys.find((k) => ['manifest_', 'error_', 'superseded_'].some((n) => k.startsWith(`${folder}${n}`)));
  expect(name).toBeDefined();
  return name!.slice(name!.lastIndexOf('_') + 1, -'.json'.length);
}

function outputKeys(folder: string, runId: string): string[] {
  return OUTPUT_NAMES.map((n) => `${folder}${n}_${runId}.${n === 'manifest' || n === 'quality_metrics' ? 'json' : 'csv'}`);
}

/** A hand-made S3 event message, as S3 writes them. */
function s3Event(records: Array<{ bucket?: string; key: string; eTag?: string }>): string {
  return JSON.stringify({
    Records: records.map((r) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2026-01-02T03:04:05.000Z',
      eventName: 'ObjectCreated:Put',
      s3: { s3SchemaVersion: '1.0', bucket: { name: r.bucket ?? RAW }, object: { key: encodeS3EventKey(r.key), size: 10, eTag: r.eTag ?? 'abc123' } },
    })),
  });
}

describe('queue mode: one S3 event message per Job', () => {
  test('the S3 test event that comes when the notification is configured: deleted, exit 0, nothing written', async () => {
    const w = await workload('test-event', { testEvent: true });
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 1, inFlight: 0 });
    const { code, log } = await runJob(w);
    expect(code).toBe(0);
    expect(log).toContain(`S3 test event from bucket ${RAW}: the notification works; nothing to process`);
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(await listKeys('runs/test-event/')).toEqual([]);
  });

  test('no message within the wait: exit 0, nothing written', async () => {
    const w = await workload('empty');
    const { code, log } = await runJob(w);
    expect(code).toBe(0);
    expect(log).toContain('No message on the queue within 1 s; nothing to do');
    expect(await listKeys('runs/empty/')).toEqual([]);
  });

  test('an upload is processed to <outputPrefix><key relative to the input prefix, without extension>/; then its message is deleted', async () => {
    const w = await workload('good');
    // A space and a plus: the event carries `team+a/hr+2026%2Bq1.csv`.
    await upload(`${w.prefix}team a/hr 2026+q1.csv`, GOOD_CSV);
    await upload(`${w.prefix}second.csv`, GOOD_CSV);
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 2, inFlight: 0 });

    const { code, log } = await runJob(w);
    expect(code).toBe(0);
    const folder = 'runs/good/team a/hr 2026+q1/';
    const keys = await listKeys('runs/good/');
    const runId = runIdOf(keys, folder);
    expect(runId).toMatch(DERIVED_RUN_ID);
    expect(keys).toEqual(outputKeys(folder, runId));
    const manifest = await getJson(`${folder}manifest_${runId}.json`);
    expect(manifest).toMatchObject({ run_id: runId, input: `s3://${RAW}/${w.prefix}team a/hr 2026+q1.csv`, input_rows: 3, total_rows: 3 });
    expect(log).toMatch(/Deleted message \S+ from the queue/);
    // One Job, one message: the second upload waits for its own Job.
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 1, inFlight: 0 });

    expect((await runJob(w)).code).toBe(0);
    expect(await listKeys('runs/good/second/')).toHaveLength(OUTPUT_NAMES.length);
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('OUTPUT_FORMAT=parquet: each upload\'s tables go to <outputPrefix>tables/<name>/run_date=<date>/<runId>.parquet, one folder per table for all uploads', async () => {
    const w = await workload('tables');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    await upload(`${w.prefix}it/q1.csv`, GOOD_CSV);
    for (let job = 0; job < 2; job++) expect((await runJob(w, { OUTPUT_FORMAT: 'parquet' })).code).toBe(0);
    const keys = await listKeys('runs/tables/');
    const runIds = ['runs/tables/hr/', 'runs/tables/it/q1/'].map((folder) => runIdOf(keys, folder));
    // A derived run id names the upload's event time (YYYYMMDD-HHMMSS-<hash>): its date is the run date.
    const runDate = (id: string): string => `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}`;
    const tables = ['cleaned_data', 'transformed_data', 'department_statistics']
      .flatMap((t) => runIds.map((id) => `runs/tables/tables/${t}/run_date=${runDate(id)}/${id}.parquet`));
    expect(keys.filter((k) => k.startsWith('runs/tables/tables/')).sort()).toEqual([...tables].sort());
    const manifest = await getJson(`runs/tables/hr/manifest_${runIds[0]}.json`);
    expect(manifest.outputs.filter((o: { format?: string }) => o.format === 'parquet').map((o: { key: string }) => o.key))
      .toEqual(tables.filter((k) => k.endsWith(`${runIds[0]}.parquet`)));
    expect(keys.filter((k) => k.startsWith('runs/tables/hr/')).map((k) => k.replace(/_\d{8}-\d{6}-[0-9a-f]+\.(csv|json)$/, '')))
      .toEqual(['runs/tables/hr/manifest', 'runs/tables/hr/quality_metrics', 'runs/tables/hr/rejected_rows']);
  });

  test('a redelivered message finds the finished manifest of its object version and does nothing, saying so', async () => {
    const w = await workload('redelivered');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    // Keep a copy of the message as S3 sent it, then put it back.
    const { Messages } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: w.queue.url, WaitTimeSeconds: 1 }));
    const body = Messages![0].Body!;
    const release = { QueueUrl: w.queue.url, ReceiptHandle: Messages![0].ReceiptHandle, VisibilityTimeout: 0 };
    await sqs.client.send(new ChangeMessageVisibilityCommand(release));

    expect((await runJob(w)).code).toBe(0);
    const first = await listKeys('runs/redelivered/');
    const manifestKey = first.find((k) => k.includes('manifest_'))!;
    const manifest = await getJson(manifestKey);
    await sqs.client.send(new SendMessageCommand({ QueueUrl: w.queue.url, MessageBody: body }));
    // A duplicate event of the same upload that S3 stamped with another time: the same version.
    const later = JSON.parse(body);
    later.Records[0].eventTime = '2030-01-01T00:00:00.000Z';
    await sqs.client.send(new SendMessageCommand({ QueueUrl: w.queue.url, MessageBody: JSON.stringify(later) }));
    const start = proxy.requests.length;
    for (const delivery of ['redelivered', 'duplicate']) {
      const { code, log } = await runJob(w);
      expect({ delivery, code }).toEqual({ delivery, code: 0 });
      expect(log).toContain(`s3://${RAW}/${w.prefix}hr.csv (ETag ${JSON.parse(body).Records[0].s3.object.eTag}) already has a finished manifest, `
        + `s3://${PROCESSED}/${manifestKey}: nothing to do`);
    }

    // Nothing was read or written again.
    expect(proxy.requests.slice(start).filter((r) => r.method !== 'GET' || r.url.includes(`${w.prefix}hr.csv`))).toEqual([]);
    expect(await listKeys('runs/redelivered/')).toEqual(first);
    expect(await getJson(manifestKey)).toEqual(manifest);
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('two Jobs racing on one object: the manifest is written only if absent (If-None-Match: *), so one finishes it', async () => {
    const w = await workload('race');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    const { Messages } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: w.queue.url, WaitTimeSeconds: 1 }));
    const release = { QueueUrl: w.queue.url, ReceiptHandle: Messages![0].ReceiptHandle, VisibilityTimeout: 0 };
    await sqs.client.send(new ChangeMessageVisibilityCommand(release));
    proxy.setFaults({ holdGets: { keySuffix: `${w.prefix}hr.csv` } });
    const run = runJob(w);
    await proxy.whenGetHeld();
    // The other Job finishes first while this one is reading.
    const event = JSON.parse(Messages![0].Body!).Records[0];
    const object = { bucket: RAW, key: `${w.prefix}hr.csv`, eventName: event.eventName, eventTime: event.eventTime, eTag: event.s3.object.eTag, sequencer: event.s3.object.sequencer };
    const runId = runIdForObject(object, new Date());
    const otherManifest = `runs/race/hr/manifest_${runId}.json`;
    await admin.send(new PutObjectCommand({ Bucket: PROCESSED, Key: otherManifest, Body: '{"written_by":"the other Job"}\n' }));
    proxy.releaseHeldGets();
    const { code, log } = await run;
    proxy.setFaults({});

    expect(code).toBe(0);
    expect(log).toContain(`Another run finished s3://${RAW}/${w.prefix}hr.csv first: its manifest manifest_${runId}.json stands`);
    expect(proxy.requests.some((r) => r.method === 'PUT' && r.url.startsWith(`/${PROCESSED}/${otherManifest}`) && r.outcome === 412)).toBe(true);
    expect(await getJson(otherManifest)).toEqual({ written_by: 'the other Job' });
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('an object replaced by a newer upload (unversioned bucket) is superseded: reported, message deleted, exit 0', async () => {
    const w = await workload('superseded');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    await upload(`${w.prefix}hr.csv`, [HEADER, GOOD_CSV.split('\n')[1]].join('\n') + '\n');
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 2, inFlight: 0 });

    // The first event names the first upload's ETag: the GET pinned to it gets 412.
    const { code, log } = await runJob(w);
    expect(code).toBe(0);
    expect(log).toMatch(/Superseded: .*a newer upload replaced the object \(PreconditionFailed on its ETag\)/);
    const keys = await listKeys('runs/superseded/');
    const runId = runIdOf(keys, 'runs/superseded/hr/');
    expect(keys).toEqual([`runs/superseded/hr/superseded_${runId}.json`]);
    expect(await getJson(keys[0])).toMatchObject({ run_id: runId, input: `s3://${RAW}/${w.prefix}hr.csv`, etag: expect.any(String) });
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 1, inFlight: 0 });

    // The second event is the current object: processed, its manifest naming its ETag.
    expect((await runJob(w)).code).toBe(0);
    const manifestKey = (await listKeys('runs/superseded/hr/manifest_'))[0];
    const manifest = await getJson(manifestKey);
    expect(manifest).toMatchObject({ input_rows: 1, source: { bucket: RAW, key: `${w.prefix}hr.csv`, version_id: null } });
  });

  test('an object deleted before its Job ran is superseded, not bad input', async () => {
    const w = await workload('deleted');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    await admin.send(new DeleteObjectCommand({ Bucket: RAW, Key: `${w.prefix}hr.csv` }));
    const { code, log } = await runJob(w);
    expect(code).toBe(0);
    expect(log).toMatch(/Superseded: .*the object was deleted \(NoSuchKey\)/);
    expect((await listKeys('runs/deleted/hr/')).map((k) => k.replace(/_.*$/, ''))).toEqual(['runs/deleted/hr/superseded']);
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('AccessDenied on the input is not bad input: exit 1 and the message stays, for the dead-letter queue', async () => {
    const w = await workload('denied');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    proxy.setFaults({ denyPrefixes: [`${RAW}/${w.prefix}`] });
    const { code, log } = await runJob(w, { VISIBILITY_TIMEOUT_SECONDS: '1' });
    proxy.setFaults({});
    expect(code).toBe(1);
    expect(log).toContain(`access denied reading s3://${RAW}/${w.prefix}hr.csv`);
    expect(log).toContain('Leaving message');
    expect(await listKeys('runs/denied/')).toEqual([]);
    expect((await peek(w.queue)).receiveCount).toBe(2);
  });

  test('an input that cannot fit the scratch volume fails at once with a report naming the volume and the size it needs; exit 1; a later success deletes the stale report', async () => {
    const w = await workload('no-room');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    const scratch = temp.make('queue-scratch-');
    const { code, log } = await runJob(w, { SCRATCH_DIR: scratch, SCRATCH_VOLUME_SIZE: '1Mi', VISIBILITY_TIMEOUT_SECONDS: '1' });
    expect(code).toBe(1);
    const keys = await listKeys('runs/no-room/');
    const runId = runIdOf(keys, 'runs/no-room/hr/');
    expect(keys).toEqual([`runs/no-room/hr/error_${runId}.json`]);
    const { reason } = await getJson(keys[0]);
    expect(reason).toMatch(new RegExp(`^the scratch volume ${scratch} has 1\\.0 MiB free, and an input of \\d+ bytes needs about .*: set scratchVolumeSize to at least '1Gi'$`));
    expect(log).toContain('Leaving message');
    expect(await sqs.counts(w.queue.url)).toMatchObject({ inFlight: 1 });

    // The volume is enlarged and the message comes back: the run succeeds and its stale error report goes.
    const again = await runJob(w, { SCRATCH_DIR: scratch, RECEIVE_WAIT_SECONDS: '5' });
    expect({ code: again.code, log: again.log }).toMatchObject({ code: 0 });
    const after = await listKeys('runs/no-room/');
    expect(after).toContain(`runs/no-room/hr/manifest_${runId}.json`);
    expect(after).not.toContain(`runs/no-room/hr/error_${runId}.json`);
  });

  test('an input key whose output keys would pass 1,024 bytes fails before processing, reported at the top of the output prefix', async () => {
    const w = await workload('long-key');
    const key = `${w.prefix}${'d/'.repeat(400)}${'x'.repeat(170)}.csv`;
    await upload(key, GOOD_CSV);
    const start = proxy.requests.length;
    const { code, log } = await runJob(w);
    expect({ code, log }).toMatchObject({ code: 2 });
    const keys = await listKeys('runs/long-key/');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^runs\/long-key\/error_\d{8}-\d{6}-[0-9a-f]{8}\.json$/);
    expect((await getJson(keys[0])).reason).toMatch(/output keys would be 10\d\d bytes long .* more than the 1024 bytes S3 allows/);
    expect(proxy.requests.slice(start).filter((r) => r.method === 'GET' && r.url.startsWith(`/${RAW}/`))).toEqual([]);
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('in JSON format every line of a run carries the message id, and the object\'s lines its key and run id', async () => {
    const w = await workload('json-logs');
    await upload(`${w.prefix}a\nERROR fake.csv`, GOOD_CSV);
    const { code, log } = await runJob(w, { LOG_FORMAT: 'json' });
    expect({ code, log }).toMatchObject({ code: 0 });
    const lines = log.trim().split('\n').map((line) => JSON.parse(line));
    const received = lines.findIndex((l) => String(l.message).startsWith('Received message'));
    const messageId = lines[received].messageId;
    expect(typeof messageId).toBe('string');
    expect(lines.slice(received).filter((l) => l.messageId !== messageId)).toEqual([]);
    const objectLines = lines.filter((l) => l.objectKey !== undefined);
    expect(objectLines.length).toBeGreaterThan(5);
    expect(objectLines.every((l) => l.objectKey === `${w.prefix}a\nERROR fake.csv` && DERIVED_RUN_ID.test(l.runId))).toBe(true);
    expect(objectLines.map((l) => l.message)).toContain('Preprocessing completed successfully!');
  });

  test('in text format a key with a line break cannot forge a log line', async () => {
    const w = await workload('text-logs');
    await upload(`${w.prefix}a\nERROR fake.csv`, GOOD_CSV);
    const { code, log } = await runJob(w);
    expect(code).toBe(0);
    expect(log).toContain(`Processing s3://${RAW}/${w.prefix}a\\nERROR fake.csv`);
    expect(log).not.toMatch(/^ERROR fake/m);
  });

  test('bad input: an error report where the outputs would go, the message deleted, exit 2', async () => {
    const w = await workload('bad');
    await upload(`${w.prefix}broken.csv`, MISSING_COLUMN_CSV);
    const { code, log } = await runJob(w);
    expect(code).toBe(2);
    const keys = await listKeys('runs/bad/');
    const runId = runIdOf(keys, 'runs/bad/broken/');
    expect(keys).toEqual([`runs/bad/broken/error_${runId}.json`]);
    const report = await getJson(keys[0]);
    expect(report).toMatchObject({ run_id: runId, input: `s3://${RAW}/${w.prefix}broken.csv` });
    expect(report.reason).toMatch(/salary/);
    expect(Date.parse(report.time)).not.toBeNaN();
    expect(typeof report.message_id).toBe('string');
    expect(log).toContain('The message is deleted: a retry cannot fix bad input');
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect(await sqs.counts(w.dlq.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('objects outside the input prefix or bucket are rejected with a report at the top of the output prefix; exit 2', async () => {
    const w = await workload('outside');
    await sqs.client.send(new SendMessageCommand({
      QueueUrl: w.queue.url,
      MessageBody: s3Event([{ key: 'elsewhere/x.csv' }, { bucket: 'someone-elses-bucket', key: `${w.prefix}y.csv` }]),
    }));
    const { code } = await runJob(w);
    expect(code).toBe(2);
    const keys = await listKeys('runs/outside/');
    expect(keys).toHaveLength(2);
    expect(keys.every((k) => /^runs\/outside\/error_\d{8}-\d{6}-[0-9a-f]{8}\.json$/.test(k))).toBe(true);
    const reasons = await Promise.all(keys.map(async (k) => (await getJson(k)).reason as string));
    expect(reasons.sort()).toEqual([
      `the object is in bucket 'someone-elses-bucket', not the input bucket '${RAW}'`,
      `the object key 'elsewhere/x.csv' is not under the input prefix '${w.prefix}'`,
    ]);
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('a message that is not an S3 event is left for the dead-letter queue: exit 2, visible again at once', async () => {
    const w = await workload('not-an-event', { maxReceiveCount: 2 });
    await sqs.client.send(new SendMessageCommand({ QueueUrl: w.queue.url, MessageBody: 'hello' }));
    for (const receive of [1, 2]) {
      const { code, log } = await runJob(w);
      expect({ receive, code }).toEqual({ receive, code: 2 });
      expect(log).toContain('is not an S3 event notification: the message is not JSON: hello');
      expect(await sqs.counts(w.queue.url)).toEqual({ visible: 1, inFlight: 0 });
    }
    // The third receive moves it to the dead-letter queue instead of delivering it.
    expect((await runJob(w)).code).toBe(0);
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
    const { Messages } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: w.dlq.url, WaitTimeSeconds: 1 }));
    expect(Messages?.map((m) => m.Body)).toEqual(['hello']);
  });

  test('a transient S3 failure leaves the message: exit 1, delivered again, then in the dead-letter queue after maxReceiveCount', async () => {
    const w = await workload('transient', { maxReceiveCount: 2 });
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    proxy.setFaults({ failNext: { count: 1000, status: 503 } });
    try {
      // A visibility timeout of 1 s brings the message back soon; the wait outlasts it.
      const settings = { AWS_MAX_ATTEMPTS: '1', VISIBILITY_TIMEOUT_SECONDS: '1', RECEIVE_WAIT_SECONDS: '5' };
      for (const receive of [1, 2]) {
        const { code, log } = await runJob(w, settings);
        expect({ receive, code }).toEqual({ receive, code: 1 });
        expect(log).toContain(`receiveCount=${receive}`);
        expect(log).toMatch(/SlowDown/);
        expect(log).toContain('Leaving message');
      }
      expect((await runJob(w, settings)).code).toBe(0);
    } finally {
      proxy.setFaults({});
    }
    expect(await listKeys('runs/transient/')).toEqual([]);
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
    const dead = JSON.parse((await peek(w.dlq)).body);
    expect(dead.Records[0].s3.object.key).toBe(`${w.prefix}hr.csv`);
  });

  test('a transient failure gives the message back after a short backoff (RETRY_BACKOFF_SECONDS × 2^(receives − 1)), not after the whole visibility timeout', async () => {
    const w = await workload('backoff', { maxReceiveCount: 5 });
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    proxy.setFaults({ failNext: { count: 1000, status: 503 } });
    try {
      // Without the backoff the message would stay hidden for the whole 600 s visibility timeout.
      const { code, log } = await runJob(w, { AWS_MAX_ATTEMPTS: '1', VISIBILITY_TIMEOUT_SECONDS: '600', RETRY_BACKOFF_SECONDS: '2' });
      expect(code).toBe(1);
      expect(log).toContain('the failure looks transient, so it is delivered again in 2 s');
    } finally {
      proxy.setFaults({});
    }
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 1 });
    const { Messages } = await sqs.client.send(new ReceiveMessageCommand({
      QueueUrl: w.queue.url, WaitTimeSeconds: 20, MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }));
    expect(Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  test('bad configuration is not transient: an input larger than the scratch volume keeps the whole visibility timeout', async () => {
    const w = await workload('no-backoff');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    const { code, log } = await runJob(w, { VISIBILITY_TIMEOUT_SECONDS: '600', RETRY_BACKOFF_SECONDS: '1', SCRATCH_VOLUME_SIZE: '1' });
    expect(code).toBe(1);
    expect(log).not.toContain('looks transient');
    expect(log).toContain('it is delivered again when its visibility timeout ends');
  });

  test('a slow run keeps its message invisible (the visibility is extended) and deletes it when done', async () => {
    const w = await workload('slow');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    proxy.setFaults({ holdGets: { keySuffix: `${w.prefix}hr.csv` } });
    const run = runJob(w, { VISIBILITY_TIMEOUT_SECONDS: '2', LOG_LEVEL: 'debug' });
    await proxy.whenGetHeld();
    // Three visibility timeouts pass while the download hangs: without the extensions the
    // message would come back and one of these receives would get it.
    const stolen: string[] = [];
    const until = Date.now() + 6_500;
    while (Date.now() < until) {
      const { Messages } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: w.queue.url, WaitTimeSeconds: 1 }));
      stolen.push(...(Messages ?? []).map((m) => m.MessageId!));
    }
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 1 });
    proxy.releaseHeldGets();
    const { code, log } = await run;
    proxy.setFaults({});

    expect(stolen).toEqual([]);
    expect(code).toBe(0);
    expect(log.match(/Extended the message's visibility by 2 s/g)!.length).toBeGreaterThanOrEqual(2);
    expect(await listKeys('runs/slow/hr/')).toHaveLength(OUTPUT_NAMES.length);
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('a stuck ChangeMessageVisibility call does not stall the extensions after it', async () => {
    const w = await workload('stuck-heartbeat');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    // The first extension's request is never answered, as on a dead connection.
    sqsProxy.setFaults({ holdSqsAction: { action: 'ChangeMessageVisibility', count: 1 } });
    proxy.setFaults({ holdGets: { keySuffix: `${w.prefix}hr.csv` } });
    const run = runJob(w, { VISIBILITY_TIMEOUT_SECONDS: '3', LOG_LEVEL: 'debug', AWS_ENDPOINT_URL_SQS: sqsProxy.endpoint });
    await proxy.whenGetHeld();
    const stolen: string[] = [];
    const until = Date.now() + 8_000;
    while (Date.now() < until) {
      const { Messages } = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: w.queue.url, WaitTimeSeconds: 1 }));
      stolen.push(...(Messages ?? []).map((m) => m.MessageId!));
    }
    proxy.releaseHeldGets();
    const { code, log } = await run;
    proxy.setFaults({});
    sqsProxy.setFaults({});

    expect(stolen).toEqual([]);
    expect(code).toBe(0);
    expect(log).toMatch(/Could not extend the message's visibility: ChangeMessageVisibility got no answer within \d+ ms/);
    expect(log.match(/Extended the message's visibility by 3 s/g)!.length).toBeGreaterThanOrEqual(2);
    expect(sqsProxy.requests.filter((r) => r.outcome === 'held')).toHaveLength(1);
  });

  test('SIGTERM stops the run (exit 143) and gives the message back at once', async () => {
    const w = await workload('terminated');
    await upload(`${w.prefix}hr.csv`, GOOD_CSV);
    proxy.setFaults({ holdGets: { keySuffix: `${w.prefix}hr.csv` } });
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join('processor', 'src', 'runtime', 'cli.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...jobEnv(w) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await proxy.whenGetHeld();
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 0, inFlight: 1 });
    child.kill('SIGTERM');
    const code = await exited;
    proxy.releaseHeldGets();
    proxy.setFaults({});

    expect({ code, stderr }).toMatchObject({ code: 143 });
    expect(stderr).toContain('Released the message: visible on the queue again');
    // The default visibility timeout is 300 s: visible now only because it was released.
    expect(await sqs.counts(w.queue.url)).toEqual({ visible: 1, inFlight: 0 });
    expect(await listKeys('runs/terminated/')).toEqual([]);
  });
});

/** Receives a message and makes it visible again at once; its body and receive count. */
async function peek(queue: LocalQueue): Promise<{ body: string; receiveCount: number }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const { Messages } = await sqs.client.send(new ReceiveMessageCommand({
      QueueUrl: queue.url,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }));
    const message = Messages?.[0];
    if (message) {
      await sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
      return { body: message.Body!, receiveCount: Number(message.Attributes?.ApproximateReceiveCount) };
    }
    await sleep(100);
  }
  throw new Error(`no message on ${queue.url}`);
}
