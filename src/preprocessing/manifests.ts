import { NAMESPACE_QUOTA } from './quantities';

/**
 * The Kubernetes objects of the preprocessing workload, as plain objects. Kept free of CDK
 * constructs so that the same objects are applied through the cluster or emitted for GitOps.
 */

/** Everything the manifests are rendered from, with defaults already applied. */
export interface WorkloadSpec {
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly jobName: string;
  readonly image: string;
  readonly env: Record<string, string>;
  readonly schedule?: string;
  readonly backoffLimit: number;
  readonly activeDeadlineSeconds: number;
  readonly ttlSecondsAfterFinished: number;
  readonly resources: WorkloadResourceValues;
  readonly scratchVolumeSize: string;
}

/** CPU and memory in Kubernetes quantity notation. */
export interface WorkloadResourceValues {
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly cpuLimit: string;
  readonly memoryLimit: string;
}

/** Where the processor spools its input and writes outputs before upload (the seed's path). */
export const SCRATCH_MOUNT_PATH = '/opt/ml/processing/data';
const APP_LABELS = { 'app.kubernetes.io/name': 'data-preprocessing', 'app.kubernetes.io/part-of': 'cdk-mlops-eks' };
/** Runs as the image's non-root `node` user. */
const RUN_AS_USER = 1000;

export function renderManifests(spec: WorkloadSpec): Array<Record<string, any>> {
  return [
    namespace(spec),
    serviceAccount(spec),
    resourceQuota(spec),
    limitRange(spec),
    networkPolicy(spec),
    spec.schedule === undefined ? job(spec) : cronJob(spec, spec.schedule),
  ];
}

function metadata(spec: WorkloadSpec, name: string): Record<string, any> {
  return { name, namespace: spec.namespace, labels: { ...APP_LABELS } };
}

/** Pod Security Standard `restricted` is enforced, so no pod in it may run privileged or as root. */
function namespace(spec: WorkloadSpec): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: spec.namespace,
      labels: {
        ...APP_LABELS,
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
}

/** No IRSA annotation: the Pod Identity association maps this account to the IAM role. */
function serviceAccount(spec: WorkloadSpec): Record<string, any> {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadata(spec, spec.serviceAccountName) };
}

/** The walkthrough's quota for the namespace. */
function resourceQuota(spec: WorkloadSpec): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: metadata(spec, 'mlops-quota'),
    spec: { hard: { ...NAMESPACE_QUOTA } },
  };
}

/** Containers that state no resources get bounded defaults (a quota requires them to be set). */
function limitRange(spec: WorkloadSpec): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: metadata(spec, 'mlops-limits'),
    spec: {
      limits: [{
        type: 'Container',
        default: { cpu: '1', memory: '2Gi' },
        defaultRequest: { cpu: '250m', memory: '512Mi' },
        max: { cpu: spec.resources.cpuLimit, memory: spec.resources.memoryLimit },
      }],
    },
  };
}

/**
 * The workload may only resolve names (cluster DNS), fetch credentials from the node's Pod
 * Identity agent (169.254.170.23:80), and speak HTTPS (S3). Nothing may connect to it.
 */
function networkPolicy(spec: WorkloadSpec): Record<string, any> {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(spec, `${spec.jobName}-egress`),
    spec: {
      podSelector: { matchLabels: APP_LABELS },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [
        {
          // DNS to any address: CoreDNS runs as kube-system/kube-dns pods on node-group clusters,
          // but as a service on each node under EKS Auto Mode, which no pod selector matches.
          ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
        },
        {
          to: [{ ipBlock: { cidr: '169.254.170.23/32' } }],
          ports: [{ protocol: 'TCP', port: 80 }],
        },
        { ports: [{ protocol: 'TCP', port: 443 }] },
      ],
    },
  };
}

function job(spec: WorkloadSpec): Record<string, any> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(spec, spec.jobName),
    spec: jobSpec(spec),
  };
}

function cronJob(spec: WorkloadSpec, schedule: string): Record<string, any> {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: metadata(spec, spec.jobName),
    spec: {
      schedule,
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: { metadata: { labels: APP_LABELS }, spec: jobSpec(spec) },
    },
  };
}

function jobSpec(spec: WorkloadSpec): Record<string, any> {
  return {
    backoffLimit: spec.backoffLimit,
    activeDeadlineSeconds: spec.activeDeadlineSeconds,
    ttlSecondsAfterFinished: spec.ttlSecondsAfterFinished,
    template: {
      metadata: { labels: APP_LABELS },
      spec: {
        serviceAccountName: spec.serviceAccountName,
        restartPolicy: 'Never',
        securityContext: {
          runAsNonRoot: true,
          runAsUser: RUN_AS_USER,
          runAsGroup: RUN_AS_USER,
          fsGroup: RUN_AS_USER,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [processorContainer(spec)],
        volumes: [
          { name: 'data-volume', emptyDir: { sizeLimit: spec.scratchVolumeSize } },
          { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
        ],
      },
    },
  };
}

function processorContainer(spec: WorkloadSpec): Record<string, any> {
  return {
    name: 'preprocessing',
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    env: Object.entries(spec.env).map(([name, value]) => ({ name, value })),
    resources: {
      requests: { cpu: spec.resources.cpuRequest, memory: spec.resources.memoryRequest },
      limits: { cpu: spec.resources.cpuLimit, memory: spec.resources.memoryLimit },
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
