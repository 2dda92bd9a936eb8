/**
 * The command transform against local AWS servers speaking the wire protocols (s3rver for S3,
 * fauxqs for SQS): S3 inputs staged as a file, outputs uploaded (multipart above the part size,
 * many small files a few at once), queue mode's outcomes, and the runtime's end of the handoff to
 * the launcher (TRANSFORM_HANDOFF_DIR) with a protocol-following stand-in (fake-launcher.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startFakeLauncher } from './fake-launcher';
import { main } from '../../../../processor/src/runtime/cli';
import { DOWNLOAD_PART_BYTES } from '../../../../processor/src/runtime/io/s3';
import {
  LOCAL_S3_ACCESS_KEY_ID, LOCAL_S3_SECRET_ACCESS_KEY, LocalS3, LocalSqs, localS3Client, startFaultProxy, startLocalS3, startLocalSqs,
} from '../../../../processor/tools/local-aws';
import { HEADER, RUN_ID, TempDirs, listKeys, objectBytes } from '../../helpers';

jest.setTimeout(120_000);
const RAW = 'raw-data-bucket';
const PROCESSED = 'processed-data-bucket';
const INPUT = `${HEADER}\n1,A,30,50000,2020-01-01,,IT,1\n`;
const temp = new TempDirs();
let s3: LocalS3;
let sqs: LocalSqs;
let admin: S3Client;
const savedEnv = { ...process.env };

beforeAll(async () => {
  [s3, sqs] = await Promise.all([startLocalS3({ buckets: [RAW, PROCESSED] }), startLocalSqs()]);
  admin = localS3Client(s3.endpoint);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: LOCAL_S3_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: LOCAL_S3_SECRET_ACCESS_KEY });
  delete process.env.AWS_PROFILE;
  await admin.send(new PutObjectCommand({ Bucket: RAW, Key: 'data/input.csv', Body: INPUT }));
}, 60_000);

afterAll(async () => {
  admin?.destroy();
  await sqs?.close();
  await s3?.close();
  process.env = savedEnv;
  temp.cleanup();
});

function awsEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ENDPOINT_URL_SQS: sqs.endpoint, LOG_FORMAT: 'json', ...extra };
}

async function runMain(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; log: string }> {
  const lines: string[] = [];
  const code = await main(argv, env, { write: (line) => lines.push(line) });
  return { code, log: lines.join('') };
}

async function manifestAt(key: string): Promise<Record<string, any>> {
  return JSON.parse((await objectBytes(admin, PROCESSED, key)).toString('utf8'));
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

test('an S3 input staged as a file (its ETag given), 300 small files and one of 40 MB (multipart) uploaded with their sha256, manifest last', async () => {
  const program = ['node', '-e', [
    "const fs = require('fs'), p = require('path'), d = process.env.MLOPS_OUTPUT_DIR;",
    "fs.copyFileSync(process.env.MLOPS_INPUT_FILE, p.join(d, 'input-copy.csv'));",
    "fs.writeFileSync(p.join(d, 'env.json'), JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MLOPS_')))));",
    "fs.mkdirSync(p.join(d, 'small'));",
    'for (let i = 0; i < 300; i++) fs.writeFileSync(p.join(d, "small", `s${i}.csv`), `n\\n${i}\\n`);',
    "const big = fs.openSync(p.join(d, 'big.bin'), 'w'); const block = Buffer.alloc(1024 * 1024);",
    'for (let i = 0; i < 40; i++) { block.fill(i); fs.writeSync(big, block); } fs.closeSync(big);',
  ].join('\n')];
  const run = await runMain(['--input', `s3://${RAW}/data/input.csv`, '--output', `s3://${PROCESSED}/one/`, '--run-id', RUN_ID,
    '--scratch-dir', temp.make(), '--', ...program], awsEnv());
  expect(run.code).toBe(0);
  const keys = await listKeys(admin, PROCESSED, 'one/');
  expect(keys).toHaveLength(304);
  expect(keys).toContain(`one/manifest_${RUN_ID}.json`);
  expect((await objectBytes(admin, PROCESSED, `one/${RUN_ID}/input-copy.csv`)).toString()).toBe(INPUT);
  const env = JSON.parse((await objectBytes(admin, PROCESSED, `one/${RUN_ID}/env.json`)).toString());
  expect(env).toMatchObject({ MLOPS_INPUT_URI: `s3://${RAW}/data/input.csv`, MLOPS_RUN_ID: RUN_ID, MLOPS_INPUT_ETAG: expect.stringMatching(/^[0-9a-f]{32}$/) });
  const big = await objectBytes(admin, PROCESSED, `one/${RUN_ID}/big.bin`);
  expect(big.length).toBe(40 * 1024 * 1024);
  const manifest = await manifestAt(`one/manifest_${RUN_ID}.json`);
  expect(manifest.outputs.find((o: any) => o.name === 'big.bin')).toEqual({ name: 'big.bin', key: `one/${RUN_ID}/big.bin`, bytes: big.length, sha256: sha256(big) });
  expect(manifest.outputs).toHaveLength(303);
  expect(manifest.source).toMatchObject({ bucket: RAW, key: 'data/input.csv', etag: env.MLOPS_INPUT_ETAG });
});

test('an S3 input of several parts is staged from ranged GETs written at their offsets: 503s retried, a body cut mid-part resumed, the program gets the exact bytes', async () => {
  const body = Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => `${i},row ${i}\n`).join(''));
  const parts = Math.ceil(body.length / DOWNLOAD_PART_BYTES);
  expect(parts).toBeGreaterThan(2);
  await admin.send(new PutObjectCommand({ Bucket: RAW, Key: 'data/parts.csv', Body: body }));
  const proxy = await startFaultProxy(s3.endpoint);
  try {
    proxy.setFaults({ failNext: { count: 2, status: 503, method: 'GET' }, cutNextGetBody: { afterBytes: 1_000_000 } });
    const run = await runMain(['--input', `s3://${RAW}/data/parts.csv`, '--output', `s3://${PROCESSED}/parts/`, '--run-id', RUN_ID,
      '--scratch-dir', temp.make(), '--', 'sh', '-c', 'sha256sum "$MLOPS_INPUT_FILE" | cut -c1-64 > "$MLOPS_OUTPUT_DIR/input.sha256"'],
    awsEnv({ AWS_ENDPOINT_URL_S3: proxy.endpoint }));
    proxy.setFaults({});
    expect(run.code).toBe(0);
    expect((await objectBytes(admin, PROCESSED, `parts/${RUN_ID}/input.sha256`)).toString('utf8').trim()).toBe(sha256(body));
    const reads = proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('data/parts.csv'));
    // The first part: two 503s retried by the SDK, then a body cut after 1,000,000 bytes, resumed
    // from the byte written to the file (the bytes still in the socket when it was reset are lost).
    expect(reads.slice(0, 3).map((r) => [r.outcome, r.range])).toEqual([503, 503, 'reset'].map((o) => [o, `bytes=0-${DOWNLOAD_PART_BYTES - 1}`]));
    const reached = Number(/interrupted at byte (\d+) .*; resuming/.exec(run.log)?.[1]);
    expect(reached).toBeGreaterThan(0);
    expect(reached).toBeLessThanOrEqual(1_000_000);
    expect(reads.filter((r) => r.range === `bytes=${reached}-${DOWNLOAD_PART_BYTES - 1}` && r.outcome === 206)).toHaveLength(1);
    const rest = Array.from({ length: parts - 1 }, (_, k) => (k + 1) * DOWNLOAD_PART_BYTES)
      .map((from) => `bytes=${from}-${Math.min(body.length, from + DOWNLOAD_PART_BYTES) - 1}`);
    const later = reads.filter((r) => r.range !== undefined && !r.range.startsWith('bytes=0-') && !r.range.startsWith(`bytes=${reached}-`));
    expect(later.map((r) => r.range).sort()).toEqual(rest.sort());
    const { ETag } = await admin.send(new HeadObjectCommand({ Bucket: RAW, Key: 'data/parts.csv' }));
    expect(later.every((r) => r.outcome === 206 && r.ifMatch === ETag)).toBe(true);
  } finally {
    await proxy.close();
  }
});

describe('queue mode', () => {
  async function queueRun(label: string, script: string): Promise<{ code: number; log: string; counts: { visible: number; inFlight: number } }> {
    const queue = await sqs.createQueue(label);
    const prefix = `in/${label}/`;
    await s3.notifyQueue({ bucket: RAW, queueUrl: queue.url, sqs: sqs.client, prefix, suffix: '.csv', testEvent: false });
    await admin.send(new PutObjectCommand({ Bucket: RAW, Key: `${prefix}batch.csv`, Body: INPUT }));
    await s3.notificationsSent();
    const run = await runMain([], awsEnv({
      QUEUE_URL: queue.url,
      INPUT_BUCKET: RAW,
      INPUT_PREFIX: prefix,
      OUTPUT_BUCKET: PROCESSED,
      OUTPUT_PREFIX: `runs/${label}/`,
      RECEIVE_WAIT_SECONDS: '1',
      SCRATCH_DIR: temp.make(),
      TRANSFORM: 'command',
      TRANSFORM_COMMAND: JSON.stringify(['sh', '-c', script]),
    }));
    return { ...run, counts: await sqs.counts(queue.url) };
  }

  test('exit 0: outputs under the object\'s folder and run id, the manifest with the exact version, the message deleted', async () => {
    const run = await queueRun('ok', 'cp "$MLOPS_INPUT_FILE" "$MLOPS_OUTPUT_DIR/out.csv"; echo "{\\"input_rows\\": 1}" > "$MLOPS_METRICS_FILE"');
    expect(run.code).toBe(0);
    expect(run.counts).toEqual({ visible: 0, inFlight: 0 });
    const keys = await listKeys(admin, PROCESSED, 'runs/ok/');
    const manifestKey = keys.find((k) => k.startsWith('runs/ok/batch/manifest_'))!;
    const runId = /manifest_(.*)\.json$/.exec(manifestKey)![1];
    expect(keys).toEqual([`runs/ok/batch/${runId}/out.csv`, manifestKey]);
    const manifest = await manifestAt(manifestKey);
    expect(manifest).toMatchObject({ input_rows: 1, transform: { type: 'command' }, source: { bucket: RAW, key: 'in/ok/batch.csv' } });
  });

  test('exit 2: an error report carrying the program\'s stderr, no manifest, the message deleted', async () => {
    const run = await queueRun('bad', 'echo "no salary column" >&2; exit 2');
    expect(run.code).toBe(2);
    expect(run.counts).toEqual({ visible: 0, inFlight: 0 });
    const keys = await listKeys(admin, PROCESSED, 'runs/bad/');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^runs\/bad\/batch\/error_.*\.json$/);
    expect((await manifestAt(keys[0])).reason).toMatch(/rejected the input \(exit code 2\).*no salary column/s);
  });

  test('exit 1: nothing published, the message stays on the queue', async () => {
    const run = await queueRun('fails', 'echo x > "$MLOPS_OUTPUT_DIR/out.csv"; exit 1');
    expect(run.code).toBe(1);
    expect(run.counts.visible + run.counts.inFlight).toBe(1);
    expect(await listKeys(admin, PROCESSED, 'runs/fails/')).toEqual([]);
  });
});

describe('TRANSFORM_HANDOFF_DIR: the launcher in the transform container runs the program', () => {
  function handoffEnv(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return awsEnv({ TRANSFORM: 'command', TRANSFORM_COMMAND: '["sh","-c","the launcher runs it"]', TRANSFORM_HANDOFF_DIR: dir, ...extra });
  }

  test('exit 0: a request with the MLOPS_* environment, the input staged in the scratch directory, outputs published, shutdown.json with 0', async () => {
    const handoff = temp.make();
    const scratch = temp.make();
    const launcher = startFakeLauncher(handoff, ['sh', '-c', 'cp "$MLOPS_INPUT_FILE" "$MLOPS_OUTPUT_DIR/copy.csv"']);
    const run = await runMain(['--input', `s3://${RAW}/data/input.csv`, '--output', `s3://${PROCESSED}/handoff/`, '--run-id', RUN_ID, '--scratch-dir', scratch],
      handoffEnv(handoff));
    expect(run.code).toBe(0);
    expect(await launcher.exited).toBe(0);
    expect(launcher.heartbeatSeen).toBe(true);
    const [request] = launcher.requests;
    expect(request).toMatchObject({ n: 1, runId: RUN_ID, logFormat: 'json', env: { MLOPS_RUN_ID: RUN_ID, MLOPS_INPUT_URI: `s3://${RAW}/data/input.csv` } });
    expect(request.env.MLOPS_INPUT_FILE.startsWith(scratch)).toBe(true);
    expect(request.env.MLOPS_OUTPUT_DIR.startsWith(scratch)).toBe(true);
    expect((await objectBytes(admin, PROCESSED, `handoff/${RUN_ID}/copy.csv`)).toString()).toBe(INPUT);
    expect((await manifestAt(`handoff/manifest_${RUN_ID}.json`)).transform).toEqual({ type: 'command', command: ['sh', '-c', 'the launcher runs it'] });
  });

  test('exit 2 from the launcher\'s result: bad input with its stderr tail, nothing published, shutdown.json with 2', async () => {
    const handoff = temp.make();
    const launcher = startFakeLauncher(handoff, ['sh', '-c', 'echo x > "$MLOPS_OUTPUT_DIR/x.csv"; echo "bad dates" >&2; exit 2']);
    const run = await runMain(['--input', `s3://${RAW}/data/input.csv`, '--output', `s3://${PROCESSED}/handoff-bad/`, '--run-id', RUN_ID], handoffEnv(handoff));
    expect(run.code).toBe(2);
    expect(run.log).toMatch(/rejected the input \(exit code 2\).*bad dates/);
    expect(await launcher.exited).toBe(2);
    expect(await listKeys(admin, PROCESSED, 'handoff-bad/')).toEqual([]);
  });

  test('a launcher that never starts: exit 1 naming the transform container, shutdown.json written', async () => {
    const handoff = temp.make();
    const run = await runMain(['--input', `s3://${RAW}/data/input.csv`, '--output', `s3://${PROCESSED}/handoff-none/`, '--run-id', RUN_ID],
      handoffEnv(handoff, { TRANSFORM_LAUNCHER_START_TIMEOUT: '1' }));
    expect(run.code).toBe(1);
    expect(run.log).toMatch(/the launcher in the 'transform' container did not start within 1 s/);
    expect(JSON.parse(readFileSync(join(handoff, 'shutdown.json'), 'utf8'))).toEqual({ exitCode: 1 });
  });
});
