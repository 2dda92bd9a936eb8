import { Duration } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { kubectlReadyBarrier, oncePerCluster } from '../private/once-per-cluster';
import { createPodIdentityRole } from '../private/pod-identity';
import { PropValidationError } from '../private/validation';

/** KEDA's Helm chart version installed unless a workload asks for another. */
export const DEFAULT_KEDA_VERSION = '2.19.0';
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
  public static of(cluster: eks.ICluster, version: string): KedaInstallation {
    const keda = oncePerCluster(cluster, CONSTRUCT_ID, (scope, id) => new KedaInstallation(scope, id, cluster, version));
    if (keda.version !== version) {
      throw new PropValidationError('PodIdentityPreprocessing', 'trigger.kedaVersion',
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

  /** KEDA may read the length of this queue (and nothing else of it). */
  public watchQueue(queue: sqs.IQueue): void {
    iam.Grant.addToPrincipal({ grantee: this.operatorRole, actions: ['sqs:GetQueueAttributes'], resourceArns: [queue.queueArn] });
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
