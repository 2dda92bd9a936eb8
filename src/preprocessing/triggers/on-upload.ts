import { Tokenization } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';
import type { PreprocessingTriggerBindOptions, PreprocessingTriggerConfig, UploadTriggerOptions } from './trigger';
import { checkIntegerInRange, PropValidationError } from '../../private/validation';
import { WorkloadIdentity } from '../identity';
import { KedaInstallation } from '../keda';
import { queueRunSpec, withContainerEnv } from '../manifests/job';
import { queueScaledJob, triggerAuthentication } from '../manifests/keda';
import { MAX_VISIBILITY_TIMEOUT, UploadQueue, VISIBILITY_MARGIN } from '../upload-queue';

const CONSTRUCT = 'PodIdentityPreprocessing';
/** SQS's longest queue name. */
const SQS_NAME_LENGTH = 80;

/**
 * onUpload(): S3 → SQS → KEDA ScaledJob. The Jobs run the processor in queue mode: each takes one
 * message, processes the object(s) it names, and deletes it once the outputs are written.
 */
export function bindOnUpload(
  scope: Construct,
  options: PreprocessingTriggerBindOptions,
  upload: UploadTriggerOptions,
): PreprocessingTriggerConfig {
  const maxParallelJobs = upload.maxParallelJobs ?? 4;
  const maxReceiveCount = upload.maxReceiveCount ?? 3;
  checkIntegerInRange(CONSTRUCT, 'trigger.maxParallelJobs', maxParallelJobs, 1, 100);
  checkIntegerInRange(CONSTRUCT, 'trigger.maxReceiveCount', maxReceiveCount, 1, 1000);
  checkDeadlineFitsVisibility(options);

  const { queue, deadLetterQueue, visibilityTimeout } = new UploadQueue(scope, 'UploadQueue', {
    queueName: new WorkloadIdentity(options.cluster, options.namespace, options.jobName).physicalName('uploads', SQS_NAME_LENGTH),
    bucket: options.inputBucket,
    prefix: options.inputPrefix,
    suffix: upload.suffix ?? '.csv',
    maxReceiveCount,
    activeDeadline: options.activeDeadline,
  });
  // The pods take, keep and delete their messages; nothing else on the queue.
  iam.Grant.addToPrincipal({
    grantee: options.role,
    actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
    resourceArns: [queue.queueArn],
  });

  const keda = KedaInstallation.of(options.cluster);
  keda.watchQueue(scope, queue);
  const dependencies: IDependable[] = options.applyManifests ? [keda.chart] : [];

  const authenticationName = `${options.jobName}-sqs`;
  const jobSpec = withContainerEnv(queueRunSpec(options.jobSpec), {
    INPUT_KEY: undefined,
    INPUT_PREFIX: options.inputPrefix,
    QUEUE_URL: queue.queueUrl,
    // The processor receives with the queue's own visibility timeout, not a default of its own.
    VISIBILITY_TIMEOUT_SECONDS: Tokenization.stringifyNumber(visibilityTimeout.toSeconds()),
  });
  return {
    manifests: [
      triggerAuthentication(authenticationName, options.namespace, options.labels),
      queueScaledJob({
        name: options.jobName,
        namespace: options.namespace,
        labels: options.labels,
        jobSpec,
        queueUrl: queue.queueUrl,
        region: options.region,
        maxParallelJobs,
      }, authenticationName),
    ],
    queue,
    deadLetterQueue,
    dependencies,
    maxParallelRuns: maxParallelJobs,
    maxReceiveCount,
  };
}

/** A message must stay invisible while its Job may still be working on it. */
function checkDeadlineFitsVisibility(options: PreprocessingTriggerBindOptions): void {
  if (options.activeDeadline.isUnresolved()) {
    return;
  }
  const limit = MAX_VISIBILITY_TIMEOUT.minus(VISIBILITY_MARGIN).toSeconds();
  if (options.activeDeadline.toSeconds() > limit) {
    throw new PropValidationError(CONSTRUCT, 'activeDeadline',
      `${options.activeDeadline.toHumanString()} is too long for onUpload(): a queue message stays hidden at most 12 hours, `
      + `so a Job may run at most ${limit / 60} minutes`);
  }
}
