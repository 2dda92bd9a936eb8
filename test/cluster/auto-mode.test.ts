import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { ComputeMode, MlopsEksCluster, MlopsEksClusterProps, MlopsNetwork, PodIdentityPreprocessing, PreprocessingTrigger } from '../../src';
import { runAwsSolutions } from '../nag';

type ClusterProps = Partial<MlopsEksClusterProps> | ((stack: Stack) => Partial<MlopsEksClusterProps>);

function autoModeStack(app: App, props: ClusterProps = {}): { stack: Stack; cluster: MlopsEksCluster } {
  const stack = new Stack(app, 'AutoModeStack');
  const network = new MlopsNetwork(stack, 'Network');
  const cluster = new MlopsEksCluster(stack, 'Eks', {
    vpc: network.vpc, kubernetesVersion: eks.KubernetesVersion.V1_36, computeMode: ComputeMode.AUTO_MODE, ...(typeof props === 'function' ? props(stack) : props),
  });
  return { stack, cluster };
}

function addonNames(template: Template): string[] {
  return Object.values<any>(template.findResources('AWS::EKS::Addon')).map((addon) => addon.Properties.AddonName).sort();
}

/** The objects a Kubernetes manifest resource applies; references become `TOKEN`. */
function manifestObjects(resource: any): Array<Record<string, any>> {
  const manifest = resource.Properties.Manifest;
  const text = typeof manifest === 'string' ? manifest : manifest['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text);
}

function manifestsApplying(template: Template, kind: string): any[] {
  return Object.values<any>(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
    .filter((resource) => manifestObjects(resource).some((o) => o.kind === kind));
}

describe('MlopsEksCluster in EKS Auto Mode, with a PodIdentityPreprocessing workload', () => {
  let template: Template;
  let cluster: MlopsEksCluster;
  beforeAll(() => {
    const app = new App();
    const built = autoModeStack(app);
    cluster = built.cluster;
    new PodIdentityPreprocessing(built.stack, 'Preprocessing', { cluster: cluster.cluster });
    template = Template.fromStack(built.stack);
  });

  test('the cluster runs Auto Mode compute, block storage and load balancing with the built-in node pools', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ComputeConfig: {
        Enabled: true,
        NodePools: ['system', 'general-purpose'],
        NodeRoleArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] },
      },
      StorageConfig: { BlockStorage: { Enabled: true } },
      KubernetesNetworkConfig: Match.objectLike({ ElasticLoadBalancing: { Enabled: true } }),
      BootstrapSelfManagedAddons: false,
    });
    expect(cluster.computeMode).toBe(ComputeMode.AUTO_MODE);
  });

  test('the nodes\' role is the one aws-eks-v2 makes for the node pools', () => {
    const [resource] = Object.values<any>(template.findResources('AWS::EKS::Cluster'));
    const nodeRole = template.toJSON().Resources[resource.Properties.ComputeConfig.NodeRoleArn['Fn::GetAtt'][0]];
    expect(nodeRole.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'ec2.amazonaws.com' });
    const policies = nodeRole.Properties.ManagedPolicyArns.map((arn: any) => arn['Fn::Join'][1].at(-1));
    expect(policies).toEqual([':iam::aws:policy/AmazonEKSWorkerNodePolicy', ':iam::aws:policy/AmazonEC2ContainerRegistryReadOnly']);
  });

  test('there is no node group, launch template, self-managed add-on or Cluster Autoscaler', () => {
    template.resourceCountIs('AWS::EKS::Nodegroup', 0);
    template.resourceCountIs('AWS::EC2::LaunchTemplate', 0);
    // Only the observability add-on (src/cluster/observability.ts), which Auto Mode runs too.
    expect(addonNames(template)).toEqual(['amazon-cloudwatch-observability']);
    template.resourceCountIs('Custom::AWSCDK-EKS-HelmChart', 0);
    expect(cluster.nodegroup).toBeUndefined();
    expect(cluster.nodeRole).toBeUndefined();
    expect(cluster.podIdentityAgent).toBeUndefined();
    expect(cluster.vpcCniRole).toBeUndefined();
    expect(cluster.ebsCsiDriverRole).toBeUndefined();
    expect(cluster.clusterAutoscalerRole).toBeUndefined();
  });

  test('no eks-pod-identity-agent add-on is created: Auto Mode nodes run the agent', () => {
    expect(Object.keys(template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'eks-pod-identity-agent' } }))).toEqual([]);
  });

  test('the network policy controller is switched on, so the workload\'s NetworkPolicy is enforced', () => {
    const [configMap] = manifestsApplying(template, 'ConfigMap');
    expect(manifestObjects(configMap)).toEqual([{
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: expect.objectContaining({ name: 'amazon-vpc-cni', namespace: 'kube-system' }),
      data: { 'enable-network-policy-controller': 'true' },
    }]);
    expect(configMap.Properties.Overwrite).toBe(true);
  });

  test('the workload\'s role is associated with its service account, with no agent add-on to wait for', () => {
    const associations = Object.values<any>(template.findResources('AWS::EKS::PodIdentityAssociation'));
    expect(associations).toHaveLength(1);
    expect(associations[0].Properties).toMatchObject({ Namespace: 'mlops', ServiceAccount: 'data-preprocessing-sa' });
    expect(associations[0].DependsOn ?? []).toEqual([]);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] })],
      },
    });
  });

  test('the workload\'s manifests are applied: namespace, service account, NetworkPolicy and what runs the pods', () => {
    const objects = Object.values<any>(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).flatMap(manifestObjects);
    const kinds = objects.map((o) => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(['Namespace', 'ServiceAccount', 'NetworkPolicy']));
    expect(kinds.filter((kind) => ['Job', 'CronJob', 'ScaledJob'].includes(kind))).toHaveLength(1);
    const policy = objects.find((o) => o.kind === 'NetworkPolicy')!;
    const dns = policy.spec.egress.find((rule: any) => rule.ports.some((p: any) => p.port === 53));
    // Auto Mode serves DNS from each node, not from kube-dns pods: the rule may not be limited to pods.
    expect(dns.to).toBeUndefined();
  });

  test('the endpoint stays private', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false }),
    });
  });
});

describe('MlopsEksCluster in EKS Auto Mode, with a per-upload workload (KEDA)', () => {
  let template: Template;
  beforeAll(() => {
    const { stack, cluster } = autoModeStack(new App(), { keda: true });
    new PodIdentityPreprocessing(stack, 'Preprocessing', { cluster: cluster.cluster, trigger: PreprocessingTrigger.onUpload() });
    template = Template.fromStack(stack);
  });

  test('KEDA\'s operator and the workload get their associations, neither waiting for an agent add-on', () => {
    expect(addonNames(template)).toEqual(['amazon-cloudwatch-observability']);
    const associations = Object.values<any>(template.findResources('AWS::EKS::PodIdentityAssociation'));
    expect(associations.map((a) => `${a.Properties.Namespace}/${a.Properties.ServiceAccount}`).sort())
      .toEqual(['keda/keda-operator', 'mlops/data-preprocessing-sa']);
    for (const association of associations) {
      expect(association.DependsOn ?? []).toEqual([]);
    }
  });

  test('KEDA\'s chart is installed and the ScaledJob is applied', () => {
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { Chart: 'keda' });
    template.resourceCountIs('Custom::AWSCDK-EKS-HelmChart', 1); // no Cluster Autoscaler under Auto Mode
    const kinds = Object.values<any>(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'))
      .flatMap(manifestObjects).map((o) => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(['ScaledJob', 'NetworkPolicy', 'ConfigMap']));
  });
});

describe('EKS Auto Mode refuses node-group settings, naming the prop', () => {
  test.each<[Partial<MlopsEksClusterProps>, RegExp]>([
    [{ capacityType: eks.CapacityType.SPOT }, /invalid 'capacityType': applies only to ComputeMode.MANAGED_NODEGROUP/],
    [{ instanceTypes: [new ec2.InstanceType('m5.large')] }, /invalid 'instanceTypes': applies only to ComputeMode.MANAGED_NODEGROUP/],
    [{ minSize: 2 }, /invalid 'minSize'/],
    [{ maxSize: 9 }, /invalid 'maxSize'/],
    [{ nodegroupName: 'nodes' }, /invalid 'nodegroupName'/],
    [{ addonVersions: { vpcCni: 'v1.19.2-eksbuild.1' } }, /invalid 'addonVersions'/],
    [{ clusterAutoscaler: true }, /invalid 'clusterAutoscaler': applies only to ComputeMode.MANAGED_NODEGROUP; EKS Auto Mode scales the cluster itself/],
    [{ nodeArchitecture: ec2.InstanceArchitecture.ARM_64 }, /invalid 'nodeArchitecture': ARM_64 needs ComputeMode.MANAGED_NODEGROUP/],
  ])('%j', (props, message) => {
    expect(() => autoModeStack(new App(), props)).toThrow(message);
  });

  test('clusterAutoscaler: false and an x86 architecture are accepted', () => {
    expect(() => autoModeStack(new App(), { clusterAutoscaler: false, nodeArchitecture: ec2.InstanceArchitecture.X86_64 })).not.toThrow();
  });
});

describe('cdk-nag AwsSolutions on an Auto Mode cluster with a workload', () => {
  test('no unacknowledged finding, every acknowledgement with a reason', () => {
    const report = runAwsSolutions((app) => {
      const { stack, cluster } = autoModeStack(app);
      const workload = new PodIdentityPreprocessing(stack, 'Preprocessing', { cluster: cluster.cluster });
      Validations.of(workload).acknowledge({ id: 'AwsSolutions-S1', reason: 'Test buckets; server access logging is the user\'s choice (serverAccessLogsBucket).' });
    });
    expect(report.violations).toEqual([]);
    const ids = report.acknowledgements.map((a) => a.id);
    expect(ids).toContain('Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSComputePolicy]');
    expect(ids).toContain('Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSWorkerNodePolicy]');
    for (const { id, reason } of report.acknowledgements) {
      expect(`${id}: ${reason}`).toMatch(/: \S.{30,}/);
    }
  });
});
