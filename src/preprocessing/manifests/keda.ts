import { KubernetesObject, objectMetadata } from './labels';

/** What a KEDA ScaledJob that consumes one SQS message per Job is rendered from. */
export interface QueueScaledJobValues {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** The JobSpec of one run (the processor in queue mode). */
  readonly jobSpec: KubernetesObject;
  readonly queueUrl: string;
  readonly region: string;
  readonly maxParallelJobs: number;
}

/**
 * KEDA's `aws-sqs-queue` scaler reads the queue's length with the KEDA operator's own AWS
 * credentials (`podIdentity.provider: aws`, identity owner `keda`), which EKS Pod Identity gives
 * it; the workload's pods need none of that access.
 */
export function triggerAuthentication(name: string, namespace: string, labels: Record<string, string>): KubernetesObject {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'TriggerAuthentication',
    metadata: objectMetadata(name, namespace, labels),
    spec: { podIdentity: { provider: 'aws' } },
  };
}

/**
 * One Job per visible message. KEDA reads only the visible messages (`scaleOnInFlight: "false"`:
 * a message a Job holds is not new work, and one stranded by a killed pod must not start an
 * empty Job every poll until it is visible again), so the `accurate` strategy fits: it starts
 * as many Jobs as there are visible messages minus the Jobs still pending, at most
 * `maxParallelJobs` running. `rollout.strategy: gradual` lets running Jobs finish with the old
 * spec when the ScaledJob changes (KEDA's default deletes them).
 */
export function queueScaledJob(values: QueueScaledJobValues, authenticationName: string): KubernetesObject {
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledJob',
    metadata: objectMetadata(values.name, values.namespace, values.labels),
    spec: {
      jobTargetRef: values.jobSpec,
      pollingInterval: 10,
      minReplicaCount: 0,
      maxReplicaCount: values.maxParallelJobs,
      successfulJobsHistoryLimit: 10,
      failedJobsHistoryLimit: 10,
      rollout: { strategy: 'gradual' },
      scalingStrategy: { strategy: 'accurate' },
      triggers: [{
        type: 'aws-sqs-queue',
        metadata: { queueURL: values.queueUrl, queueLength: '1', awsRegion: values.region, scaleOnInFlight: 'false' },
        authenticationRef: { name: authenticationName },
      }],
    },
  };
}
