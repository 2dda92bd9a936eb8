import { KubernetesObject, objectMetadata } from './labels';

/** Where the processor spools its input and writes outputs before upload (the seed's path). */
export const SCRATCH_MOUNT_PATH = '/opt/ml/processing/data';
/** The processor's container in every pod. */
export const CONTAINER_NAME = 'preprocessing';
/** The processor's exit code for bad input (SPEC §5): retrying cannot help. */
export const EXIT_BAD_INPUT = 2;
/** Runs as the image's non-root `node` user. */
const RUN_AS_USER = 1000;
/**
 * No node scale-down removes a node under a running run's pod (its scratch volume and its progress
 * would be lost); other nodes scale down as usual. The Cluster Autoscaler reads `safe-to-evict`;
 * EKS Auto Mode's Karpenter ignores it and reads `karpenter.sh/do-not-disrupt` instead (it then
 * neither consolidates nor drifts the node while the pod runs; a finished pod no longer holds it).
 */
export const POD_ANNOTATIONS = {
  'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false',
  'karpenter.sh/do-not-disrupt': 'true',
};

/** CPU and memory in Kubernetes quantity notation. */
export interface WorkloadResourceValues {
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly cpuLimit: string;
  readonly memoryLimit: string;
}

/** Everything one run's batch/v1 JobSpec is rendered from, defaults applied. */
export interface JobSpecValues {
  readonly serviceAccountName: string;
  readonly labels: Record<string, string>;
  readonly image: string;
  /** `kubernetes.io/arch` of the image, if it is built for one architecture. */
  readonly architecture?: string;
  readonly env: Record<string, string>;
  readonly backoffLimit: number;
  readonly activeDeadlineSeconds: number;
  readonly ttlSecondsAfterFinished: number;
  readonly resources: WorkloadResourceValues;
  readonly scratchVolumeSize: string;
}

/**
 * The JobSpec of one run. The deadline is set twice: on the pod, where it counts running time
 * only (not the time a pod waits for a node), and on the Job, which bounds the whole run (a
 * trigger may drop the Job's, see queueRunSpec). Its pod failure policy fails the Job at once when the processor
 * reports bad input (exit 2: a retry reads the same bytes) and does not count pods that were
 * disrupted (node drain, Spot reclaim, preemption) against `backoffLimit`.
 */
export function jobSpec(values: JobSpecValues): KubernetesObject {
  return {
    backoffLimit: values.backoffLimit,
    activeDeadlineSeconds: values.activeDeadlineSeconds,
    ttlSecondsAfterFinished: values.ttlSecondsAfterFinished,
    podFailurePolicy: {
      rules: [
        { action: 'FailJob', onExitCodes: { containerName: CONTAINER_NAME, operator: 'In', values: [EXIT_BAD_INPUT] } },
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      ],
    },
    template: {
      metadata: { labels: { ...values.labels }, annotations: { ...POD_ANNOTATIONS } },
      spec: podSpec(values),
    },
  };
}

function podSpec(values: JobSpecValues): KubernetesObject {
  return {
    serviceAccountName: values.serviceAccountName,
    restartPolicy: 'Never',
    activeDeadlineSeconds: values.activeDeadlineSeconds,
    ...(values.architecture ? { nodeSelector: { 'kubernetes.io/arch': values.architecture } } : {}),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: RUN_AS_USER,
      runAsGroup: RUN_AS_USER,
      fsGroup: RUN_AS_USER,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [processorContainer(values)],
    volumes: [
      { name: 'data-volume', emptyDir: { sizeLimit: values.scratchVolumeSize } },
      { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
    ],
  };
}

function processorContainer(values: JobSpecValues): KubernetesObject {
  return {
    name: CONTAINER_NAME,
    image: values.image,
    imagePullPolicy: 'IfNotPresent',
    env: Object.entries(values.env).map(([name, value]) => ({ name, value })),
    resources: {
      // The scheduler places the pod on a node whose disk can hold the scratch volume.
      requests: { 'cpu': values.resources.cpuRequest, 'memory': values.resources.memoryRequest, 'ephemeral-storage': values.scratchVolumeSize },
      limits: { cpu: values.resources.cpuLimit, memory: values.resources.memoryLimit },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: 'data-volume', mountPath: SCRATCH_MOUNT_PATH },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

/**
 * A copy of `spec` whose processor container has its environment changed by `change` (variables
 * in order, a `undefined` value removes one).
 */
export function withContainerEnv(spec: KubernetesObject, change: Record<string, string | undefined>): KubernetesObject {
  const copy = JSON.parse(JSON.stringify(spec));
  const container = copy.template.spec.containers.find((c: KubernetesObject) => c.name === CONTAINER_NAME);
  const env = new Map<string, string>(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
  for (const [name, value] of Object.entries(change)) {
    if (value === undefined) env.delete(name);
    else env.set(name, value);
  }
  container.env = [...env].map(([name, value]) => ({ name, value }));
  return copy;
}

/**
 * A copy of `spec` for a queue-fed run: no retry inside the Job (`backoffLimit` 0: the queue
 * redelivers the message, and a retried pod would find none and end as Succeeded), and only the
 * pod's deadline, so time spent waiting for a node never cuts a run short.
 */
export function queueRunSpec(spec: KubernetesObject): KubernetesObject {
  const copy = JSON.parse(JSON.stringify(spec));
  copy.backoffLimit = 0;
  delete copy.activeDeadlineSeconds;
  return copy;
}

export function job(name: string, namespace: string, labels: Record<string, string>, spec: KubernetesObject): KubernetesObject {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: objectMetadata(name, namespace, labels), spec };
}

/** A CronJob holding the run's JobSpec as its template; `suspend` keeps it from ever firing. */
export function cronJob(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  spec: KubernetesObject,
  schedule: string,
  suspend: boolean,
): KubernetesObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: objectMetadata(name, namespace, labels),
    spec: {
      schedule,
      suspend,
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: { metadata: { labels: { ...labels } }, spec },
    },
  };
}
