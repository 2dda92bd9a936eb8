import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import * as http from 'node:http';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { main } from '../../../../processor/src/runtime/cli';
import { DOWNLOAD_PART_BYTES, putSmallObjectIfAbsent } from '../../../../processor/src/runtime/io/s3';
import { generateMockCsv } from '../../../../processor/tools/generate-mock-data';
import {
  CredentialsEndpoint, FaultProxy, LocalS3,
  localS3Client, startCredentialsEndpoint, startFaultProxy, startLocalS3,
} from '../../../../processor/tools/local-aws';
import { TempDirs, listKeys as listKeysIn, objectBytes, usePodIdentityCredentialsOnly, runCli } from '../../helpers';

const RAW = 'raw-data-bucket';
const PROCESSED = 'processed-data-bucket';
const INPUT_KEY = 'data/mock_data.csv';
const ROOT = join(__dirname, '..', '..', '..', '..');

// Runs move ~40 MB through a local S3; allow for a busy machine.
jest.setTimeout(30_000);

const temp = new TempDirs();
let s3: LocalS3;
let credentials: CredentialsEndpoint;
let proxy: FaultProxy;
let admin: S3Client;
let inputBytes: Buffer;
/** Outputs of a run on the same input from a local file: what every S3 run must reproduce. */
let expected: Map<string, Buffer>;
const savedEnv = { ...process.env };

/** Every run uses this run id (so quality_metrics' timestamp is the same); each writes under its own prefix. */
const RUN = '20240101-120000';
const DATA_OUTPUTS = ['cleaned_data', 'transformed_data', 'department_statistics', 'rejected_rows'].map((n) => `${n}_${RUN}.csv`)
  .concat([`quality_metrics_${RUN}.json`]);

beforeAll(async () => {
  s3 = await startLocalS3({ buckets: [RAW, PROCESSED] });
  credentials = await startCredentialsEndpoint();
  proxy = await startFaultProxy(s3.endpoint);
  // Only the container credentials endpoint may provide credentials, as on EKS with Pod Identity.
  usePodIdentityCredentialsOnly(temp, credentials.env());
  admin = localS3Client(s3.endpoint, { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  // ~12 MB: more than one 8 MiB upload part for cleaned_data and transformed_data.
  const inputPath = join(temp.make(), 'mock_data.csv');
  await generateMockCsv({ rows: 90000, path: inputPath, malformedRows: 5 });
  inputBytes = readFileSync(inputPath);
  await admin.send(new PutObjectCommand({ Bucket: RAW, Key: INPUT_KEY, Body: inputBytes }));

  const localOut = temp.make();
  const code = await main(['--input', inputPath, '--output', localOut, '--run-id', RUN], {}, { write: () => undefined });
  expect(code).toBe(0);
  expected = new Map(readdirSync(localOut).map((f) => [f, readFileSync(join(localOut, f))]));
}, 60_000);

afterAll(async () => {
  admin?.destroy();
  await proxy?.close();
  await credentials?.close();
  await s3?.close();
  process.env = savedEnv;
  temp.cleanup();
});

/** The environment the Job's pod gets (the image reads these), pointed at the local S3 through the proxy. */
function podEnv(label: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    INPUT_BUCKET: RAW,
    INPUT_KEY,
    OUTPUT_BUCKET: PROCESSED,
    OUTPUT_PREFIX: `runs/${label}/`,
    RUN_ID: RUN,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: proxy.endpoint,
    SCRATCH_DIR: temp.make('s3-scratch-'),
    // One thread: these runs are about S3; the first test runs on worker threads (which compile
    // the TypeScript sources when they start here).
    THREADS: '1',
    ...extra,
  };
}

function runJob(label: string, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; log: string }> {
  return runCli(podEnv(label, extra));
}

function listKeys(prefix: string): Promise<string[]> {
  return listKeysIn(admin, PROCESSED, prefix);
}

function getObject(key: string): Promise<Buffer> {
  return objectBytes(admin, PROCESSED, key);
}

/** Every output of the run under `runs/<label>/` equals the local run's bytes. */
async function expectSameOutputs(label: string): Promise<void> {
  for (const name of DATA_OUTPUTS) {
    const actual = await getObject(`runs/${label}/${name}`);
    const local = expected.get(name)!;
    expect({ name, same: actual.equals(local) }).toEqual({ name, same: true });
  }
}

function requestsSince(start: number) {
  return proxy.requests.slice(start);
}

describe('the job against S3, with Pod Identity credentials', () => {
  test('reads the input object and writes every output and the manifest, the same bytes as a local run', async () => {
    const { code, log } = await runJob('clean', { THREADS: '2' });
    expect(code).toBe(0);
    expect(log).toContain(`Downloading s3://${RAW}/${INPUT_KEY}`);
    expect(log).toMatch(/INFO  Threads threads=2\n/);
    expect(log).toContain(`Uploading to s3://${PROCESSED}/runs/clean/cleaned_data_${RUN}.csv`);
    expect(await listKeys('runs/clean/')).toEqual([
      'cleaned_data', 'department_statistics', 'manifest', 'quality_metrics', 'rejected_rows', 'transformed_data',
    ].map((n) => `runs/clean/${n}_${RUN}.${n === 'manifest' || n === 'quality_metrics' ? 'json' : 'csv'}`));
    await expectSameOutputs('clean');
    const manifest = JSON.parse((await getObject(`runs/clean/manifest_${RUN}.json`)).toString());
    expect(manifest.input).toBe(`s3://${RAW}/${INPUT_KEY}`);
    // Lineage (SPEC §11): the exact bytes read. s3rver keeps no versions: no version id.
    const head = await admin.send(new HeadObjectCommand({ Bucket: RAW, Key: INPUT_KEY }));
    expect(manifest.source).toEqual({ bucket: RAW, key: INPUT_KEY, version_id: null, etag: head.ETag!.replace(/"/g, ''), size: head.ContentLength });
    expect(manifest.rejected_rows).toBe(5);
    for (const output of manifest.outputs) {
      expect((await getObject(output.key)).length).toBe(output.bytes);
    }
    expect(credentials.served).toBeGreaterThan(0);
    expect(credentials.refused).toBe(0);
  });

  test('the credentials endpoint answers only the token in the token file', async () => {
    const fetch = (authorization?: string) => new Promise<number>((resolve, reject) => {
      http.get(credentials.url, { headers: authorization === undefined ? {} : { Authorization: authorization } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on('error', reject);
    });
    expect(await fetch(readFileSync(credentials.tokenFile, 'utf8'))).toBe(200);
    expect(await fetch('wrong-token')).toBe(401);
    expect(await fetch()).toBe(401);
  });

  test('the input is read as ranged GETs of whole parts, all pinned to the ETag of the first answer', async () => {
    const start = proxy.requests.length;
    const { code } = await runJob('ranged');
    expect(code).toBe(0);
    const { ETag } = await admin.send(new HeadObjectCommand({ Bucket: RAW, Key: INPUT_KEY }));
    const reads = requestsSince(start).filter((r) => r.method === 'GET' && r.url.includes(INPUT_KEY));
    expect(reads[0]).toMatchObject({ range: `bytes=0-${DOWNLOAD_PART_BYTES - 1}`, outcome: 206 });
    expect(reads[0].ifMatch).toBeUndefined();
    const parts = Math.ceil(inputBytes.length / DOWNLOAD_PART_BYTES);
    expect(parts).toBeGreaterThan(2);
    const ranges = Array.from({ length: parts - 1 }, (_, k) => (k + 1) * DOWNLOAD_PART_BYTES)
      .map((from) => `bytes=${from}-${Math.min(inputBytes.length, from + DOWNLOAD_PART_BYTES) - 1}`);
    expect(reads.slice(1).map((r) => r.range).sort()).toEqual(ranges.sort());
    expect(reads.slice(1).every((r) => r.ifMatch === ETag && r.outcome === 206)).toBe(true);
    await expectSameOutputs('ranged');
  });

  test('503 SlowDown, 500 InternalError and a connection reset mid-body are retried; the outputs are the same bytes', async () => {
    const start = proxy.requests.length;
    proxy.setFaults({ failNext: { count: 2, status: 503, method: 'GET' }, cutNextGetBody: { afterBytes: 1_000_000 } });
    const first = await runJob('flaky-read');
    expect(first.code).toBe(0);
    const reads = requestsSince(start).filter((r) => r.method === 'GET' && r.url.includes(INPUT_KEY));
    // The first part: two 503s retried by the SDK, then a body cut after 1,000,000 bytes, resumed from there.
    expect(reads.slice(0, 3).map((r) => [r.outcome, r.range])).toEqual([503, 503, 'reset'].map((o) => [o, `bytes=0-${DOWNLOAD_PART_BYTES - 1}`]));
    const resumed = reads.filter((r) => r.range === `bytes=1000000-${DOWNLOAD_PART_BYTES - 1}`);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatchObject({ outcome: 206, ifMatch: expect.stringMatching(/^"/) });
    expect(first.log).toMatch(/interrupted at byte 1000000 .*; resuming/);
    await expectSameOutputs('flaky-read');

    const uploadStart = proxy.requests.length;
    proxy.setFaults({ failNext: { count: 3, status: 500, method: 'PUT' } });
    const second = await runJob('flaky-write');
    expect(second.code).toBe(0);
    expect(requestsSince(uploadStart).filter((r) => r.outcome === 500)).toHaveLength(3);
    await expectSameOutputs('flaky-write');
    proxy.setFaults({});
  });

  test('retries are bounded: a store that keeps failing ends the run with exit code 1 and no manifest', async () => {
    const start = proxy.requests.length;
    proxy.setFaults({ failNext: { count: 1000, status: 503 } });
    const { code, log } = await runJob('unavailable', { AWS_MAX_ATTEMPTS: '2' });
    proxy.setFaults({});
    expect(code).toBe(1);
    expect(log).toMatch(new RegExp(`reading s3://${RAW}/${INPUT_KEY} failed: SlowDown`));
    expect(requestsSince(start).filter((r) => r.url.startsWith(`/${RAW}/`))).toHaveLength(2);
    expect(await listKeys('runs/unavailable/')).toEqual([]);
  });

  test('an input object replaced while it is read fails the run (exit code 1) instead of mixing two versions', async () => {
    const start = proxy.requests.length;
    // After the first part has been answered, a new version replaces the object; later parts are asked for after that.
    let replaced: Promise<unknown> | undefined;
    proxy.setFaults({
      beforeGet: async ({ path, range, idle }) => {
        if (!path.endsWith(INPUT_KEY) || range === undefined || range.startsWith('bytes=0-')) return;
        replaced ??= idle().then(() => admin.send(new PutObjectCommand({
          Bucket: RAW,
          Key: INPUT_KEY,
          Body: Buffer.concat([inputBytes, Buffer.from('1,Late,30,50000,2020-01-01,,IT,1\n')]),
        })));
        await replaced;
      },
    });
    const { code, log } = await runJob('replaced');
    proxy.setFaults({});
    await admin.send(new PutObjectCommand({ Bucket: RAW, Key: INPUT_KEY, Body: inputBytes }));
    expect(replaced).toBeDefined();
    expect(code).toBe(1);
    expect(log).toContain(`input object s3://${RAW}/${INPUT_KEY} changed while it was being downloaded`);
    expect(requestsSince(start).some((r) => r.outcome === 412)).toBe(true);
    expect(await listKeys('runs/replaced/')).toEqual([]);
  });

  test('an empty input object is bad input (exit code 2), though S3 answers a range of it with 416 InvalidRange', async () => {
    await admin.send(new PutObjectCommand({ Bucket: RAW, Key: 'data/empty.csv', Body: Buffer.alloc(0) }));
    const start = proxy.requests.length;
    const { code, log } = await runJob('empty', { INPUT_KEY: 'data/empty.csv' });
    expect(code).toBe(2);
    expect(log).toContain('input is empty (0 bytes)');
    expect(requestsSince(start).filter((r) => r.method === 'GET' && r.url.includes('data/empty.csv')).map((r) => [r.outcome, r.range]))
      .toEqual([[416, 'bytes=0-4194303'], [200, undefined]]);
    expect(await listKeys('runs/empty/')).toEqual([]);
  });

  test('NoSuchKey fails at once (exit code 2) naming bucket and key', async () => {
    const start = proxy.requests.length;
    const { code, log } = await runJob('missing', { INPUT_KEY: 'data/nope.csv' });
    expect(code).toBe(2);
    expect(log).toContain(`input object s3://${RAW}/data/nope.csv does not exist (NoSuchKey): bucket '${RAW}', key 'data/nope.csv'`);
    expect(requestsSince(start).filter((r) => r.method === 'GET')).toHaveLength(1);
    expect(await listKeys('runs/missing/')).toEqual([]);
  });

  test('AccessDenied on the input fails at once with exit code 1 (a permission problem, not bad input), naming bucket and key', async () => {
    const start = proxy.requests.length;
    proxy.setFaults({ denyPrefixes: [`${RAW}/data/`] });
    const { code, log } = await runJob('denied-read');
    proxy.setFaults({});
    expect(code).toBe(1);
    expect(log).toContain(`access denied reading s3://${RAW}/${INPUT_KEY} (bucket '${RAW}', key '${INPUT_KEY}')`);
    expect(requestsSince(start).filter((r) => r.url.startsWith(`/${RAW}/`))).toHaveLength(1);
    expect(await listKeys('runs/denied-read/')).toEqual([]);
  });

  test('AccessDenied on an output fails at once (exit code 1) naming bucket and key; no manifest', async () => {
    proxy.setFaults({ denyPrefixes: [`${PROCESSED}/runs/denied-write/transformed_data`] });
    const { code, log } = await runJob('denied-write');
    proxy.setFaults({});
    expect(code).toBe(1);
    expect(log).toContain(`access denied writing s3://${PROCESSED}/runs/denied-write/transformed_data_${RUN}.csv `
      + `(bucket '${PROCESSED}', key 'runs/denied-write/transformed_data_${RUN}.csv')`);
    expect(await listKeys('runs/denied-write/')).toEqual([`runs/denied-write/cleaned_data_${RUN}.csv`]);
  });

  test('SIGTERM during a multipart upload aborts it (AbortMultipartUpload) and exits without a manifest', async () => {
    proxy.setFaults({ holdUploadParts: true });
    const start = proxy.requests.length;
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join('processor', 'src', 'runtime', 'cli.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...podEnv('terminated', { THREADS: '2' }) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await proxy.whenPartHeld();
    child.kill('SIGTERM');
    const code = await exited;
    proxy.releaseHeldParts();
    proxy.setFaults({});

    expect({ code, stderr }).toMatchObject({ code: 143 });
    expect(stderr).toContain(`Aborted multipart upload to s3://${PROCESSED}/runs/terminated/cleaned_data_${RUN}.csv`);
    const requests = requestsSince(start);
    const created = requests.find((r) => r.method === 'POST' && r.url.includes(`cleaned_data_${RUN}.csv?uploads`));
    const aborted = requests.filter((r) => r.method === 'DELETE' && r.url.includes(`cleaned_data_${RUN}.csv?uploadId=`));
    expect(created).toBeDefined();
    expect(aborted).toHaveLength(1);
    expect(await listKeys('runs/terminated/')).toEqual([]);
  }, 60_000);
});

describe('the conditional manifest PUT (If-None-Match: *)', () => {
  test('409 ConditionalRequestConflict (another conditional write in flight) is sent again until S3 answers: a 409 then 200 writes it', async () => {
    const client = localS3Client(proxy.endpoint);
    try {
      const location = { bucket: PROCESSED, key: 'runs/conflict/manifest_x.json' };
      const start = proxy.requests.length;
      proxy.setFaults({ failNext: { count: 1, status: 409, method: 'PUT' } });
      expect(await putSmallObjectIfAbsent(client, location, Buffer.from('{"first":true}'), 'application/json')).toBe(true);
      proxy.setFaults({});
      expect(requestsSince(start).map((r) => r.outcome)).toEqual([409, 200]);
      expect((await objectBytes(admin, PROCESSED, location.key)).toString()).toBe('{"first":true}');
      // Now the key exists: 412, which is the answer "another run wrote it".
      expect(await putSmallObjectIfAbsent(client, location, Buffer.from('{"second":true}'), 'application/json')).toBe(false);
      expect((await objectBytes(admin, PROCESSED, location.key)).toString()).toBe('{"first":true}');
    } finally {
      client.destroy();
    }
  });
});
