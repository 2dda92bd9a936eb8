import { KubernetesObject, objectMetadata } from './labels';

/** Where the processor spools its input and writes outputs before upload (the seed's path). */
export const SCRATCH_MOUNT_PATH = '/opt/ml/processing/data';
/** The processor's container in every pod of the built-in transform. */
export const CONTAINER_NAME = 'preprocessing';
/** The processor's container in a command transform's pod (processor/launcher/PROTOCOL.md). */
export const RUNTIME_CONTAINER_NAME = 'runtime';
/** The user's program's container in a command transform's pod. */
export const TRANSFORM_CONTAINER_NAME = 'transform';
/** Where the init container installs the launcher (read-only for the program). */
const LAUNCHER_DIR = '/mlops/bin';
/** The launcher in the bundled image, and its copy in the pod. */
const LAUNCHER_IN_IMAGE = '/app/launcher/mlops-launcher';
const LAUNCHER = `${LAUNCHER_DIR}/mlops-launcher`;
/** The runtime's and the launcher's shared directory of handoff files. */
export const HANDOFF_DIR = '/mlops/handoff';
/**
 * The runtime container of a command transform stages and publishes; the program does the work.
 * A CPU limit of its own: without one the namespace's LimitRange would add its default (1 CPU)
 * where the synth-time quota check cannot see it.
 */
export const RUNTIME_RESOURCES: WorkloadResourceValues = { cpuRequest: '100m', memoryRequest: '128Mi', cpuLimit: '500m', memoryLimit: '256Mi' };
/**
 * The program's container by default: the built-in transform's pod (500m / 1Gi, limits 2 / 4Gi)
 * less the runtime's share, so a command transform's pod fits wherever the built-in's does.
 */
export const COMMAND_TRANSFORM_DEFAULT_RESOURCES: WorkloadResourceValues = { cpuRequest: '400m', memoryRequest: '896Mi', cpuLimit: '1500m', memoryLimit: '3840Mi' };
/** The init container only copies the launcher (a few MB). */
const INSTALL_RESOURCES = { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } };
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
  /** A command transform's program: the pod gets the launcher, a runtime and a transform container. */
  readonly transform?: CommandTransformValues;
}

/** The program's container of a command transform (processor/launcher/PROTOCOL.md). */
export interface CommandTransformValues {
  readonly image: string;
  readonly command: string[];
  readonly env: Record<string, string>;
  readonly resources: WorkloadResourceValues;
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
        { action: 'FailJob', onExitCodes: { containerName: runtimeContainerName(values), operator: 'In', values: [EXIT_BAD_INPUT] } },
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
    ...(values.transform ? commandTransformPod(values, values.transform) : {
      containers: [processorContainer(values)],
      volumes: [
        { name: 'data-volume', emptyDir: { sizeLimit: values.scratchVolumeSize } },
        { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
      ],
    }),
  };
}

function runtimeContainerName(values: JobSpecValues): string {
  return values.transform ? RUNTIME_CONTAINER_NAME : CONTAINER_NAME;
}

/**
 * The containers and volumes of a command transform's pod (processor/launcher/PROTOCOL.md): an
 * init container copies the launcher from the bundled image into an in-memory volume; the
 * runtime container (the bundled image) stages, publishes and reports; the user's unchanged image
 * runs its command through the launcher, which it sees read-only. Both share the scratch volume
 * at the same path and a small in-memory handoff directory.
 */
function commandTransformPod(values: JobSpecValues, transform: CommandTransformValues): KubernetesObject {
  const runtime = processorContainer({ ...values, resources: RUNTIME_RESOURCES });
  runtime.name = RUNTIME_CONTAINER_NAME;
  runtime.env = envList({
    ...values.env,
    TRANSFORM: 'command',
    TRANSFORM_COMMAND: JSON.stringify(transform.command),
    TRANSFORM_HANDOFF_DIR: HANDOFF_DIR,
  });
  runtime.volumeMounts.push({ name: 'mlops-handoff', mountPath: HANDOFF_DIR });
  return {
    initContainers: [{
      name: 'install-launcher',
      image: values.image,
      imagePullPolicy: 'IfNotPresent',
      command: [LAUNCHER_IN_IMAGE, 'install', LAUNCHER],
      resources: INSTALL_RESOURCES,
      securityContext: restrictedContainer(),
      volumeMounts: [{ name: 'mlops-launcher', mountPath: LAUNCHER_DIR }],
    }],
    containers: [runtime, {
      name: TRANSFORM_CONTAINER_NAME,
      image: transform.image,
      imagePullPolicy: 'IfNotPresent',
      command: [LAUNCHER, 'run', '--', ...transform.command],
      env: envList({ ...transform.env, MLOPS_HANDOFF_DIR: HANDOFF_DIR }),
      resources: {
        requests: { cpu: transform.resources.cpuRequest, memory: transform.resources.memoryRequest },
        limits: { cpu: transform.resources.cpuLimit, memory: transform.resources.memoryLimit },
      },
      securityContext: restrictedContainer(),
      volumeMounts: [
        { name: 'mlops-launcher', mountPath: LAUNCHER_DIR, readOnly: true },
        { name: 'mlops-handoff', mountPath: HANDOFF_DIR },
        { name: 'data-volume', mountPath: SCRATCH_MOUNT_PATH },
        { name: 'transform-tmp', mountPath: '/tmp' },
      ],
    }],
    volumes: [
      { name: 'data-volume', emptyDir: { sizeLimit: values.scratchVolumeSize } },
      { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
      { name: 'transform-tmp', emptyDir: { sizeLimit: '1Gi' } },
      { name: 'mlops-launcher', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      { name: 'mlops-handoff', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
    ],
  };
}

function envList(env: Record<string, string>): Array<{ name: string; value: string }> {
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

function restrictedContainer(): KubernetesObject {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function processorContainer(values: JobSpecValues): KubernetesObject {
  return {
    name: CONTAINER_NAME,
    image: values.image,
    imagePullPolicy: 'IfNotPresent',
    env: envList(values.env),
    resources: {
      // The scheduler places the pod on a node whose disk can hold the scratch volume.
      requests: { 'cpu': values.resources.cpuRequest, 'memory': values.resources.memoryRequest, 'ephemeral-storage': values.scratchVolumeSize },
      limits: { cpu: values.resources.cpuLimit, memory: values.resources.memoryLimit },
    },
    securityContext: restrictedContainer(),
    volumeMounts: [
      { name: 'data-volume', mountPath: SCRATCH_MOUNT_PATH },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

/**
 * A copy of `spec` whose processor (or runtime) container has its environment changed by `change` (variables
 * in order, a `undefined` value removes one).
 */
export function withContainerEnv(spec: KubernetesObject, change: Record<string, string | undefined>): KubernetesObject {
  const copy = JSON.parse(JSON.stringify(spec));
  const container = copy.template.spec.containers.find((c: KubernetesObject) => c.name === CONTAINER_NAME || c.name === RUNTIME_CONTAINER_NAME);
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
