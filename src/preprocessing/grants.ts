import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * Read access to the objects under one prefix of a bucket, and listing of that prefix only (so
 * that a missing key reports NoSuchKey rather than AccessDenied).
 */
export function grantReadPrefix(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject'],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [bucket.bucketArn],
    conditions: prefix ? { StringLike: { 's3:prefix': [`${prefix}*`] } } : undefined,
  });
  bucket.encryptionKey?.grantDecrypt(grantee);
}

/** Write access (including multipart upload and its abort) to the objects under one prefix. */
export function grantWritePrefix(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  });
  bucket.encryptionKey?.grantEncrypt(grantee);
}
