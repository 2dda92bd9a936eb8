import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ClusterObservability, ComputeMode, MlopsEksCluster, MlopsEksClusterProps, MlopsNetwork } from '../../src';
import { CLOUDWATCH_OBSERVABILITY_VERSIONS, observabilityAddonVersionFor } from '../../src/cluster/observability';

/** What each supported Kubernetes version must install, written out so that a changed pin fails here. */
const EXPECTED_PINS: Record<string, string> = {
  1.32: 'v4.10.3-eksbuild.1',
  1.33: 'v4.10.3-eksbuild.1',
  1.34: 'v4.10.3-eksbuild.1',
  1.35: 'v4.10.3-eksbuild.1',
  1.36: 'v6.2.0-eksbuild.1',
};
const SUPPORTED = [
  eks.KubernetesVersion.V1_32, eks.KubernetesVersion.V1_33, eks.KubernetesVersion.V1_34, eks.KubernetesVersion.V1_35, eks.KubernetesVersion.V1_36,
];

/** Application Signals is on when the agent's configuration names it or the operator auto-monitors services. */
function applicationSignalsOn(configuration: any): boolean {
  return JSON.stringify(configuration.agent?.config ?? 'default').includes('application_signals')
    || configuration.manager?.applicationSignals?.autoMonitor?.monitorAllServices !== false;
}

let stacks = 0;

function clusterTemplate(props: Partial<MlopsEksClusterProps> = {}): { template: Template; stack: Stack; cluster: MlopsEksCluster } {
  // One stack name per app: the apps of this file share an output directory.
  const stack = new Stack(new App(), `ObservabilityStack${++stacks}`);
  const cluster = new MlopsEksCluster(stack, 'Eks', {
    vpc: new MlopsNetwork(stack, 'Network').vpc, clusterName: 'mlops', kubernetesVersion: eks.KubernetesVersion.V1_36, ...props,
  });
  return { template: Template.fromStack(stack), stack, cluster };
}

function observabilityAddon(template: Template): Record<string, any> {
  const addons = Object.values<any>(template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'amazon-cloudwatch-observability' } }));
  expect(addons).toHaveLength(1);
  return addons[0];
}

function logGroups(template: Template): Record<string, number> {
  return Object.fromEntries(Object.values<any>(template.findResources('AWS::Logs::LogGroup'))
    .map((g) => [renderName(g.Properties.LogGroupName), g.Properties.RetentionInDays])
    .filter(([name]) => name.startsWith('/aws/containerinsights/')));
}

/** A log group name with the cluster's name as `<cluster>` where it is a reference to the cluster. */
function renderName(name: any): string {
  if (name === undefined || typeof name === 'string') return name ?? '';
  return name['Fn::Join'][1].map((part: any) => (typeof part === 'string' ? part : part.Ref?.startsWith('Eks') ? '<cluster>' : '?')).join('');
}

describe('MlopsEksCluster observability by default: Container Insights on Pod Identity', () => {
  let template: Template;
  let stack: Stack;
  let cluster: MlopsEksCluster;
  beforeAll(() => ({ template, stack, cluster } = clusterTemplate()));

  test('the amazon-cloudwatch-observability add-on on 1.36 is pinned (v6.2.0-eksbuild.1), credentials through Pod Identity', () => {
    const addon = observabilityAddon(template);
    expect(addon.Properties.AddonVersion).toBe('v6.2.0-eksbuild.1');
    expect(addon.Properties).toMatchObject({
      PodIdentityAssociations: [{ ServiceAccount: 'cloudwatch-agent', RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/AgentRole/), 'Arn'] } }],
    });
  });

  test('explicit ConfigurationValues (the chart\'s values schema): Container Insights and Fluent Bit on, Application Signals off, whatever the version\'s default', () => {
    const configuration = JSON.parse(observabilityAddon(template).Properties.ConfigurationValues);
    expect(configuration).toEqual({
      containerLogs: { enabled: true },
      agent: { config: { logs: { metrics_collected: { kubernetes: { enhanced_container_insights: true } } } } },
      manager: { applicationSignals: { autoMonitor: { monitorAllServices: false } } },
    });
    expect(applicationSignalsOn(configuration)).toBe(false);
  });

  test('the container log groups are deleted with the stack by default: they carry the cluster\'s name, and a retained one would make the next deploy fail with "already exists"', () => {
    const groups = Object.values<any>(template.findResources('AWS::Logs::LogGroup'))
      .filter((g) => renderName(g.Properties.LogGroupName).startsWith('/aws/containerinsights/'));
    expect(groups).toHaveLength(4);
    for (const group of groups) {
      expect(group.DeletionPolicy).toBe('Delete');
      expect(group.UpdateReplacePolicy).toBe('Delete');
    }
  });

  test('its role: CloudWatchAgentServerPolicy, trusted by pods.eks.amazonaws.com for amazon-cloudwatch/cloudwatch-agent only', () => {
    const roleId = observabilityAddon(template).Properties.PodIdentityAssociations[0].RoleArn['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId];
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain(':iam::aws:policy/CloudWatchAgentServerPolicy');
    const statement = role.Properties.AssumeRolePolicyDocument.Statement[0];
    expect(statement.Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
    expect(JSON.stringify(statement.Condition)).toContain('amazon-cloudwatch');
    expect(JSON.stringify(statement.Condition)).toContain('cloudwatch-agent');
  });

  test('the container log groups exist in the stack with a month\'s retention, and the add-on waits for them', () => {
    expect(logGroups(template)).toEqual({
      '/aws/containerinsights/<cluster>/application': 30,
      '/aws/containerinsights/<cluster>/dataplane': 30,
      '/aws/containerinsights/<cluster>/host': 30,
      '/aws/containerinsights/<cluster>/performance': 30,
    });
    const dependsOn: string[] = observabilityAddon(template).DependsOn;
    expect(dependsOn.filter((id) => /LogGroup/.test(id))).toHaveLength(4);
  });

  test('the add-on waits for the Pod Identity agent and the nodes', () => {
    const dependsOn: string[] = observabilityAddon(template).DependsOn;
    expect(dependsOn).toEqual(expect.arrayContaining([stack.getLogicalId(cluster.podIdentityAgent!.node.defaultChild as eks.CfnAddon)]));
    expect(dependsOn.some((id) => /Nodes/.test(id))).toBe(true);
    expect(cluster.observabilityAddon).toBeDefined();
  });
});

describe('ClusterObservability choices', () => {
  test('logsOnly(): Fluent Bit on, the agent\'s configuration without Container Insights metrics or Application Signals, no performance log group', () => {
    const { template } = clusterTemplate({ observability: ClusterObservability.logsOnly({ logRetention: logs.RetentionDays.ONE_WEEK }) });
    const configuration = JSON.parse(observabilityAddon(template).Properties.ConfigurationValues);
    expect(configuration).toEqual({
      containerLogs: { enabled: true },
      agent: { config: { logs: { metrics_collected: {} } } },
      manager: { applicationSignals: { autoMonitor: { monitorAllServices: false } } },
    });
    expect(applicationSignalsOn(configuration)).toBe(false);
    expect(logGroups(template)).toEqual({
      '/aws/containerinsights/<cluster>/application': 7,
      '/aws/containerinsights/<cluster>/dataplane': 7,
      '/aws/containerinsights/<cluster>/host': 7,
    });
  });

  test('none(): no add-on, no log groups', () => {
    const { template, cluster } = clusterTemplate({ observability: ClusterObservability.none() });
    expect(template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'amazon-cloudwatch-observability' } })).toEqual({});
    expect(logGroups(template)).toEqual({});
    expect(cluster.observabilityAddon).toBeUndefined();
  });

  test('an add-on version given wins over the pinned one', () => {
    const { template } = clusterTemplate({ observability: ClusterObservability.containerInsights({ addonVersion: 'v4.9.0-eksbuild.1' }) });
    expect(observabilityAddon(template).Properties.AddonVersion).toBe('v4.9.0-eksbuild.1');
  });

  test('EKS Auto Mode: the same add-on on Pod Identity (built into Auto Mode nodes), waiting for no node group', () => {
    const { template } = clusterTemplate({ computeMode: ComputeMode.AUTO_MODE });
    const addon = observabilityAddon(template);
    expect(addon.Properties.PodIdentityAssociations[0].ServiceAccount).toBe('cloudwatch-agent');
    expect((addon.DependsOn as string[]).filter((id) => !/LogGroup/.test(id))).toEqual([]);
  });

  test('RETAIN with a literal cluster name is kept as asked, with a synth warning that the next deploy of that name would fail', () => {
    const observability = ClusterObservability.containerInsights({ logRemovalPolicy: RemovalPolicy.RETAIN });
    const { template, stack } = clusterTemplate({ observability });
    const groups = Object.values<any>(template.findResources('AWS::Logs::LogGroup'))
      .filter((g) => renderName(g.Properties.LogGroupName).startsWith('/aws/containerinsights/'));
    expect(groups.map((g) => g.DeletionPolicy)).toEqual(['Retain', 'Retain', 'Retain', 'Retain']);
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('already exists'));
    expect(warnings.map((w) => String(w.entry.data))).toEqual([expect.stringContaining('/aws/containerinsights/mlops/*')]);
  });

  test('every supported Kubernetes version, 1.32 to 1.36, has a pin, each the expected build (a build string of Pod Identity\'s v3.1.0 or later)', () => {
    expect([...CLOUDWATCH_OBSERVABILITY_VERSIONS.keys()]).toEqual(Object.keys(EXPECTED_PINS));
    for (const kubernetesVersion of SUPPORTED) {
      const version = observabilityAddonVersionFor(kubernetesVersion, undefined);
      expect([kubernetesVersion.version, version]).toEqual([kubernetesVersion.version, EXPECTED_PINS[kubernetesVersion.version]]);
      const [major, minor] = /^v(\d+)\.(\d+)\.\d+-eksbuild\.\d+$/.exec(version)!.slice(1).map(Number);
      expect(major > 3 || (major === 3 && minor >= 1)).toBe(true);
    }
  });

  test('only the 1.36 pin is marked unverified (no describe-addon-versions output for 1.36 was seen)', () => {
    const unverified = [...CLOUDWATCH_OBSERVABILITY_VERSIONS].filter(([, pin]) => !pin.verified).map(([kubernetes]) => kubernetes);
    expect(unverified).toEqual(['1.36']);
  });

  test('a Kubernetes version without a pin is refused at synth, naming the prop, unless addonVersion is given', () => {
    expect(() => observabilityAddonVersionFor(eks.KubernetesVersion.V1_37, undefined))
      .toThrow(/invalid 'observability'.*kubernetesVersion 1\.37.*addonVersion/);
    expect(observabilityAddonVersionFor(eks.KubernetesVersion.V1_37, 'v6.9.0-eksbuild.1')).toBe('v6.9.0-eksbuild.1');
  });
});
