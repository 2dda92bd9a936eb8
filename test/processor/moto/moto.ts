/**
 * moto's S3 as the moto tests reach it: scripts/moto-server.sh starts the server on 127.0.0.1 and
 * names it in MOTO_S3_ENDPOINT (.ci/run's moto stage).
 */
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';

/** moto accepts any credentials; the tests use these. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

/** moto's S3 endpoint, or a failure that says how to run these tests. */
export function motoS3Endpoint(): string {
  const endpoint = process.env.MOTO_S3_ENDPOINT;
  if (!endpoint) throw new Error('MOTO_S3_ENDPOINT is not set: run these through .ci/run (scripts/moto-server.sh)');
  return endpoint;
}

/** A client of moto's S3, with the SDK's default settings otherwise (checksums included). */
export function motoS3Client(): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint: motoS3Endpoint(), forcePathStyle: true, credentials: MOTO_CREDENTIALS });
}

/** Creates `buckets`; those also in `versioned` keep object versions. */
export async function createBuckets(client: S3Client, buckets: readonly string[], versioned: readonly string[] = []): Promise<void> {
  for (const bucket of buckets) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const bucket of versioned) await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

/** Gives the processor's default credential chain moto's credentials, from the process environment only (as on EKS). */
export function useMotoCredentials(): void {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}
