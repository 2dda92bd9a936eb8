import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** How the buckets that {@link PodIdentityPreprocessing} creates are named and kept. */
export interface CreatedBucketOptions {
  readonly namePrefix?: string;
  readonly removalPolicy: RemovalPolicy;
  readonly autoDeleteObjects: boolean;
}

/**
 * A bucket with this library's floor of safety: encrypted at rest (SSE-S3), all public access
 * blocked, TLS required, bucket-owner-enforced object ownership (no ACLs), incomplete multipart
 * uploads cleaned up after 7 days, and versioned unless it only holds logs (an upload that
 * overwrites an input or output stays recoverable).
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
    // Parts of an upload that was cut off (a killed pod) would otherwise be stored, and billed, forever.
    lifecycleRules: [{ id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(7) }],
  });
}

/**
 * Sends the bucket's server access logs to `target` under `prefix`, granting the S3 logging
 * service through the target's bucket policy (scoped to this bucket and account). Done on the
 * CloudFormation resource rather than through `serverAccessLogsBucket`, whose default (without
 * the `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy` flag) is an ACL that a bucket-owner-
 * enforced bucket refuses at synth.
 */
export function sendAccessLogs(bucket: s3.Bucket, target: s3.IBucket, prefix: string): void {
  const cfnBucket = bucket.node.defaultChild as s3.CfnBucket;
  cfnBucket.loggingConfiguration = { destinationBucketName: target.bucketName, logFilePrefix: prefix };
  const statement = new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [target.arnForObjects(`${prefix}*`)],
    conditions: {
      ArnLike: { 'aws:SourceArn': bucket.bucketArn },
      StringEquals: { 'aws:SourceAccount': Stack.of(bucket).account },
    },
  });
  // No dependency on the target's policy: its condition names this bucket, so that would be a cycle.
  // S3 delivers logs in the background; the policy is in place by the time the stack is.
  if (!target.addToResourcePolicy(statement).statementAdded) {
    Annotations.of(bucket).addWarningV2('cdk-mlops-eks:accessLogsPolicyNotAdded',
      `The access-log bucket is imported: add this statement to its bucket policy so that S3 can deliver the logs: ${JSON.stringify(Stack.of(bucket).resolve(statement.toStatementJson()))}`);
  }
}

/** The walkthrough's bucket names are `<prefix>-<suffix>`. */
export const BUCKET_NAME_SUFFIXES = {
  rawData: 'raw-data-bucket',
  processedData: 'processed-data-bucket',
  modelArtifacts: 'model-artifacts-bucket',
  logs: 'logs-bucket',
  featureStore: 'feature-store-bucket',
  athenaResults: 'athena-results-bucket',
};

/** With the longest suffix, a name must still fit S3's 63-character limit. */
export const LONGEST_BUCKET_NAME_SUFFIX = Object.values(BUCKET_NAME_SUFFIXES).reduce((a, b) => (b.length > a.length ? b : a));
