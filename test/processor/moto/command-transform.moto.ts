/**
 * The walkthrough's own pandas script as a command transform (examples/transforms/preprocess.py,
 * SPEC §14) against moto's S3 that keeps object versions: its CSV outputs equal the built-in
 * transform's for the same input version, compared as the pandas parity check compares them
 * (processor/tools/compare-outputs.ts: byte for byte, except the intended address_length
 * difference of SPEC §2). pandas comes from PyPI into moto's venv (requirements.txt), whose
 * python scripts/moto-server.sh passes as MOTO_PYTHON; `npm test` needs no pandas.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { compareOutputs, formatReport } from '../../../processor/tools/compare-outputs';
import { generateMockCsv } from '../../../processor/tools/generate-mock-data';
import { RUN_ID, TempDirs, listKeys, objectBytes, runCli } from '../helpers';
import { createBuckets, motoS3Client, motoS3Endpoint, useMotoCredentials } from './moto';

const PYTHON = process.env.MOTO_PYTHON;
const RAW = 'raw-command';
const PROCESSED = 'processed-command';
const SCRIPT = join(__dirname, '..', '..', '..', 'examples', 'transforms', 'preprocess.py');

jest.setTimeout(300_000);
const temp = new TempDirs();
const savedEnv = { ...process.env };
let admin: S3Client;

beforeAll(async () => {
  if (!PYTHON) throw new Error('MOTO_PYTHON is not set: run these through .ci/run (scripts/moto-server.sh)');
  admin = motoS3Client();
  useMotoCredentials();
  await createBuckets(admin, [RAW, PROCESSED], [RAW]);
});

afterAll(() => {
  admin?.destroy();
  process.env = savedEnv;
  temp.cleanup();
});

/** Downloads every object under `prefix` whose key has no further folder into `dir`. */
async function download(prefix: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const key of await listKeys(admin, PROCESSED, prefix)) {
    const name = key.slice(prefix.length);
    if (!name.includes('/')) writeFileSync(join(dir, name), await objectBytes(admin, PROCESSED, key));
  }
}

test('the walkthrough\'s pandas script as a command transform: the same CSV outputs as the built-in transform for one input version', async () => {
  const csv = join(temp.make(), 'mock.csv');
  await generateMockCsv({ rows: 5000, seed: 24, path: csv });
  const put = await admin.send(new PutObjectCommand({ Bucket: RAW, Key: 'data/mock.csv', Body: readFileSync(csv) }));
  const env = { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: motoS3Endpoint(), RUN_ID, SCRATCH_DIR: temp.make(), INPUT_BUCKET: RAW, INPUT_KEY: 'data/mock.csv' };

  const builtIn = await runCli({ ...env, OUTPUT_BUCKET: PROCESSED, OUTPUT_PREFIX: 'builtin/' });
  expect(builtIn.code).toBe(0);
  const command = await runCli({
    ...env, OUTPUT_BUCKET: PROCESSED, OUTPUT_PREFIX: 'pandas/', TRANSFORM: 'command', TRANSFORM_COMMAND: JSON.stringify([PYTHON, SCRIPT]),
  });
  expect(command.log).toMatch(/Preprocessing completed successfully!/);
  expect(command.code).toBe(0);

  const manifest = JSON.parse((await objectBytes(admin, PROCESSED, `pandas/manifest_${RUN_ID}.json`)).toString('utf8'));
  expect(manifest.source).toMatchObject({ bucket: RAW, key: 'data/mock.csv', version_id: put.VersionId });
  expect(manifest.transform).toEqual({ type: 'command', command: [PYTHON, SCRIPT] });
  expect(manifest.outputs.map((o: { key: string }) => o.key).sort()).toEqual(
    ['cleaned_data', 'department_statistics', 'transformed_data'].map((n) => `pandas/${RUN_ID}/${n}_${RUN_ID}.csv`)
      .concat(`pandas/${RUN_ID}/quality_metrics_${RUN_ID}.json`).sort(),
  );

  const ours = join(temp.make(), 'builtin');
  const theirs = join(temp.make(), 'pandas');
  await download('builtin/', ours);
  await download(`pandas/${RUN_ID}/`, theirs);
  const report = await compareOutputs({ dir: ours, runId: RUN_ID }, { dir: theirs, runId: RUN_ID });
  expect(report.files.every((f) => f.mismatchedRecords === 0 && f.problems.length === 0)).toBe(true);
  expect(report.files.map((f) => f.oursRecords)).toEqual(report.files.map((f) => f.pandasRecords));
  if (!report.ok) console.log(formatReport(report));
});
