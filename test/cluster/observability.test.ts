import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ClusterObservability, ComputeMode, MlopsEksCluster, MlopsEksClusterProps, MlopsNetwork } from '../../src';
import { CLOUDWATCH_OBSERVABILITY_VERSIONS } from '../../src/cluster/observability';

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

  test('the amazon-cloudwatch-observability add-on, pinned for the Kubernetes version, credentials through Pod Identity', () => {
    const addon = observabilityAddon(template);
    expect(addon.Properties.AddonVersion).toBe(CLOUDWATCH_OBSERVABILITY_VERSIONS.get('1.36'));
    expect(addon.Properties).toMatchObject({
      PodIdentityAssociations: [{ ServiceAccount: 'cloudwatch-agent', RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/AgentRole/), 'Arn'] } }],
    });
    expect(addon.Properties.ConfigurationValues).toBeUndefined();
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
  test('logsOnly(): Fluent Bit on, the agent\'s configuration without Container Insights metrics, no performance log group', () => {
    const { template } = clusterTemplate({ observability: ClusterObservability.logsOnly({ logRetention: logs.RetentionDays.ONE_WEEK }) });
    expect(JSON.parse(observabilityAddon(template).Properties.ConfigurationValues)).toEqual({
      containerLogs: { enabled: true },
      agent: { config: { logs: { metrics_collected: {} } } },
    });
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

  test('every Kubernetes version 1.32 to 1.36 has an entry; each pin is an EKS add-on build string of Pod Identity\'s v3.1.0 or later', () => {
    expect([...CLOUDWATCH_OBSERVABILITY_VERSIONS.keys()]).toEqual(['1.32', '1.33', '1.34', '1.35', '1.36']);
    for (const version of [...CLOUDWATCH_OBSERVABILITY_VERSIONS.values()].filter((v) => v !== undefined)) {
      const [major, minor] = /^v(\d+)\.(\d+)\.\d+-eksbuild\.\d+$/.exec(version!)!.slice(1).map(Number);
      expect(major > 3 || (major === 3 && minor >= 1)).toBe(true);
    }
  });
});
