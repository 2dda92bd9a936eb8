import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgeWildcardResource } from '../private/acknowledgements';

/**
 * Read access to the objects under one prefix of a bucket, any version of them (an upload's
 * event names the version the processor reads), and listing of that prefix only (so that a
 * missing key reports NoSuchKey rather than AccessDenied).
 */
export function grantReadPrefix(grantee: iam.IRole, bucket: s3.IBucket, prefix: string): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject', 's3:GetObjectVersion'],
    resourceArns: [objectsUnder(grantee, bucket, prefix)],
  });
  grantListPrefix(grantee, bucket, prefix);
  bucket.encryptionKey?.grantDecrypt(grantee);
}

/**
 * Write access (including multipart upload and its abort) to the objects under one prefix, and
 * listing of that prefix: a rerun of an object version finds its finished manifest there.
 */
export function grantWritePrefix(grantee: iam.IRole, bucket: s3.IBucket, prefix: string): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
    resourceArns: [objectsUnder(grantee, bucket, prefix)],
  });
  grantListPrefix(grantee, bucket, prefix);
  bucket.encryptionKey?.grantEncrypt(grantee);
}

/**
 * What queue mode does beside writing outputs (processor/src/runtime/claim.ts): read and delete
 * its claims under `<prefix>_claims/` (it writes them with the prefix's PutObject), and delete an
 * earlier run's stale `error_<runId>.json` once a later run of the same version succeeds. No other
 * object under the prefix can be read or deleted.
 */
export function grantClaimsAndReports(grantee: iam.IRole, bucket: s3.IBucket, prefix: string): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject', 's3:DeleteObject'],
    resourceArns: [objectsMatching(grantee, bucket, `${prefix}_claims/*`)],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:DeleteObject'],
    resourceArns: [objectsMatching(grantee, bucket, `${prefix}*error_*.json`)],
  });
  bucket.encryptionKey?.grantDecrypt(grantee);
}

function grantListPrefix(grantee: iam.IRole, bucket: s3.IBucket, prefix: string): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [bucket.bucketArn],
    conditions: prefix ? { StringLike: { 's3:prefix': [`${prefix}*`] } } : undefined,
  });
}

/**
 * The ARN pattern of the objects under a prefix. cdk-nag's wildcard rule (AwsSolutions-IAM5) is
 * acknowledged for exactly this pattern: the wildcard is the prefix scoping itself.
 */
function objectsMatching(role: iam.IRole, bucket: s3.IBucket, pattern: string): string {
  const arn = bucket.arnForObjects(pattern);
  acknowledgeWildcardResource(role, arn, `Object access is limited to the objects matching '${pattern}' (queue mode's claims and stale error reports).`);
  return arn;
}

function objectsUnder(role: iam.IRole, bucket: s3.IBucket, prefix: string): string {
  const arn = bucket.arnForObjects(`${prefix}*`);
  acknowledgeWildcardResource(role, arn, `Object access is limited to the prefix '${prefix}'; the wildcard stands for the objects under it.`);
  return arn;
}
