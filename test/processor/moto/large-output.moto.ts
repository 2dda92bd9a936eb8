/**
 * One output file far past the multipart threshold (issue 24's faults, SPEC §14): a command
 * transform writes 300 MiB into MLOPS_OUTPUT_DIR, and the runtime, a process of its own started as
 * `npm run preprocess` starts it (scripts/preprocess.js with the image's Node flags), publishes it
 * to moto's S3 as a multipart upload of 5 MiB parts read from the file into a few reused buffers:
 * the object's bytes are the program's, the manifest lists its size and sha256, and the runtime's
 * peak RSS, which it logs on its last line, stays bounded (the 128 MB of the benchmark, `npm run
 * bench -- --command`, with a margin for a loaded machine). 300 MiB through moto takes about
 * 15 s, hence this stage (.ci/run, scripts/moto-server.sh) and not `npm test`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { NODE_FLAGS } from '../../../processor/src/runtime/config';
import { HEADER, RUN_ID, TempDirs, objectBytes } from '../helpers';
import { createBuckets, motoS3Client, motoS3Endpoint } from './moto';

const RAW = 'raw-large-output';
const PROCESSED = 'processed-large-output';
const ROOT = join(__dirname, '..', '..', '..');
const BIG_BYTES = 300 * 1024 * 1024;
const PART_BYTES = 5 * 1024 * 1024;
/** The runtime's peak RSS bound here; the benchmark holds it to 128 MB. */
const PEAK_RSS_BOUND_MB = 160;

jest.setTimeout(300_000);
const temp = new TempDirs();
let admin: S3Client;

beforeAll(async () => {
  admin = motoS3Client();
  await createBuckets(admin, [RAW, PROCESSED], [RAW]);
  // scripts/preprocess.js compiles processor/ when it is stale, with the TypeScript compiler in a
  // child process that Linux nonetheless counts in the runtime's maxRSS: compile first, then measure.
  expect((await preprocess(['--help'])).code).toBe(0);
}, 300_000);

afterAll(() => {
  admin?.destroy();
  temp.cleanup();
});

/** Runs `npm run preprocess -- <args>` as npm runs it (without npm): its exit code and JSON log lines. */
async function preprocess(args: string[]): Promise<{ code: number | null; lines: Array<Record<string, any>>; stderr: string }> {
  const child = spawn(process.execPath, [...NODE_FLAGS, join(ROOT, 'scripts', 'preprocess.js'), ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: motoS3Endpoint(),
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const lines = stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  return { code, lines, stderr };
}

async function sha256Of(bucket: string, key: string): Promise<{ sha256: string; bytes: number }> {
  const object = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of object.Body as Readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

test('a 300 MiB output: a multipart upload of 5 MiB parts with the program\'s bytes and sha256, manifest last, the runtime\'s peak RSS bounded', async () => {
  const put = await admin.send(new PutObjectCommand({ Bucket: RAW, Key: 'data/input.csv', Body: `${HEADER}\n1,A,30,50000,2020-01-01,,IT,1\n` }));
  // Numbers, one a line, cut at 300 MiB: every part differs, so parts out of order would change the sha256.
  const program = `seq 1 100000000 | head -c ${BIG_BYTES} > "$MLOPS_OUTPUT_DIR/big.txt"; `
    + 'sha256sum "$MLOPS_OUTPUT_DIR/big.txt" | cut -c1-64 > "$MLOPS_OUTPUT_DIR/big.sha256"';
  const run = await preprocess(['--input', `s3://${RAW}/data/input.csv`, '--output', `s3://${PROCESSED}/large/`, '--run-id', RUN_ID,
    '--scratch-dir', temp.make(), '--', 'sh', '-c', program]);
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });

  const written = (await objectBytes(admin, PROCESSED, `large/${RUN_ID}/big.sha256`)).toString('utf8').trim();
  expect(written).toMatch(/^[0-9a-f]{64}$/);
  const published = await sha256Of(PROCESSED, `large/${RUN_ID}/big.txt`);
  expect(published).toEqual({ sha256: written, bytes: BIG_BYTES });
  // A multipart object's ETag is the MD5 of its parts' MD5s, with the number of parts after a dash.
  const head = await admin.send(new HeadObjectCommand({ Bucket: PROCESSED, Key: `large/${RUN_ID}/big.txt` }));
  expect(head.ETag).toMatch(new RegExp(`-${BIG_BYTES / PART_BYTES}"$`));

  const manifest = JSON.parse((await objectBytes(admin, PROCESSED, `large/manifest_${RUN_ID}.json`)).toString('utf8'));
  expect(manifest.outputs).toContainEqual({ name: 'big.txt', key: `large/${RUN_ID}/big.txt`, bytes: BIG_BYTES, sha256: written });
  expect(manifest.source).toMatchObject({ bucket: RAW, key: 'data/input.csv', version_id: put.VersionId });
  const uploads = run.lines.filter((l) => typeof l.message === 'string' && l.message.startsWith('Uploading to ')).map((l) => l.message);
  expect(uploads[uploads.length - 1]).toBe(`Uploading to s3://${PROCESSED}/large/manifest_${RUN_ID}.json`);

  const last = run.lines[run.lines.length - 1];
  expect(last.message).toBe('Preprocessing completed successfully!');
  expect(last.peakRssMB).toBeGreaterThan(0);
  expect(last.peakRssMB).toBeLessThanOrEqual(PEAK_RSS_BOUND_MB);
});
