import { RemovalPolicy } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IDependable } from 'constructs';
import { acknowledgeManagedPolicies } from '../private/acknowledgements';
import { podIdentityAgentOf, podIdentityPrincipal } from '../private/pod-identity';

/** Options of {@link ClusterObservability.containerInsights} and {@link ClusterObservability.logsOnly}. */
export interface ClusterObservabilityOptions {
  /**
   * How long CloudWatch Logs keeps the container log groups
   * (`/aws/containerinsights/<cluster>/application`, `dataplane`, `host`, and `performance` with
   * Container Insights).
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The version of the `amazon-cloudwatch-observability` add-on.
   *
   * @default - the version pinned for the cluster's Kubernetes version, else EKS's default
   */
  readonly addonVersion?: string;

  /**
   * What happens to the log groups when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * Where the cluster's container logs (and metrics) go: the Amazon CloudWatch Observability EKS
 * add-on with Container Insights (the default), the same add-on shipping logs only, or nothing.
 * The add-on's agents get their AWS credentials through EKS Pod Identity
 * (`amazon-cloudwatch/cloudwatch-agent`, with `CloudWatchAgentServerPolicy`); the log groups are
 * created in the stack with a retention before the add-on starts writing to them.
 */
export class ClusterObservability {
  /**
   * Container Insights (enhanced observability): the CloudWatch agent's cluster, node, pod and
   * container metrics (namespace `ContainerInsights`, performance log events in
   * `/aws/containerinsights/<cluster>/performance`) and Fluent Bit's container logs.
   */
  public static containerInsights(options: ClusterObservabilityOptions = {}): ClusterObservability {
    return new ClusterObservability(true, true, options);
  }

  /**
   * The lighter choice: the same add-on, but the CloudWatch agent collects no Container Insights
   * metrics (its `logs.metrics_collected` is empty); only Fluent Bit's container logs are sent.
   */
  public static logsOnly(options: ClusterObservabilityOptions = {}): ClusterObservability {
    return new ClusterObservability(true, false, options);
  }

  /** Nothing: container logs stay on the nodes. Run metrics of the workloads still reach CloudWatch. */
  public static none(): ClusterObservability {
    return new ClusterObservability(false, false, {});
  }

  /** Whether container logs are shipped to CloudWatch Logs. */
  public readonly containerLogs: boolean;
  /** Whether Container Insights metrics are collected. */
  public readonly containerInsightsMetrics: boolean;
  /** The retention of the container log groups. */
  public readonly logRetention: logs.RetentionDays;
  /** The add-on version asked for, if any. */
  public readonly addonVersion?: string;
  /** What happens to the log groups when they leave the stack. */
  public readonly logRemovalPolicy: RemovalPolicy;

  private constructor(containerLogs: boolean, metrics: boolean, options: ClusterObservabilityOptions) {
    this.containerLogs = containerLogs;
    this.containerInsightsMetrics = metrics;
    this.logRetention = options.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.addonVersion = options.addonVersion;
    this.logRemovalPolicy = options.logRemovalPolicy ?? RemovalPolicy.RETAIN;
  }
}

/**
 * `amazon-cloudwatch-observability` versions per Kubernetes minor version.
 *
 * v4.10.3 (chart release notes of aws-observability/helm-charts, 2026-03-18; pinned by AWS's own
 * aws-observability/application-signals-demo in PR #334 as `v4.10.3-eksbuild.1`) is the newest of
 * the v4 line, which still leaves Application Signals off unless asked for: v5.0.0 turns its
 * AutoMonitor on by default (release notes), which instruments workloads and bills per request.
 * Pod Identity needs v3.1.0 or later (CloudWatch user guide, "Quick start with the Amazon
 * CloudWatch Observability EKS add-on"). Kubernetes 1.36 support came to the agent's operator
 * after that (aws/amazon-cloudwatch-agent-operator PR #389, 2026-06-22), in versions this table has
 * no verified build string for: 1.36 gets EKS's default version for the cluster until one is
 * pinned (`aws eks describe-addon-versions --addon-name amazon-cloudwatch-observability
 * --kubernetes-version 1.36`).
 */
export const CLOUDWATCH_OBSERVABILITY_VERSIONS: ReadonlyMap<string, string | undefined> = new Map([
  ['1.32', 'v4.10.3-eksbuild.1'],
  ['1.33', 'v4.10.3-eksbuild.1'],
  ['1.34', 'v4.10.3-eksbuild.1'],
  ['1.35', 'v4.10.3-eksbuild.1'],
  ['1.36', undefined],
]);

export const CLOUDWATCH_AGENT_SERVICE_ACCOUNT = { namespace: 'amazon-cloudwatch', name: 'cloudwatch-agent' };

/** The log groups the add-on writes to; `performance` holds Container Insights' performance events. */
const LOG_GROUP_KINDS = ['application', 'dataplane', 'host'];

export interface ObservabilityInstallOptions {
  readonly kubernetesVersion: eks.KubernetesVersion;
  /** What the add-on must wait for: nodes to run its DaemonSets on (none with Auto Mode). */
  readonly nodes?: IDependable;
}

/** The add-on, its role and log groups (created under `scope`, id `Observability`). */
export class CloudWatchObservability extends Construct {
  public readonly addon: eks.CfnAddon;
  public readonly role: iam.IRole;
  public readonly logGroups: logs.ILogGroup[];

  constructor(scope: Construct, id: string, cluster: eks.ICluster, choice: ClusterObservability, options: ObservabilityInstallOptions) {
    super(scope, id);
    this.logGroups = [...LOG_GROUP_KINDS, ...(choice.containerInsightsMetrics ? ['performance'] : [])].map((kind) =>
      new logs.LogGroup(this, `${kind[0].toUpperCase()}${kind.slice(1)}LogGroup`, {
        logGroupName: `/aws/containerinsights/${cluster.clusterName}/${kind}`,
        retention: choice.logRetention,
        removalPolicy: choice.logRemovalPolicy,
      }));
    this.role = new iam.Role(this, 'AgentRole', {
      assumedBy: podIdentityPrincipal(this, cluster, CLOUDWATCH_AGENT_SERVICE_ACCOUNT),
      description: 'CloudWatch agent and Fluent Bit of the amazon-cloudwatch-observability add-on, through EKS Pod Identity',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('CloudWatchAgentServerPolicy')],
    });
    acknowledgeManagedPolicies(this.role,
      'AWS documents CloudWatchAgentServerPolicy as the permissions of the amazon-cloudwatch-observability add-on; it writes metrics and logs under names the agent derives at run time.');
    this.addon = new eks.CfnAddon(this, 'Addon', {
      clusterName: cluster.clusterName,
      addonName: 'amazon-cloudwatch-observability',
      addonVersion: choice.addonVersion ?? CLOUDWATCH_OBSERVABILITY_VERSIONS.get(options.kubernetesVersion.version),
      resolveConflicts: 'OVERWRITE',
      podIdentityAssociations: [{ serviceAccount: CLOUDWATCH_AGENT_SERVICE_ACCOUNT.name, roleArn: this.role.roleArn }],
      configurationValues: choice.containerInsightsMetrics ? undefined : JSON.stringify(LOGS_ONLY_CONFIGURATION),
    });
    // Created with their retention before Fluent Bit would create them without one.
    this.addon.node.addDependency(...this.logGroups);
    const agent = podIdentityAgentOf(cluster);
    if (agent) this.addon.node.addDependency(agent);
    if (options.nodes) this.addon.node.addDependency(options.nodes);
  }
}

/**
 * The add-on's configuration for logs only (its configuration schema is the Helm chart's values):
 * Fluent Bit on (`containerLogs.enabled`), and a CloudWatch agent configuration without the
 * `kubernetes` section that would collect Container Insights metrics.
 */
export const LOGS_ONLY_CONFIGURATION = {
  containerLogs: { enabled: true },
  agent: { config: { logs: { metrics_collected: {} } } },
};
