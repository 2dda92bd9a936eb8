/**
 * The runtime's multipart upload (processor/src/runtime/io/s3.ts uploadFile) with the SDK's checksum
 * settings as they are on AWS (requestChecksumCalculation WHEN_SUPPORTED, the default: a local
 * endpoint makes createS3Client ask for checksums only where required, so every other test skips
 * this path): the upload is created with CRC32, each part is sent with its CRC32, and S3's answer
 * for each part is passed back in CompleteMultipartUpload, as S3 requires of an upload created with
 * a checksum algorithm.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ChecksumMode, CompleteMultipartUploadCommandInput, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { UPLOAD_PART_BYTES, uploadFile } from '../../../processor/src/runtime/io/s3';
import { silentLogger } from '../../../processor/src/runtime/log';
import { TempDirs, objectBytes } from '../helpers';
import { createBuckets, motoS3Client } from './moto';

const BUCKET = 'checksums';

jest.setTimeout(120_000);
const temp = new TempDirs();
let client: S3Client;
/** The CompleteMultipartUpload requests the client sent (read off its middleware stack, before they are signed). */
const completes: CompleteMultipartUploadCommandInput[] = [];

/** A part's CRC32 as S3 writes it: the big-endian 4 bytes in base64. */
function crc32Base64(bytes: Buffer): string {
  const word = Buffer.alloc(4);
  word.writeUInt32BE(crc32(bytes));
  return word.toString('base64');
}

beforeAll(async () => {
  // As on AWS: the SDK's default checksum settings (no requestChecksumCalculation given).
  client = motoS3Client();
  expect(await client.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
  client.middlewareStack.add((next, context) => async (args) => {
    if (context.commandName === 'CompleteMultipartUploadCommand') completes.push(args.input as CompleteMultipartUploadCommandInput);
    return next(args);
  }, { step: 'initialize' });
  await createBuckets(client, [BUCKET]);
});

afterAll(() => {
  client?.destroy();
  temp.cleanup();
});

test('a multipart upload with CRC32 part checksums completes, and the object is the file', async () => {
  const bytes = randomBytes(2 * UPLOAD_PART_BYTES + 12345);
  const path = join(temp.make(), 'three-parts.bin');
  writeFileSync(path, bytes);
  await uploadFile(client, { bucket: BUCKET, key: 'three-parts.bin' }, path, { size: bytes.length, contentType: 'application/octet-stream', log: silentLogger });

  const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'three-parts.bin', ChecksumMode: ChecksumMode.ENABLED }));
  expect(head.ContentLength).toBe(bytes.length);
  expect(head.ETag).toMatch(/-3"$/);
  expect(head.ChecksumCRC32).toBeDefined();
  // S3 refuses to complete an upload created with CRC32 unless each part's checksum is given back.
  const parts = [0, 1, 2].map((n) => bytes.subarray(n * UPLOAD_PART_BYTES, (n + 1) * UPLOAD_PART_BYTES));
  expect(completes.map((c) => c.MultipartUpload?.Parts?.map((p) => [p.PartNumber, p.ChecksumCRC32])))
    .toEqual([parts.map((part, n) => [n + 1, crc32Base64(part)])]);
  const got = await objectBytes(client, BUCKET, 'three-parts.bin');
  expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
});
