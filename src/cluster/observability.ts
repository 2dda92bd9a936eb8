import { Annotations, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IDependable } from 'constructs';
import { acknowledgeManagedPolicies } from '../private/acknowledgements';
import { podIdentityAgentOf, podIdentityPrincipal } from '../private/pod-identity';
import { PropValidationError } from '../private/validation';

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
   * @default - the version pinned for the cluster's Kubernetes version (1.32 to 1.36); other
   * versions need it given
   */
  readonly addonVersion?: string;

  /**
   * What happens to the log groups when they leave the stack (or the stack is destroyed).
   *
   * They are named after the cluster, so a retained group blocks the next deploy of a cluster of
   * that name ("already exists") until it is deleted or imported; `RETAIN` with a literal
   * `clusterName` gets a synth warning.
   *
   * @default RemovalPolicy.DESTROY, as for the control-plane log group
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
    this.logRemovalPolicy = options.logRemovalPolicy ?? RemovalPolicy.DESTROY;
  }
}

/** A pinned `amazon-cloudwatch-observability` version and whether it was seen on that Kubernetes version. */
export interface ObservabilityAddonPin {
  readonly version: string;
  /**
   * False where no source this table relies on shows the build on that Kubernetes version (the
   * v4.10.3 rows rest on the chart's release notes, AWS's own demo and the operator's Kubernetes
   * test matrix of that release; see the README).
   */
  readonly verified: boolean;
}

/**
 * `amazon-cloudwatch-observability` versions per Kubernetes minor version; a version not listed
 * needs `addonVersion` given (refused at synth otherwise, so a version bump never drops
 * `AddonVersion` from the template and lets EKS pick its default).
 *
 * v4.10.3 (chart release notes of aws-observability/helm-charts, 2026-03-18; pinned by AWS's own
 * aws-observability/application-signals-demo in PR #334 as `v4.10.3-eksbuild.1`) is the newest of
 * the v4 line. Pod Identity needs v3.1.0 or later (CloudWatch user guide, "Quick start with the
 * Amazon CloudWatch Observability EKS add-on"). Kubernetes 1.36 support came to the agent's
 * operator after that (aws/amazon-cloudwatch-agent-operator PR #389, 2026-06-22), so 1.36 takes
 * the first build the CloudWatch user guide names after it, `v6.2.0-eksbuild.1` ("Install the
 * CloudWatch agent with the Amazon CloudWatch Observability EKS add-on or the Helm chart"); it is
 * UNVERIFIED: no `describe-addon-versions --kubernetes-version 1.36` output listing it was seen.
 * Check before a production deploy, and pass `addonVersion` if EKS reports another:
 *
 *   aws eks describe-addon-versions --addon-name amazon-cloudwatch-observability --kubernetes-version 1.36 \
 *     --query 'addons[].addonVersions[].addonVersion'
 *
 * Application Signals does not depend on the version: v5.0.0 turned its auto-monitoring on by
 * default, and {@link observabilityConfiguration} turns it off explicitly on every version.
 */
export const CLOUDWATCH_OBSERVABILITY_VERSIONS: ReadonlyMap<string, ObservabilityAddonPin> = new Map([
  ['1.32', { version: 'v4.10.3-eksbuild.1', verified: true }],
  ['1.33', { version: 'v4.10.3-eksbuild.1', verified: true }],
  ['1.34', { version: 'v4.10.3-eksbuild.1', verified: true }],
  ['1.35', { version: 'v4.10.3-eksbuild.1', verified: true }],
  ['1.36', { version: 'v6.2.0-eksbuild.1', verified: false }],
]);

export const CLOUDWATCH_AGENT_SERVICE_ACCOUNT = { namespace: 'amazon-cloudwatch', name: 'cloudwatch-agent' };

/** The log groups the add-on writes to; `performance` holds Container Insights' performance events. */
const LOG_GROUP_KINDS = ['application', 'dataplane', 'host'];

export interface ObservabilityInstallOptions {
  readonly kubernetesVersion: eks.KubernetesVersion;
  /** The `clusterName` prop as given: a literal one makes retained log groups block the next deploy. */
  readonly givenClusterName?: string;
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
    const addonVersion = observabilityAddonVersionFor(options.kubernetesVersion, choice.addonVersion);
    warnOfRetainedFixedNames(this, options.givenClusterName, choice);
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
      addonVersion,
      resolveConflicts: 'OVERWRITE',
      podIdentityAssociations: [{ serviceAccount: CLOUDWATCH_AGENT_SERVICE_ACCOUNT.name, roleArn: this.role.roleArn }],
      configurationValues: JSON.stringify(observabilityConfiguration(choice.containerInsightsMetrics)),
    });
    // Created with their retention before Fluent Bit would create them without one.
    this.addon.node.addDependency(...this.logGroups);
    const agent = podIdentityAgentOf(cluster);
    if (agent) this.addon.node.addDependency(agent);
    if (options.nodes) this.addon.node.addDependency(options.nodes);
  }
}

/**
 * The add-on version: the one given, else the one pinned for the Kubernetes version; a version
 * without a pin (or a token) is refused, naming the prop.
 */
export function observabilityAddonVersionFor(kubernetesVersion: eks.KubernetesVersion, given: string | undefined): string {
  if (given !== undefined) return given;
  const version = kubernetesVersion.version;
  const pinned = Token.isUnresolved(version) ? undefined : CLOUDWATCH_OBSERVABILITY_VERSIONS.get(version);
  if (pinned) return pinned.version;
  throw new PropValidationError('MlopsEksCluster', 'observability',
    `no amazon-cloudwatch-observability version is pinned for kubernetesVersion ${Token.isUnresolved(version) ? '(a token)' : version} ` +
    `(pinned for ${[...CLOUDWATCH_OBSERVABILITY_VERSIONS.keys()].join(', ')}): pass ` +
    'ClusterObservability.containerInsights({ addonVersion }) (or logsOnly), e.g. a version that ' +
    '`aws eks describe-addon-versions --addon-name amazon-cloudwatch-observability --kubernetes-version <version>` lists, ' +
    'or ClusterObservability.none()');
}

/** A retained log group with a fixed name blocks the next deploy of a cluster of that name. */
function warnOfRetainedFixedNames(scope: Construct, clusterName: string | undefined, choice: ClusterObservability): void {
  if (choice.logRemovalPolicy !== RemovalPolicy.RETAIN || clusterName === undefined || Token.isUnresolved(clusterName)) return;
  Annotations.of(scope).addWarningV2('cdk-mlops-eks:retainedContainerInsightsLogGroups',
    `logRemovalPolicy RETAIN: /aws/containerinsights/${clusterName}/* stay after the stack is gone, and the next deploy ` +
    'of a cluster of this name fails ("already exists") until they are deleted or imported with `cdk import`.');
}

/**
 * The add-on's configuration, always sent explicitly so that neither the add-on version nor EKS's
 * defaults decide what runs. Its schema is the Helm chart's values (aws-observability/helm-charts,
 * charts/amazon-cloudwatch-observability/values.yaml and templates/_helpers.tpl):
 * - `containerLogs.enabled`: Fluent Bit on.
 * - `agent.config` replaces the chart's `agent.defaultConfig`, whose
 *   `logs.metrics_collected.application_signals` and `traces.traces_collected.application_signals`
 *   turn the Application Signals pipeline on; without them the agent collects only Container
 *   Insights (`logs.metrics_collected.kubernetes`) or nothing (logs only).
 * - `manager.applicationSignals.autoMonitor.monitorAllServices: false`: the operator instruments no
 *   workload by itself (the `manager.modify-auto-monitor-config` helper derives it from the agent
 *   configuration too; v5.0.0 made it default to true where the agent has Application Signals).
 */
export function observabilityConfiguration(containerInsightsMetrics: boolean): Record<string, unknown> {
  return {
    containerLogs: { enabled: true },
    agent: {
      config: {
        logs: { metrics_collected: containerInsightsMetrics ? { kubernetes: { enhanced_container_insights: true } } : {} },
      },
    },
    manager: { applicationSignals: { autoMonitor: { monitorAllServices: false } } },
  };
}
