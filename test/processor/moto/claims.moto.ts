/**
 * One run per object version (processor/src/runtime/claim.ts) against moto's server mode, which
 * does what S3 does with conditional writes: If-None-Match: * on PutObject (412 when the key
 * exists) and If-Match on PutObject (412 when the ETag differs). s3rver ignores both, so these
 * tests live here, in the `npx projen test:moto` stage. SQS is the local SQS server (fauxqs).
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { claimLocationOf } from '../../../processor/src/runtime/claim';
import { LocalQueue, LocalSqs, encodeS3EventKey, startLocalSqs } from '../../../processor/tools/local-aws';
import { HEADER, TempDirs, listKeys, objectBytes, profileCell, runCli } from '../helpers';
import { createBuckets, motoS3Client, motoS3Endpoint, useMotoCredentials } from './moto';

const RAW = 'claims-raw';
const PROCESSED = 'claims-processed';
const PREFIX = 'in/';

jest.setTimeout(120_000);

const temp = new TempDirs();
let sqs: LocalSqs;
let admin: S3Client;
const savedEnv = { ...process.env };

beforeAll(async () => {
  admin = motoS3Client();
  useMotoCredentials();
  await createBuckets(admin, [RAW, PROCESSED]);
  sqs = await startLocalSqs();
});

afterAll(async () => {
  admin?.destroy();
  await sqs?.close();
  process.env = savedEnv;
  temp.cleanup();
});

interface Upload {
  readonly key: string;
  readonly eTag: string;
  readonly size: number;
  /** S3 gives every event of an upload a sequencer; moto sends no events, so the test makes one per upload. */
  readonly sequencer: string;
}

let uploads = 0;

async function upload(key: string, body: string): Promise<Upload> {
  const answer = await admin.send(new PutObjectCommand({ Bucket: RAW, Key: key, Body: body }));
  uploads++;
  return { key, eTag: answer.ETag!.replace(/"/g, ''), size: Buffer.byteLength(body), sequencer: `0065${uploads.toString(16).toUpperCase().padStart(12, '0')}` };
}

function eventOf(object: Upload): string {
  return JSON.stringify({
    Records: [{
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2026-03-04T05:06:07.000Z',
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: RAW },
        object: { key: encodeS3EventKey(object.key), size: object.size, eTag: object.eTag, sequencer: object.sequencer },
      },
    }],
  });
}

async function queueWith(name: string, ...bodies: string[]): Promise<LocalQueue> {
  const queue = await sqs.createQueue(name);
  for (const body of bodies) await sqs.client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
  return queue;
}

function runJob(queue: LocalQueue, outputPrefix: string, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; log: string }> {
  return runCli({
    QUEUE_URL: queue.url,
    INPUT_BUCKET: RAW,
    INPUT_PREFIX: PREFIX,
    OUTPUT_BUCKET: PROCESSED,
    OUTPUT_PREFIX: outputPrefix,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: motoS3Endpoint(),
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    RECEIVE_WAIT_SECONDS: '1',
    SCRATCH_DIR: temp.make('claims-scratch-'),
    THREADS: '1',
    ...extra,
  });
}

/** Rows whose department is the token `NA`: missing with NA_VALUES=default, the text `NA` with NA_VALUES=empty. */
function naRows(count: number): string {
  const lines = [HEADER];
  for (let i = 1; i <= count; i++) {
    const department = i % 3 === 0 ? 'NA' : `D${i % 7}`;
    lines.push(`${i},Name_${i},${20 + (i % 40)}.0,${40000 + i}.0,2020-01-02,${profileCell({ address: `Street ${i}`, phone: '5551234567', email: 'a@example.com' })},${department},`);
  }
  return lines.join('\n') + '\n';
}

async function json(key: string): Promise<Record<string, any>> {
  return JSON.parse((await objectBytes(admin, PROCESSED, key)).toString('utf8'));
}

/** Whether every file the manifest lists is on S3 with the bytes (and CSV rows) it says. */
async function describedFiles(manifest: Record<string, any>): Promise<Array<{ key: string; matches: boolean }>> {
  const checks = [];
  for (const output of manifest.outputs as Array<{ key: string; bytes: number; rows?: number }>) {
    const bytes = await objectBytes(admin, PROCESSED, output.key);
    const csvRows = output.key.endsWith('.csv') ? bytes.toString('utf8').split('\n').filter((l) => l !== '').length - 1 : undefined;
    checks.push({ key: output.key, matches: bytes.length === output.bytes && (output.rows === undefined || csvRows === output.rows) });
  }
  return checks;
}

describe('one run per object version: claims (moto)', () => {
  test('two Jobs racing on one version with different NA settings publish one consistent set: one manifest, and it describes the files', async () => {
    const object = await upload(`${PREFIX}race.csv`, naRows(30_000));
    const body = eventOf(object);
    const [first, second] = await Promise.all([queueWith('race-a', body), queueWith('race-b', body)]);
    const runs = await Promise.all([
      runJob(first, 'runs/race/', { NA_VALUES: 'default' }),
      runJob(second, 'runs/race/', { NA_VALUES: 'empty' }),
    ]);

    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const processed = runs.filter((r) => r.log.includes(`Processing s3://${RAW}/${PREFIX}race.csv`));
    expect(processed).toHaveLength(1);
    const other = runs.find((r) => r !== processed[0])!;
    expect(other.log).toMatch(/is being processed by run \S+ on pod|already has a finished manifest/);
    const manifests = await listKeys(admin, PROCESSED, 'runs/race/race/manifest_');
    expect(manifests).toHaveLength(1);
    const checks = await describedFiles(await json(manifests[0]));
    expect(checks).toEqual(checks.map((c) => ({ ...c, matches: true })));
    // The claim is gone once the holder's manifest is written.
    expect(await listKeys(admin, PROCESSED, 'runs/race/_claims/')).toEqual([]);
  });

  test('a live claim: the run counts nothing, says so, exits 0, writes no data file and gives the message back for later', async () => {
    const object = await upload(`${PREFIX}held.csv`, naRows(10));
    const queue = await queueWith('live-claim', eventOf(object));
    const claim = claimLocationOf(PROCESSED, 'runs/held/', { bucket: RAW, eventName: 'ObjectCreated:Put', ...object });
    const holder = { run_id: 'the-holder', pod: 'pod-a', started_at: new Date().toISOString(), input: `s3://${RAW}/${object.key}`, version: 'x' };
    await admin.send(new PutObjectCommand({ Bucket: claim.bucket, Key: claim.key, Body: JSON.stringify(holder) }));

    const { code, log } = await runJob(queue, 'runs/held/');
    expect(code).toBe(0);
    expect(log).toContain('is being processed by run the-holder on pod pod-a');
    expect(log).toMatch(/nothing counted; the message comes back in \d+ s/);
    expect(await listKeys(admin, PROCESSED, 'runs/held/')).toEqual([claim.key]);
    // Not deleted, and hidden (the delay), not visible at once.
    expect(await sqs.counts(queue.url)).toEqual({ visible: 0, inFlight: 1 });
  });

  test('a dead holder\'s claim (older than the visibility timeout) is taken over on its ETag, and the version processed', async () => {
    const object = await upload(`${PREFIX}dead.csv`, naRows(10));
    const queue = await queueWith('dead-holder', eventOf(object));
    const claim = claimLocationOf(PROCESSED, 'runs/dead/', { bucket: RAW, eventName: 'ObjectCreated:Put', ...object });
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
    const holder = { run_id: 'the-dead-run', pod: 'pod-gone', started_at: twoHoursAgo, input: `s3://${RAW}/${object.key}`, version: 'x' };
    await admin.send(new PutObjectCommand({ Bucket: claim.bucket, Key: claim.key, Body: JSON.stringify(holder) }));

    const { code, log } = await runJob(queue, 'runs/dead/', { VISIBILITY_TIMEOUT_SECONDS: '600' });
    expect({ code, log }).toMatchObject({ code: 0 });
    expect(log).toContain('Took over the claim of run the-dead-run on pod pod-gone');
    expect(await listKeys(admin, PROCESSED, 'runs/dead/dead/manifest_')).toHaveLength(1);
    expect(await listKeys(admin, PROCESSED, 'runs/dead/_claims/')).toEqual([]);
    expect(await sqs.counts(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('an unversioned bucket: the idempotency key is the ETag and the event\'s sequencer (moto)', () => {
  test('X, then Y, then X again: the third upload is processed (its newest manifest names X); a redelivery of it is not', async () => {
    const x = naRows(3);
    const y = naRows(5);
    const runs: Array<{ code: number; log: string }> = [];
    for (const body of [x, y, x]) {
      const object = await upload(`${PREFIX}again.csv`, body);
      runs.push(await runJob(await queueWith(`again-${runs.length}`, eventOf(object)), 'runs/again/'));
    }
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(runs[2].log).toContain(`Processing s3://${RAW}/${PREFIX}again.csv`);
    const manifests = await listKeys(admin, PROCESSED, 'runs/again/again/manifest_');
    expect(manifests).toHaveLength(3);
    const rows = await Promise.all(manifests.map(async (k) => (await json(k)).input_rows));
    expect(rows.sort()).toEqual([3, 3, 5]);
  });

  test('a redelivered event (the same sequencer) finds its finished manifest', async () => {
    const object = await upload(`${PREFIX}redelivered.csv`, naRows(3));
    const queue = await queueWith('redelivered', eventOf(object), eventOf(object));
    expect((await runJob(queue, 'runs/redelivered/')).code).toBe(0);
    const second = await runJob(queue, 'runs/redelivered/');
    expect(second.code).toBe(0);
    expect(second.log).toContain('already has a finished manifest');
    expect(await listKeys(admin, PROCESSED, 'runs/redelivered/redelivered/manifest_')).toHaveLength(1);
  });
});
