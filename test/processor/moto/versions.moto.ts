/**
 * Queue mode against an S3 server that keeps object versions: moto's server mode (s3rver keeps
 * none). Not part of the README's `npm test`: `.ci/run` installs moto (test/processor/moto/
 * requirements.txt), starts `moto_server` on 127.0.0.1, and runs these with
 * MOTO_S3_ENDPOINT=http://127.0.0.1:<port> through `npx projen test:moto`.
 *
 * What moto's server does as S3 does here, and these tests rely on: versioning, GET and HEAD of a
 * version id (NoSuchVersion when it is gone), ranged GETs of a version, If-Match on GET (412), a
 * delete marker on DELETE without a version id, and If-None-Match: * on PUT (412 when the key
 * exists). moto sends no event notifications: the tests write the S3 event a bucket would send
 * from the PUT's answer (version id, ETag, size).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { putSmallObjectIfAbsent, DOWNLOAD_PART_BYTES } from '../../../processor/src/runtime/io/s3';
import { generateMockCsv } from '../../../processor/tools/generate-mock-data';
import { LocalQueue, LocalSqs, encodeS3EventKey, startLocalSqs } from '../../../processor/tools/local-aws';
import { HEADER, TempDirs, listKeys, objectBytes, profileCell, runCli } from '../helpers';
import { createBuckets, motoS3Client, motoS3Endpoint, useMotoCredentials } from './moto';

const VERSIONED = 'raw-versioned';
const UNVERSIONED = 'raw-unversioned';
const PROCESSED = 'processed';
const PREFIX = 'in/';

jest.setTimeout(120_000);

const temp = new TempDirs();
let sqs: LocalSqs;
let admin: S3Client;
const savedEnv = { ...process.env };

const ROWS = [
  `1,Name_1,34.0,52000.0,2019-03-02,${profileCell({ address: 'Street 9', phone: '5551234567', email: 'a@example.com' })},IT,100.0`,
  '2,Name_2,,61000.0,2020-01-02,,HR,',
  '3,Name_3,51.0,,2021-05-06,,,200.0',
];
const THREE_ROWS = [HEADER, ...ROWS].join('\n') + '\n';
const ONE_ROW = [HEADER, ROWS[0]].join('\n') + '\n';

beforeAll(async () => {
  admin = motoS3Client();
  useMotoCredentials();
  await createBuckets(admin, [VERSIONED, UNVERSIONED, PROCESSED], [VERSIONED]);
  sqs = await startLocalSqs();
});

afterAll(async () => {
  admin?.destroy();
  await sqs?.close();
  process.env = savedEnv;
  temp.cleanup();
});

interface Put {
  readonly key: string;
  readonly versionId?: string;
  readonly eTag: string;
  readonly size: number;
}

async function put(bucket: string, key: string, body: string | Buffer): Promise<Put> {
  const answer = await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return { key, versionId: answer.VersionId, eTag: answer.ETag!.replace(/"/g, ''), size: Buffer.byteLength(body) };
}

/** The event S3 sends for a PUT: version id (versioned bucket), ETag without quotes, size. */
function eventOf(bucket: string, object: Put): string {
  return JSON.stringify({
    Records: [{
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2026-03-04T05:06:07.000Z',
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: bucket },
        object: {
          key: encodeS3EventKey(object.key),
          size: object.size,
          eTag: object.eTag,
          ...(object.versionId ? { versionId: object.versionId } : {}),
        },
      },
    }],
  });
}

async function queueWith(name: string, body: string): Promise<LocalQueue> {
  const queue = await sqs.createQueue(name);
  await sqs.client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
  return queue;
}

function runJob(queue: LocalQueue, inputBucket: string, outputPrefix: string): Promise<{ code: number; log: string }> {
  return runCli({
    QUEUE_URL: queue.url,
    INPUT_BUCKET: inputBucket,
    INPUT_PREFIX: PREFIX,
    OUTPUT_BUCKET: PROCESSED,
    OUTPUT_PREFIX: outputPrefix,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: motoS3Endpoint(),
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    RECEIVE_WAIT_SECONDS: '1',
    SCRATCH_DIR: temp.make('moto-scratch-'),
    THREADS: '2',
  });
}

async function json(key: string): Promise<Record<string, any>> {
  return JSON.parse((await objectBytes(admin, PROCESSED, key)).toString('utf8'));
}

describe('queue mode reads exactly the object version its event names (moto, versioned bucket)', () => {
  test('v1 then v2 uploaded, v1\'s event queued: the run reads v1 (all its ranged GETs), and its manifest names v1', async () => {
    // Larger than two download parts, so that several ranged GETs must all read v1.
    const big = join(temp.make(), 'v1.csv');
    const summary = await generateMockCsv({ rows: 40_000, seed: 7, path: big });
    const v1Bytes = readFileSync(big);
    expect(v1Bytes.length).toBeGreaterThan(DOWNLOAD_PART_BYTES);
    const v1 = await put(VERSIONED, `${PREFIX}hr.csv`, v1Bytes);
    const v2 = await put(VERSIONED, `${PREFIX}hr.csv`, ONE_ROW);
    expect(v1.versionId).toBeDefined();
    expect(v2.versionId).not.toBe(v1.versionId);
    const queue = await queueWith('v1-then-v2', eventOf(VERSIONED, v1));

    const { code, log } = await runJob(queue, VERSIONED, 'runs/v1/');
    expect({ code, log }).toMatchObject({ code: 0 });
    const keys = await listKeys(admin, PROCESSED, 'runs/v1/hr/manifest_');
    expect(keys).toHaveLength(1);
    const manifest = await json(keys[0]);
    expect(manifest.input_rows).toBe(summary.rows);
    expect(manifest.source).toEqual({ bucket: VERSIONED, key: `${PREFIX}hr.csv`, version_id: v1.versionId, etag: v1.eTag, size: v1Bytes.length });
    expect(await sqs.counts(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('v1 then a delete marker, v1\'s event queued: superseded (reported, message deleted, exit 0), not bad input', async () => {
    const v1 = await put(VERSIONED, `${PREFIX}gone.csv`, THREE_ROWS);
    await admin.send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: `${PREFIX}gone.csv` }));
    const queue = await queueWith('delete-marker', eventOf(VERSIONED, v1));

    const { code, log } = await runJob(queue, VERSIONED, 'runs/marker/');
    expect(code).toBe(0);
    expect(log).toContain('its current version is a delete marker');
    const keys = await listKeys(admin, PROCESSED, 'runs/marker/');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^runs\/marker\/gone\/superseded_\d{8}-\d{6}-[0-9a-f]{8}\.json$/);
    expect(await json(keys[0])).toMatchObject({ input: `s3://${VERSIONED}/${PREFIX}gone.csv`, version_id: v1.versionId });
    expect(await sqs.counts(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('a version deleted for good (NoSuchVersion) is superseded', async () => {
    const v1 = await put(VERSIONED, `${PREFIX}purged.csv`, THREE_ROWS);
    await put(VERSIONED, `${PREFIX}purged.csv`, ONE_ROW);
    await admin.send(new DeleteObjectCommand({ Bucket: VERSIONED, Key: `${PREFIX}purged.csv`, VersionId: v1.versionId }));
    const queue = await queueWith('no-such-version', eventOf(VERSIONED, v1));

    const { code, log } = await runJob(queue, VERSIONED, 'runs/purged/');
    expect(code).toBe(0);
    expect(log).toContain('the version was deleted (NoSuchVersion)');
    expect((await listKeys(admin, PROCESSED, 'runs/purged/')).map((k) => k.replace(/_.*$/, ''))).toEqual(['runs/purged/purged/superseded']);
  });

  test('a redelivered event of a finished version does nothing', async () => {
    const v1 = await put(VERSIONED, `${PREFIX}twice.csv`, THREE_ROWS);
    const queue = await queueWith('twice', eventOf(VERSIONED, v1));
    expect((await runJob(queue, VERSIONED, 'runs/twice/')).code).toBe(0);
    const first = await listKeys(admin, PROCESSED, 'runs/twice/');
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: eventOf(VERSIONED, v1) }));
    const { code, log } = await runJob(queue, VERSIONED, 'runs/twice/');
    expect(code).toBe(0);
    expect(log).toContain(`(version ${v1.versionId}) already has a finished manifest`);
    expect(await listKeys(admin, PROCESSED, 'runs/twice/')).toEqual(first);
  });
});

describe('an unversioned bucket: reads pinned to the event\'s ETag (moto)', () => {
  test('v1 then v2, v1\'s event queued: If-Match on v1\'s ETag gets 412, so v1 is superseded; v2\'s event is processed', async () => {
    const v1 = await put(UNVERSIONED, `${PREFIX}hr.csv`, THREE_ROWS);
    const v2 = await put(UNVERSIONED, `${PREFIX}hr.csv`, ONE_ROW);
    expect(v1.versionId).toBeUndefined();
    const queue = await queueWith('unversioned', eventOf(UNVERSIONED, v1));
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: eventOf(UNVERSIONED, v2) }));

    const first = await runJob(queue, UNVERSIONED, 'runs/unversioned/');
    expect(first.code).toBe(0);
    expect(first.log).toContain('a newer upload replaced the object (PreconditionFailed on its ETag)');
    expect((await runJob(queue, UNVERSIONED, 'runs/unversioned/')).code).toBe(0);
    const [manifestKey] = await listKeys(admin, PROCESSED, 'runs/unversioned/hr/manifest_');
    expect(await json(manifestKey)).toMatchObject({ input_rows: 1, source: { version_id: null, etag: v2.eTag, size: v2.size } });
  });
});

describe('conditional writes (moto)', () => {
  test('the manifest PUT with If-None-Match: * succeeds once; a second writer gets false and the first bytes stay', async () => {
    const location = { bucket: PROCESSED, key: 'race/manifest_x.json' };
    expect(await putSmallObjectIfAbsent(admin, location, Buffer.from('first'), 'application/json')).toBe(true);
    expect(await putSmallObjectIfAbsent(admin, location, Buffer.from('second'), 'application/json')).toBe(false);
    const body = await admin.send(new GetObjectCommand({ Bucket: PROCESSED, Key: location.key }));
    expect(await body.Body!.transformToString()).toBe('first');
  });
});
