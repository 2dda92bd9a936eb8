import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { kubectlReadyBarrier } from '../private/once-per-cluster';
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
const CLUSTER_CONSTRUCT = 'MlopsEksCluster';
const VERSION_PROP = 'kedaVersion';
const KEDA_REPOSITORY = 'https://kedacore.github.io/charts';
const KEDA_NAMESPACE = 'keda';
/** The chart's default name for the operator's service account. */
const KEDA_OPERATOR_SERVICE_ACCOUNT = 'keda-operator';
/**
 * The construct ID on the cluster's node. KEDA lived there when workloads created it, and it stays
 * there now that the cluster does: its role, association and chart keep their logical IDs.
 */
const CONSTRUCT_ID = 'CdkMlopsEksKeda';

/**
 * KEDA on one cluster, a feature of the cluster (`MlopsEksCluster` prop `keda`): the Helm chart,
 * and the operator's IAM role (through EKS Pod Identity, for `keda/keda-operator`), allowed only
 * `sqs:GetQueueAttributes` on the queues that workloads register. Workloads require it and never
 * create or remove it, so adding, switching or removing the last `onUpload()` workload leaves the
 * cluster's stack as it is.
 */
export class KedaInstallation extends Construct {
  /** Installs KEDA on the cluster (once; `MlopsEksCluster` calls this when `keda` is on). */
  public static install(cluster: eks.Cluster, requestedVersion: string | undefined): KedaInstallation {
    if (cluster.node.tryFindChild(CONSTRUCT_ID)) {
      throw new Error(`KEDA is already installed on ${cluster.node.path}`);
    }
    const version = kedaChartFor(kubernetesVersionOf(cluster), requestedVersion);
    return new KedaInstallation(cluster, CONSTRUCT_ID, cluster, version);
  }

  /**
   * KEDA on the workload's cluster; a cluster without it fails the synth, naming the prop that
   * turns it on.
   */
  public static of(cluster: eks.ICluster): KedaInstallation {
    const keda = cluster.node.tryFindChild(CONSTRUCT_ID);
    if (!(keda instanceof KedaInstallation)) {
      throw new PropValidationError('PodIdentityPreprocessing', 'trigger',
        `onUpload() needs KEDA on the cluster ${cluster.node.path}, which does not have it: create the cluster with `
        + 'MlopsEksCluster prop `keda: true` (KEDA is a feature of the cluster; workloads never install or remove it)');
    }
    return keda;
  }

  public readonly operatorRole: iam.IRole;
  /** The Helm release. Its CRDs must exist before a ScaledJob is applied. */
  public readonly chart: eks.HelmChart;

  private constructor(scope: Construct, id: string, cluster: eks.Cluster, public readonly version: string) {
    super(scope, id);
    const { role, association } = createPodIdentityRole(this, {
      cluster,
      serviceAccount: { namespace: KEDA_NAMESPACE, name: KEDA_OPERATOR_SERVICE_ACCOUNT },
      description: 'KEDA operator: reads the length of the SQS queues that start preprocessing Jobs, through EKS Pod Identity',
    });
    this.operatorRole = role;
    // Workloads in other stacks attach their queue's policy to this role by name, through an
    // export. CDK creates that export only while something imports it, so removing the last such
    // workload would make this stack drop an export that the workload's deployed stack still
    // imports, and this stack's deploy (which comes first) would fail. Exporting it always, under
    // the name CDK gives the automatic reference (Stack.exportValue), keeps it for as long as KEDA is on.
    Stack.of(this).exportValue(role.roleName);
    this.chart = createChart(this, cluster, version);
    // The Pod Identity webhook injects credentials when a pod starts: the association comes first.
    this.chart.node.addDependency(association);
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
}

function createChart(scope: Construct, cluster: eks.Cluster, version: string): eks.HelmChart {
  const chart = new eks.HelmChart(scope, 'Chart', {
    cluster,
    chart: 'keda',
    release: 'keda',
    repository: KEDA_REPOSITORY,
    version,
    namespace: KEDA_NAMESPACE,
    createNamespace: true,
    // Wait for the operator, so ScaledJobs applied next find a running controller; within the
    // kubectl handler's 15-minute Lambda limit.
    wait: true,
    timeout: Duration.minutes(10),
  });
  // aws-eks-v2 makes manifests, not charts, wait for its kubectl barrier (nodes and DNS ready on
  // an MlopsEksCluster); without it the chart could wait for pods before any node exists.
  const barrier = kubectlReadyBarrier(cluster);
  if (barrier) chart.node.addDependency(barrier);
  return chart;
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
      throw new PropValidationError(CLUSTER_CONSTRUCT, VERSION_PROP,
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
    throw new PropValidationError(CLUSTER_CONSTRUCT, VERSION_PROP,
      `no KEDA release is tested on Kubernetes ${kubernetesVersion}, which keda: true needs (${supported}); `
      + `use one of those versions, give the chart version of a KEDA release tested on ${kubernetesVersion}, or leave keda off`);
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
