import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** How the buckets that {@link PodIdentityPreprocessing} creates are named and kept. */
export interface CreatedBucketOptions {
  readonly namePrefix?: string;
  readonly removalPolicy: RemovalPolicy;
  readonly autoDeleteObjects: boolean;
  readonly serverAccessLogsBucket?: s3.IBucket;
}

/**
 * A bucket with this library's floor of safety: encrypted at rest (SSE-S3), all public access
 * blocked, TLS required, bucket-owner-enforced object ownership (no ACLs), and incomplete
 * multipart uploads cleaned up after 7 days.
 */
export function createSecureBucket(
  scope: Construct,
  id: string,
  nameSuffix: string,
  versioned: boolean,
  options: CreatedBucketOptions,
): s3.Bucket {
  return new s3.Bucket(scope, id, {
    bucketName: options.namePrefix ? `${options.namePrefix}-${nameSuffix}` : undefined,
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned,
    removalPolicy: options.removalPolicy,
    autoDeleteObjects: options.autoDeleteObjects,
    serverAccessLogsBucket: options.serverAccessLogsBucket,
    serverAccessLogsPrefix: options.serverAccessLogsBucket ? `${nameSuffix}/` : undefined,
    // Parts of an upload that was cut off (a killed pod) would otherwise be stored, and billed, forever.
    lifecycleRules: [{ id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) }],
  });
}

/** The walkthrough's bucket names are `<prefix>-<suffix>`. */
export const BUCKET_NAME_SUFFIXES = {
  rawData: 'raw-data-bucket',
  processedData: 'processed-data-bucket',
  modelArtifacts: 'model-artifacts-bucket',
  logs: 'logs-bucket',
  featureStore: 'feature-store-bucket',
};

/** With the longest suffix, a name must still fit S3's 63-character limit. */
export const LONGEST_BUCKET_NAME_SUFFIX = Object.values(BUCKET_NAME_SUFFIXES).reduce((a, b) => (b.length > a.length ? b : a));
