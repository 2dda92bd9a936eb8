import { createHash } from 'crypto';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { PreprocessingTriggerBindOptions, PreprocessingTriggerConfig } from './trigger';
import { job } from '../manifests/job';

/** Hex digits of the spec hash in the Job's name: jobName (≤ 52) + '-' + 8 stays within 63. */
const HASH_LENGTH = 8;

/**
 * onDeploy(): the walkthrough's one-shot Job, named `<jobName>-<hash of its spec>`. The hash is
 * taken over the spec as CloudFormation will see it (references resolved to their intrinsics,
 * the image asset's hash included), so a changed image, environment or resources gives a new name.
 */
export function bindOnDeploy(scope: Construct, options: PreprocessingTriggerBindOptions): PreprocessingTriggerConfig {
  const resolved = Stack.of(scope).resolve(options.jobSpec);
  const hash = createHash('sha256').update(JSON.stringify(resolved)).digest('hex').slice(0, HASH_LENGTH);
  return {
    manifests: [job(`${options.jobName}-${hash}`, options.namespace, options.labels, options.jobSpec)],
  };
}
