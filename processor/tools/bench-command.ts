/**
 * `npm run bench -- --command [--rows 2000000] [--dir .bench]`: the runtime's own overhead for a
 * command transform (SPEC §14, issue 24's Numbers), against s3rver on 127.0.0.1.
 *
 * The program copies its input twice into MLOPS_OUTPUT_DIR (282 MB in, about 560 MB out at
 * 2,000,000 rows) and records how long its copies took. The runtime's overhead is its wall time
 * under /usr/bin/time minus the program's time: stage the input (one exact version, parallel
 * ranged GETs written to a file at their offsets), check, hash and publish the outputs (multipart
 * uploads whose parts are read from the files into reused buffers) and write the manifest, plus
 * Node's start. The baseline moves the same bytes with the plain SDK in this process: one
 * GetObject streamed to a file, then a lib-storage Upload of each output file with its defaults
 * (5 MiB parts, 4 at once, the runtime's figures too), one after the other. Peak
 * RSS is /usr/bin/time's maximum resident set of the runtime's process tree, whose largest
 * process is the runtime (the program is sh and cp).
 */
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
// lib-storage is a devDependency of the repository root; processor/tools is not part of the image.
// eslint-disable-next-line import/no-extraneous-dependencies
import { Upload } from '@aws-sdk/lib-storage';
import { PROCESSOR_CLI, inputFor, measure } from './bench';
import { LOCAL_S3_ACCESS_KEY_ID, LOCAL_S3_SECRET_ACCESS_KEY, localS3Client, startLocalS3 } from './local-aws';
import { REPO_ROOT } from './paths';
import { NODE_FLAGS } from '../src/runtime/config';

const BUCKET = 'bench';
const OVERHEAD_TARGET = 1.5;
const RSS_TARGET_BYTES = 128e6;

export async function benchCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { rows: { type: 'string', default: '2000000' }, seed: { type: 'string', default: '42' }, dir: { type: 'string', default: join(REPO_ROOT, '.bench') } },
  });
  const rows = Number(values.rows);
  const dir = values.dir!;
  mkdirSync(dir, { recursive: true });
  const input = await inputFor(dir, rows, Number(values.seed), 'seed');
  const inputBytes = statSync(input).size;
  const work = mkdtempSync(join(dir, 'command-'));
  const s3Server = await startLocalS3({ buckets: [BUCKET], directory: join(work, 's3') });
  const client = localS3Client(s3Server.endpoint);
  try {
    await new Upload({ client, params: { Bucket: BUCKET, Key: 'in/input.csv', Body: createReadStream(input) } }).done();
    console.error(`${rows.toLocaleString('en-US')} rows, ${mb(inputBytes)} in; load ${loadavg()[0].toFixed(2)}`);

    const baseline = await plainSdk(client, join(work, 'baseline'));
    console.error(`plain SDK (GetObject to a file, 2 × lib-storage Upload): ${baseline.toFixed(2)} s`);

    const programTimeFile = join(work, 'program-ns');
    const script = 's=$(date +%s%N); cp "$MLOPS_INPUT_FILE" "$MLOPS_OUTPUT_DIR/copy-1.csv"; cp "$MLOPS_INPUT_FILE" "$MLOPS_OUTPUT_DIR/copy-2.csv"; '
      + `e=$(date +%s%N); echo $((e - s)) > '${programTimeFile}'`;
    process.env.AWS_ENDPOINT_URL_S3 = s3Server.endpoint;
    process.env.AWS_ACCESS_KEY_ID = LOCAL_S3_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_S3_SECRET_ACCESS_KEY;
    process.env.AWS_REGION = 'us-east-1';
    const run = await measure(process.execPath, [...NODE_FLAGS, PROCESSOR_CLI, '--input', `s3://${BUCKET}/in/input.csv`, '--output', `s3://${BUCKET}/out/`,
      '--run-id', 'bench', '--scratch-dir', join(work, 'scratch'), '--', 'sh', '-c', script], join(work, 'time.txt'));
    if (run.exitCode !== 0) throw new Error(`the runtime exited with ${run.exitCode}: ${run.stderr}`);
    const program = Number(readFileSync(programTimeFile, 'utf8')) / 1e9;
    const overhead = run.wallSeconds - program;
    const ratio = overhead / baseline;
    console.log('');
    console.log('| rows | in | out | runtime wall | program (2 × cp) | runtime overhead | plain SDK | ratio | runtime peak RSS | load 1m |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    console.log(`| ${rows.toLocaleString('en-US')} | ${mb(inputBytes)} | ${mb(2 * inputBytes)} | ${run.wallSeconds.toFixed(2)} s | ${program.toFixed(2)} s | `
      + `${overhead.toFixed(2)} s | ${baseline.toFixed(2)} s | **${ratio.toFixed(2)}×** | ${mb(run.maxRssBytes)} | ${run.loadBefore.toFixed(2)} |`);
    const ok = ratio <= OVERHEAD_TARGET && run.maxRssBytes <= RSS_TARGET_BYTES;
    console.log(ok ? `within the targets (≤ ${OVERHEAD_TARGET}×, ≤ ${mb(RSS_TARGET_BYTES)})` : `OUTSIDE the targets (≤ ${OVERHEAD_TARGET}×, ≤ ${mb(RSS_TARGET_BYTES)})`);
    return ok ? 0 : 1;
  } finally {
    client.destroy();
    await s3Server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Seconds to download the input to a file and upload it twice, with the plain SDK. */
async function plainSdk(client: S3Client, dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'input.csv');
  const started = process.hrtime.bigint();
  const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'in/input.csv' }));
  await pipeline(object.Body as Readable, createWriteStream(file));
  for (const key of ['baseline/copy-1.csv', 'baseline/copy-2.csv']) {
    const params = { Bucket: BUCKET, Key: key, Body: createReadStream(file) };
    await new Upload({ client, params }).done();
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1e6).toLocaleString('en-US')} MB`;
}
