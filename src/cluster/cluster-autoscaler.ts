import { CfnJson, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';
import { acknowledge } from '../private/acknowledgements';
import { createPodIdentityRole } from '../private/pod-identity';
import { PropValidationError } from '../private/validation';

/**
 * A release of the Kubernetes Cluster Autoscaler: the Helm chart and the image it runs. The
 * image's minor version must be the cluster's Kubernetes minor version (the autoscaler simulates
 * that version's scheduler).
 */
export interface ClusterAutoscalerVersion {
  /** Version of the `cluster-autoscaler` chart from https://kubernetes.github.io/autoscaler, e.g. `9.59.0`. */
  readonly chartVersion: string;
  /** Tag of `registry.k8s.io/autoscaling/cluster-autoscaler`, e.g. `v1.36.1`. */
  readonly imageTag: string;
}

const CONSTRUCT = 'MlopsEksCluster';
const VERSION_PROP = 'clusterAutoscalerVersion';

/**
 * The pinned release for each Kubernetes minor version: the newest published image of that minor
 * and the newest chart whose `appVersion` is that minor (charts since 9.46.4 grant the
 * `volumeattachments` access that autoscaler 1.32+ needs before it scales anything). No chart
 * for 1.36 exists yet, so 1.36 uses the newest chart with the 1.36 image, as the chart's README
 * suggests for a newer image.
 */
export const CLUSTER_AUTOSCALER_VERSIONS: Readonly<Record<string, ClusterAutoscalerVersion>> = {
  1.32: { chartVersion: '9.46.6', imageTag: 'v1.32.7' },
  1.33: { chartVersion: '9.50.1', imageTag: 'v1.33.6' },
  1.34: { chartVersion: '9.53.0', imageTag: 'v1.34.5' },
  1.35: { chartVersion: '9.59.0', imageTag: 'v1.35.2' },
  1.36: { chartVersion: '9.59.0', imageTag: 'v1.36.1' },
};

/** The chart repository, the release's name and namespace, and its service account. */
export const CLUSTER_AUTOSCALER_CHART = {
  repository: 'https://kubernetes.github.io/autoscaler',
  chart: 'cluster-autoscaler',
  release: 'cluster-autoscaler',
  namespace: 'kube-system',
  serviceAccount: 'cluster-autoscaler',
} as const;

/**
 * The release to install: the one given, checked against the Kubernetes minor version, or the
 * pinned one for that version. A version without a pinned release needs one given.
 */
export function clusterAutoscalerVersionFor(
  kubernetesVersion: eks.KubernetesVersion,
  given: ClusterAutoscalerVersion | undefined,
): ClusterAutoscalerVersion {
  const version = kubernetesVersion.version;
  if (given) {
    const imageMinor = /^v?(\d+\.\d+)\./.exec(given.imageTag)?.[1];
    if (!Token.isUnresolved(version) && !Token.isUnresolved(given.imageTag) && imageMinor !== undefined && imageMinor !== version) {
      throw new PropValidationError(CONSTRUCT, VERSION_PROP,
        `imageTag ${given.imageTag} is for Kubernetes ${imageMinor} but kubernetesVersion is ${version}; ` +
        'the Cluster Autoscaler\'s minor version must match the cluster\'s');
    }
    return given;
  }
  const pinned = Token.isUnresolved(version) ? undefined : CLUSTER_AUTOSCALER_VERSIONS[version];
  if (!pinned) {
    throw new PropValidationError(CONSTRUCT, VERSION_PROP,
      `is required for kubernetesVersion ${Token.isUnresolved(version) ? '(a token)' : version}: pass the chartVersion and ` +
      `imageTag of a Cluster Autoscaler release for that version (pinned releases exist for ${Object.keys(CLUSTER_AUTOSCALER_VERSIONS).join(', ')}), ` +
      'or set clusterAutoscaler: false');
  }
  return pinned;
}

/** Properties of {@link ClusterAutoscaler}. */
export interface ClusterAutoscalerProps {
  readonly cluster: eks.Cluster;
  /** The cluster's name: the literal one when it was given, so the tag condition needs no deploy-time lookup. */
  readonly clusterName: string;
  readonly version: ClusterAutoscalerVersion;
  /** What the autoscaler's pod needs before it can run: the node group it scales. */
  readonly nodes: IDependable;
}

/**
 * The Kubernetes Cluster Autoscaler (its Helm chart, through the cluster's kubectl provider) for
 * managed node groups: it finds the groups by the tags EKS puts on their Auto Scaling groups
 * (`k8s.io/cluster-autoscaler/enabled`, `k8s.io/cluster-autoscaler/<cluster name>`), and gets its
 * AWS credentials through a Pod Identity association with the documented least-privilege policy.
 */
export class ClusterAutoscaler extends Construct {
  /** The role of the autoscaler's service account. */
  public readonly role: iam.IRole;
  /** The Helm chart. */
  public readonly chart: eks.HelmChart;

  constructor(scope: Construct, id: string, props: ClusterAutoscalerProps) {
    super(scope, id);
    const { cluster } = props;
    const clusterTag = `k8s.io/cluster-autoscaler/${props.clusterName}`;
    const { role, association } = createPodIdentityRole(this, {
      cluster,
      serviceAccount: { namespace: CLUSTER_AUTOSCALER_CHART.namespace, name: CLUSTER_AUTOSCALER_CHART.serviceAccount },
      description: 'Kubernetes Cluster Autoscaler, through EKS Pod Identity',
    });
    this.role = role;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLaunchConfigurations',
        'autoscaling:DescribeScalingActivities',
        'autoscaling:DescribeTags',
        'ec2:DescribeImages',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeLaunchTemplateVersions',
        'ec2:GetInstanceTypesFromInstanceRequirements',
        'eks:DescribeNodegroup',
      ],
      resources: ['*'],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
      resources: ['*'],
      conditions: { StringEquals: this.ownedGroupCondition(clusterTag) },
    }));
    acknowledge(role, 'AwsSolutions-IAM5[Resource::*]',
      'The Cluster Autoscaler\'s documented policy: its Describe* calls support no resource-level permissions, and ' +
      'SetDesiredCapacity/TerminateInstanceInAutoScalingGroup are limited by an aws:ResourceTag condition to the ' +
      'Auto Scaling groups tagged for this cluster.');

    this.chart = new eks.HelmChart(this, 'Chart', {
      cluster,
      repository: CLUSTER_AUTOSCALER_CHART.repository,
      chart: CLUSTER_AUTOSCALER_CHART.chart,
      release: CLUSTER_AUTOSCALER_CHART.release,
      namespace: CLUSTER_AUTOSCALER_CHART.namespace,
      version: props.version.chartVersion,
      createNamespace: false,
      // The deploy fails (and rolls back) if the autoscaler does not start, e.g. its image cannot be pulled.
      wait: true,
      values: chartValues(Stack.of(this).region, props.clusterName, props.version.imageTag),
    });
    // Credentials are injected when the pod is created, so the association comes first; the pod
    // needs a node to run on.
    this.chart.node.addDependency(association, props.nodes);
  }

  /**
   * Only groups carrying this cluster's tags may be resized. The tag key contains the cluster
   * name; a name CloudFormation generates is known only at deploy time and an IAM condition key
   * cannot be a reference, so the condition is then built at deploy time (CfnJson).
   */
  private ownedGroupCondition(clusterTag: string): Record<string, string> | CfnJson {
    const condition = {
      'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true',
      [`aws:ResourceTag/${clusterTag}`]: 'owned',
    };
    return Token.isUnresolved(clusterTag) ? new CfnJson(this, 'OwnedGroupCondition', { value: condition }) : condition;
  }
}

/** The chart's values: discovery by this cluster's tags, the pinned image, a hardened pod. */
function chartValues(region: string, clusterName: string, imageTag: string): Record<string, any> {
  return {
    fullnameOverride: CLUSTER_AUTOSCALER_CHART.release,
    cloudProvider: 'aws',
    awsRegion: region,
    autoDiscovery: {
      clusterName,
      tags: ['k8s.io/cluster-autoscaler/enabled', `k8s.io/cluster-autoscaler/${clusterName}`],
    },
    image: { repository: 'registry.k8s.io/autoscaling/cluster-autoscaler', tag: imageTag },
    rbac: { serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_CHART.serviceAccount } },
    extraArgs: {
      // Explicitly off (the autoscaler's default is on): on, every node running a pod with an
      // emptyDir (system pods included) could never be removed. A running Job's pod is kept by its
      // own `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` annotation instead.
      'skip-nodes-with-local-storage': false,
      'expander': 'least-waste',
      'balance-similar-node-groups': true,
    },
    securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
    containerSecurityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  };
}
