import { Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { PropValidationError } from '../private/validation';

/** One workload's object-created notification on a bucket. */
interface NotificationClaim {
  readonly path: string;
  readonly prefix: string;
  readonly suffix: string;
}

/** The claims of each bucket, per app (the construct tree's root). */
const claimsByApp = new WeakMap<IConstruct, Map<string, NotificationClaim[]>>();

/**
 * Records that `owner` is notified of objects created in `bucket` under `prefix` with `suffix`,
 * and refuses one that overlaps an earlier claim on the same bucket: S3 rejects overlapping
 * prefix/suffix pairs for one event type at deploy time, after the rest of the stack was built.
 * A bucket is the same when it is the same construct or has the same literal name.
 */
export function claimNotifications(owner: IConstruct, bucket: s3.IBucket, prefix: string, suffix: string): void {
  if (Token.isUnresolved(prefix) || Token.isUnresolved(suffix)) {
    return;
  }
  const root = owner.node.root;
  const byBucket = claimsByApp.get(root) ?? new Map<string, NotificationClaim[]>();
  claimsByApp.set(root, byBucket);
  const key = Token.isUnresolved(bucket.bucketName) ? `construct:${bucket.node.path}` : `name:${bucket.bucketName}`;
  const claims = byBucket.get(key) ?? [];
  byBucket.set(key, claims);
  const claim = { path: owner.node.path, prefix, suffix };
  const clash = claims.find((other) => overlaps(other, claim));
  if (clash) {
    throw new PropValidationError('PodIdentityPreprocessing', 'inputPrefix',
      `the upload notifications of ${claim.path} (prefix '${prefix}', suffix '${suffix}') overlap those of ${clash.path} `
      + `(prefix '${clash.prefix}', suffix '${clash.suffix}') on the same bucket, which S3 refuses: `
      + 'give the workloads prefixes where neither contains the other, or suffixes where neither ends the other');
  }
  claims.push(claim);
}

/** S3's rule: two filters overlap when one prefix starts the other and one suffix ends the other (empty matches all). */
function overlaps(a: NotificationClaim, b: NotificationClaim): boolean {
  const prefixesOverlap = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
  const suffixesOverlap = a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
  return prefixesOverlap && suffixesOverlap;
}
