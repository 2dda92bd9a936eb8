import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { kubectlReadyBarrier, oncePerCluster } from '../private/once-per-cluster';
import { createPodIdentityRole } from '../private/pod-identity';
import { PropValidationError } from '../private/validation';

/**
 * KEDA's compatibility matrix (keda-docs `content/docs/2.22/operate/cluster.md`): the Kubernetes
 * minor versions each KEDA minor release is tested on, newest KEDA first.
 */
export const KEDA_KUBERNETES_VERSIONS: ReadonlyArray<{ readonly keda: string; readonly first: number; readonly last: number }> = [
  { keda: '2.21', first: 34, last: 36 },
  { keda: '2.20', first: 33, last: 35 },
  { keda: '2.19', first: 32, last: 34 },
  { keda: '2.18', first: 31, last: 33 },
  { keda: '2.17', first: 30, last: 32 },
];
/**
 * The chart installed for each KEDA minor release this library pins (KEDA's charts carry the
 * operator's version). To bump: a newer patch of the same minor goes here; a new minor goes into
 * the matrix above too, and test/control-plane builds the operator of the newest one.
 */
export const KEDA_CHARTS: Readonly<Record<string, string>> = { '2.21': '2.21.1', '2.20': '2.20.2', '2.19': '2.19.0' };
/** The chart for a cluster whose Kubernetes version is not known at synth (an imported cluster). */
const NEWEST_KEDA_CHART = KEDA_CHARTS[KEDA_KUBERNETES_VERSIONS[0].keda];
const VERSION_PROP = 'trigger.kedaVersion';
const KEDA_REPOSITORY = 'https://kedacore.github.io/charts';
const KEDA_NAMESPACE = 'keda';
/** The chart's default name for the operator's service account. */
const KEDA_OPERATOR_SERVICE_ACCOUNT = 'keda-operator';
const CONSTRUCT_ID = 'CdkMlopsEksKeda';

/**
 * KEDA on one cluster, shared by every workload on it: the operator's IAM role (through EKS Pod
 * Identity, for `keda/keda-operator`), allowed only `sqs:GetQueueAttributes` on the queues that
 * workloads register, and the Helm chart once a workload applies its manifests through the
 * cluster (a GitOps workload leaves the chart to its GitOps tool; the role is ready for it).
 */
export class KedaInstallation extends Construct {
  /** KEDA on this cluster, created by the first workload that needs it. */
  public static of(cluster: eks.ICluster, requested: string | undefined): KedaInstallation {
    const version = kedaChartFor(kubernetesVersionOf(cluster), requested);
    const keda = oncePerCluster(cluster, CONSTRUCT_ID, (scope, id) => new KedaInstallation(scope, id, cluster, version));
    if (keda.version !== version) {
      throw new PropValidationError('PodIdentityPreprocessing', VERSION_PROP,
        `'${version}' differs from KEDA ${keda.version}, which another workload installs on this cluster; KEDA is installed once per cluster`);
    }
    return keda;
  }

  public readonly operatorRole: iam.IRole;
  private readonly association: eks.CfnPodIdentityAssociation;
  private chart?: eks.HelmChart;

  private constructor(scope: Construct, id: string, private readonly cluster: eks.ICluster, private readonly version: string) {
    super(scope, id);
    const { role, association } = createPodIdentityRole(this, {
      cluster,
      serviceAccount: { namespace: KEDA_NAMESPACE, name: KEDA_OPERATOR_SERVICE_ACCOUNT },
      description: 'KEDA operator: reads the length of the SQS queues that start preprocessing Jobs, through EKS Pod Identity',
    });
    this.operatorRole = role;
    this.association = association;
  }

  /**
   * KEDA may read the length of this queue (and nothing else of it). The statement is a policy
   * of its own in `scope` (the workload), attached to the operator's role: the workload's stack
   * then refers to the cluster's, never the other way round, whichever stacks they are in.
   */
  public watchQueue(scope: Construct, queue: sqs.IQueue): void {
    new iam.Policy(scope, 'KedaQueueAccess', {
      roles: [this.operatorRole],
      statements: [new iam.PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: [queue.queueArn] })],
    });
  }

  /** The Helm release, installed on first use. Its CRDs must exist before a ScaledJob is applied. */
  public installChart(): eks.HelmChart {
    this.chart ??= this.createChart();
    return this.chart;
  }

  private createChart(): eks.HelmChart {
    const chart = new eks.HelmChart(this, 'Chart', {
      cluster: this.cluster,
      chart: 'keda',
      release: 'keda',
      repository: KEDA_REPOSITORY,
      version: this.version,
      namespace: KEDA_NAMESPACE,
      createNamespace: true,
      // Wait for the operator, so ScaledJobs applied next find a running controller; within the
      // kubectl handler's 15-minute Lambda limit.
      wait: true,
      timeout: Duration.minutes(10),
    });
    // The Pod Identity webhook injects credentials when a pod starts: the association comes first.
    chart.node.addDependency(this.association);
    // aws-eks-v2 makes manifests, not charts, wait for its kubectl barrier (nodes and DNS ready on
    // an MlopsEksCluster); without it the chart could wait for pods before any node exists.
    const barrier = kubectlReadyBarrier(this.cluster);
    if (barrier) chart.node.addDependency(barrier);
    return chart;
  }
}

/**
 * The KEDA chart for the cluster: the one asked for, if KEDA's matrix does not rule it out, or the
 * pinned release of the newest KEDA tested on the cluster's Kubernetes version. Where no KEDA
 * release is tested on it, the error names the versions KEDA supports.
 */
export function kedaChartFor(kubernetesVersion: string | undefined, requested: string | undefined): string {
  const minor = kubernetesVersion === undefined ? undefined : kubernetesMinor(kubernetesVersion);
  if (requested !== undefined) {
    const window = Token.isUnresolved(requested) ? undefined : KEDA_KUBERNETES_VERSIONS.find((w) => requested.startsWith(`${w.keda}.`));
    if (window && minor !== undefined && (minor < window.first || minor > window.last)) {
      throw new PropValidationError('PodIdentityPreprocessing', VERSION_PROP,
        `KEDA ${requested} is tested on Kubernetes 1.${window.first} to 1.${window.last} (KEDA's compatibility matrix), not on the cluster's ${kubernetesVersion}`);
    }
    return requested;
  }
  if (minor === undefined) {
    return NEWEST_KEDA_CHART;
  }
  const window = KEDA_KUBERNETES_VERSIONS.find((w) => KEDA_CHARTS[w.keda] !== undefined && minor >= w.first && minor <= w.last);
  if (!window) {
    const supported = KEDA_KUBERNETES_VERSIONS.map((w) => `KEDA ${w.keda}: 1.${w.first}-1.${w.last}`).join(', ');
    throw new PropValidationError('PodIdentityPreprocessing', VERSION_PROP,
      `no KEDA release is tested on Kubernetes ${kubernetesVersion}, which onUpload() needs (${supported}); `
      + `run the workload on a cluster of one of those versions, or give the chart version of a KEDA release tested on ${kubernetesVersion}`);
  }
  return KEDA_CHARTS[window.keda];
}

/** The cluster's Kubernetes version, when it is defined in this app with a literal version. */
function kubernetesVersionOf(cluster: eks.ICluster): string | undefined {
  const resource = cluster.node.defaultChild;
  if (!(resource instanceof eks.CfnCluster)) {
    return undefined;
  }
  const version = Stack.of(cluster).resolve(resource.version);
  return typeof version === 'string' ? version : undefined;
}

function kubernetesMinor(version: string): number | undefined {
  const match = /^1\.(\d+)$/.exec(version);
  return match ? Number(match[1]) : undefined;
}
