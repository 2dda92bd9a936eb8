import { KubectlV32Layer } from '@aws-cdk/lambda-layer-kubectl-v32';
import { App, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ComputeMode, MlopsEksCluster, MlopsEksClusterProps, MlopsNetwork } from '../../src';
import { ADDON_NAMES, PINNED_ADDON_VERSIONS } from '../../src/cluster/addon-versions';

interface Synthesized {
  readonly stack: Stack;
  readonly cluster: MlopsEksCluster;
  readonly template: Template;
}

function synth(props: Partial<MlopsEksClusterProps> = {}, extra?: (stack: Stack, cluster: MlopsEksCluster) => void): Synthesized {
  const stack = new Stack(new App(), 'EksClusterStack');
  const network = new MlopsNetwork(stack, 'Network');
  const cluster = new MlopsEksCluster(stack, 'Eks', { vpc: network.vpc, kubernetesVersion: eks.KubernetesVersion.V1_36, ...props });
  extra?.(stack, cluster);
  return { stack, cluster, template: Template.fromStack(stack) };
}

function privateSubnetRefs(template: Template): Array<{ Ref: string }> {
  const subnets = template.findResources('AWS::EC2::Subnet', {
    Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]) },
  });
  return Object.keys(subnets).sort().map((id) => ({ Ref: id }));
}

describe('MlopsEksCluster with only a VPC', () => {
  let template: Template;
  let cluster: MlopsEksCluster;
  beforeAll(() => {
    ({ template, cluster } = synth({}, (stack, c) => {
      c.grantClusterAdmin(new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() }));
    }));
  });

  test('runs the Kubernetes version it is given, 1.36 with the bundled kubectl layer', () => {
    expect(cluster.kubernetesVersion.version).toBe('1.36');
    template.hasResourceProperties('AWS::EKS::Cluster', { Version: '1.36' });
    template.resourceCountIs('AWS::Lambda::LayerVersion', 2); // kubectl + AWS CLI
  });

  test('the control plane sits in private subnets behind a private-only endpoint', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({
        EndpointPrivateAccess: true,
        EndpointPublicAccess: false,
        SubnetIds: privateSubnetRefs(template),
      }),
    });
    const [resource] = Object.values<any>(template.findResources('AWS::EKS::Cluster'));
    expect(resource.Properties.ResourcesVpcConfig.PublicAccessCidrs).toBeUndefined();
  });

  test('the kubectl handler runs in the private subnets, in the cluster security group that reaches the private endpoint', () => {
    const handlers = Object.values<any>(template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'onEvent handler for EKS kubectl resource provider' },
    }));
    expect(handlers).toHaveLength(1);
    expect(handlers[0].Properties.VpcConfig).toEqual({
      SubnetIds: privateSubnetRefs(template),
      SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/^EksCluster/), 'ClusterSecurityGroupId'] }],
    });
  });

  test('the private subnets reach chart repositories and AWS APIs through the NAT gateway', () => {
    const natRoutes = template.findResources('AWS::EC2::Route', {
      Properties: { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: Match.anyValue() },
    });
    expect(Object.keys(natRoutes)).toHaveLength(2);
  });

  test('Kubernetes secrets are encrypted with a rotating customer managed key', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      EncryptionConfig: [{
        Provider: { KeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EksSecretsKey'), 'Arn'] } },
        Resources: ['secrets'],
      }],
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('all five control-plane log types are enabled', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      Logging: {
        ClusterLogging: {
          EnabledTypes: [{ Type: 'api' }, { Type: 'audit' }, { Type: 'authenticator' }, { Type: 'controllerManager' }, { Type: 'scheduler' }],
        },
      },
    });
  });

  test('access entries are the only authentication and the creator gets no implicit admin', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      AccessConfig: { AuthenticationMode: 'API', BootstrapClusterCreatorAdminPermissions: false },
    });
  });

  test('the node group has the walkthrough sizes on AL2023 in private subnets', () => {
    template.resourceCountIs('AWS::EKS::Nodegroup', 1);
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'AL2023_x86_64_STANDARD',
      CapacityType: 'ON_DEMAND',
      InstanceTypes: ['t3.medium'],
      ScalingConfig: { MinSize: 1, MaxSize: 5, DesiredSize: 1 },
      Subnets: privateSubnetRefs(template),
      LaunchTemplate: { Id: { Ref: Match.stringLikeRegexp('^EksNodeLaunchTemplate') }, Version: Match.anyValue() },
    });
    expect(cluster.computeMode).toBe(ComputeMode.MANAGED_NODEGROUP);
    expect(cluster.nodeArchitecture).toBe(ec2.InstanceArchitecture.X86_64);
    expect(cluster.imagePlatform.platform).toBe('linux/amd64');
  });

  test('the node role has only the worker-node and ECR read-only policies, not the VPC CNI policy', () => {
    const [nodegroup] = Object.values<any>(template.findResources('AWS::EKS::Nodegroup'));
    const roleId = nodegroup.Properties.NodeRole['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId];
    const policies = role.Properties.ManagedPolicyArns.map((arn: any) => arn['Fn::Join'][1].at(-1));
    expect(policies).toEqual([':iam::aws:policy/AmazonEKSWorkerNodePolicy', ':iam::aws:policy/AmazonEC2ContainerRegistryReadOnly']);
    expect(JSON.stringify(template.toJSON())).not.toContain('NodeGroupRole');
  });

  test('the VPC CNI gets AmazonEKS_CNI_Policy through Pod Identity for kube-system/aws-node, after the agent', () => {
    const [id, vpcCni] = Object.entries<any>(template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'vpc-cni' } }))[0];
    expect(id).toMatch(/VpcCni/);
    expect(vpcCni.Properties.PodIdentityAssociations).toEqual([{
      ServiceAccount: 'aws-node',
      RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/VpcCniRole/), 'Arn'] },
    }]);
    const agentId = Object.keys(template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'eks-pod-identity-agent' } }))[0];
    expect(vpcCni.DependsOn).toContain(agentId);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Condition: {
            StringEquals: Match.objectLike({
              'aws:RequestTag/kubernetes-namespace': 'kube-system',
              'aws:RequestTag/kubernetes-service-account': 'aws-node',
            }),
          },
        })],
      },
      ManagedPolicyArns: [{ 'Fn::Join': ['', Match.arrayWith([':iam::aws:policy/AmazonEKS_CNI_Policy'])] }],
    });
  });

  test('nodes get IMDSv2 with hop limit 1 and an encrypted 100 GiB gp3 root volume', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 100, VolumeType: 'gp3', Encrypted: true } }],
      }),
    });
  });

  test.each(['vpc-cni', 'coredns', 'kube-proxy', 'eks-pod-identity-agent', 'aws-ebs-csi-driver'])('installs the %s add-on', (addonName) => {
    template.hasResourceProperties('AWS::EKS::Addon', { AddonName: addonName, ResolveConflicts: 'OVERWRITE' });
  });

  test('EKS installs no self-managed networking; the managed add-ons come first and nodes wait for them', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', { BootstrapSelfManagedAddons: false });
    const addonId = (name: string): string => Object.keys(template.findResources('AWS::EKS::Addon', { Properties: { AddonName: name } }))[0];
    const [nodegroupId, nodegroup] = Object.entries<any>(template.findResources('AWS::EKS::Nodegroup'))[0];
    expect(nodegroup.DependsOn).toEqual(expect.arrayContaining([addonId('vpc-cni'), addonId('kube-proxy')]));
    const dependsOn = (name: string): string[] => template.toJSON().Resources[addonId(name)].DependsOn ?? [];
    expect(dependsOn('coredns')).toContain(nodegroupId);
    expect(dependsOn('aws-ebs-csi-driver')).toEqual(expect.arrayContaining([nodegroupId, addonId('eks-pod-identity-agent')]));
    expect(dependsOn('vpc-cni')).not.toContain(nodegroupId);
  });

  test('manifests wait for nodes, CoreDNS and the Pod Identity agent', () => {
    const addonId = (name: string): string => Object.keys(template.findResources('AWS::EKS::Addon', { Properties: { AddonName: name } }))[0];
    const [barrier] = Object.values<any>(template.findResources('AWS::SSM::Parameter', {}))
      .filter((r) => JSON.stringify(r.Properties).includes('aws:cdk:eks:kubectl-ready'));
    expect(barrier.DependsOn).toEqual(expect.arrayContaining([addonId('coredns'), addonId('eks-pod-identity-agent')]));
  });

  test('the VPC CNI enforces Kubernetes NetworkPolicies', () => {
    template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'vpc-cni',
      ConfigurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }),
    });
  });

  test('every core add-on has a pinned version, so a Kubernetes version bump moves it', () => {
    const core: string[] = Object.values(ADDON_NAMES);
    for (const addon of Object.values<any>(template.findResources('AWS::EKS::Addon')).filter((a) => core.includes(a.Properties.AddonName))) {
      expect(addon.Properties.AddonVersion).toMatch(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
    }
  });

  test('the Pod Identity agent is installed exactly once', () => {
    const agents = template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'eks-pod-identity-agent' } });
    expect(Object.keys(agents)).toHaveLength(1);
  });

  test('the EBS CSI driver gets its role through Pod Identity, scoped to this account, cluster and service account', () => {
    template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'aws-ebs-csi-driver',
      PodIdentityAssociations: [{ ServiceAccount: 'ebs-csi-controller-sa', RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('EbsCsiDriverRole'), 'Arn'] } }],
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Condition: {
            StringEquals: {
              'aws:SourceAccount': { Ref: 'AWS::AccountId' },
              'aws:RequestTag/eks-cluster-arn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^EksCluster'), 'Arn'] },
              'aws:RequestTag/kubernetes-namespace': 'kube-system',
              'aws:RequestTag/kubernetes-service-account': 'ebs-csi-controller-sa',
            },
          },
        }],
      },
      ManagedPolicyArns: [{ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('AmazonEBSCSIDriverPolicy')])] }],
    });
  });

  test('grantClusterAdmin creates a cluster-scoped admin access entry for the role', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Admin'), 'Arn'] },
      AccessPolicies: [{
        AccessScope: { Type: 'cluster' },
        PolicyArn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('AmazonEKSClusterAdminPolicy')])] },
      }],
    });
  });

  test('no role trusts any principal, and no role has AdministratorAccess', () => {
    for (const role of Object.values<any>(template.findResources('AWS::IAM::Role'))) {
      for (const statement of role.Properties.AssumeRolePolicyDocument.Statement) {
        expect(statement.Principal).not.toEqual({ AWS: '*' });
        expect(statement.Principal).not.toBe('*');
      }
      expect(JSON.stringify(role.Properties.ManagedPolicyArns ?? [])).not.toContain('AdministratorAccess');
    }
  });

  test('no security group admits traffic from 0.0.0.0/0', () => {
    for (const group of Object.values<any>(template.findResources('AWS::EC2::SecurityGroup'))) {
      expect(group.Properties.SecurityGroupIngress ?? []).not.toContainEqual(expect.objectContaining({ CidrIp: '0.0.0.0/0' }));
    }
    const openIngress = template.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { CidrIp: '0.0.0.0/0' } });
    expect(Object.keys(openIngress)).toHaveLength(0);
  });
});

describe('MlopsEksCluster options', () => {
  test('SPOT capacity spreads over six capacity pools of one size, 2 vCPU and 4 GiB, as the Cluster Autoscaler needs', () => {
    const { template } = synth({ capacityType: eks.CapacityType.SPOT });
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      CapacityType: 'SPOT',
      AmiType: 'AL2023_x86_64_STANDARD',
      InstanceTypes: ['t3.medium', 't3a.medium', 'c5.large', 'c5a.large', 'c6i.large', 'c6a.large'],
    });
  });

  test('instance types of one size pass, and types of unknown size are not judged', () => {
    expect(() => synth({ instanceTypes: ['m5.xlarge', 'm6i.xlarge', 'm7a.xlarge', 't3.xlarge'].map((t) => new ec2.InstanceType(t)) })).not.toThrow();
    expect(() => synth({ instanceTypes: ['t3.medium', 'x2iedn.xlarge'].map((t) => new ec2.InstanceType(t)) })).not.toThrow();
    expect(() => synth({ clusterAutoscaler: false, instanceTypes: ['t3.medium', 'm5.large'].map((t) => new ec2.InstanceType(t)) })).not.toThrow();
  });

  test('Graviton nodes: the AL2023 ARM AMI, t4g on demand, and an arm64 image platform', () => {
    const { template, cluster } = synth({ nodeArchitecture: ec2.InstanceArchitecture.ARM_64 });
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'AL2023_ARM_64_STANDARD',
      CapacityType: 'ON_DEMAND',
      InstanceTypes: ['t4g.medium'],
    });
    expect(cluster.nodeArchitecture).toBe(ec2.InstanceArchitecture.ARM_64);
    expect(cluster.imagePlatform.platform).toBe('linux/arm64');
  });

  test('Graviton Spot nodes spread over three arm64 capacity pools of one size, 2 vCPU and 4 GiB', () => {
    const { template } = synth({ nodeArchitecture: ec2.InstanceArchitecture.ARM_64, capacityType: eks.CapacityType.SPOT });
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'AL2023_ARM_64_STANDARD',
      CapacityType: 'SPOT',
      InstanceTypes: ['t4g.medium', 'c6g.large', 'c7g.large'],
    });
  });

  test('desiredSize defaults to minSize', () => {
    const { template } = synth({ minSize: 2, maxSize: 6 });
    template.hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 2, MaxSize: 6, DesiredSize: 2 } });
  });

  test('minSize 0 with the Cluster Autoscaler still starts one node, for the system pods that must run before it can add one', () => {
    const { template } = synth({ minSize: 0 });
    template.hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 0, MaxSize: 5, DesiredSize: 1 } });
  });

  test('without the Cluster Autoscaler, minSize 0 may start with no node (something else adds them)', () => {
    const { template } = synth({ minSize: 0, clusterAutoscaler: false });
    template.hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 0, MaxSize: 5, DesiredSize: 0 } });
  });

  test('a fixed nodegroupName warns at synth that replacing changes then fail, and names them', () => {
    const { stack } = synth({ nodegroupName: 'primary' });
    const warnings = Annotations.fromStack(stack).findWarning('/EksClusterStack/Eks', Match.stringLikeRegexp(
      "nodegroupName 'primary'.*capacityType, instanceTypes, amiType, nodeSubnets.*cdk-mlops-eks:fixedNodegroupName"));
    expect(warnings).toHaveLength(1);
    const unnamed = synth({});
    expect(Annotations.fromStack(unnamed.stack).findWarning('*', Match.stringLikeRegexp('fixedNodegroupName'))).toEqual([]);
  });

  test('publicAccessCidrs opens the public side of the endpoint to those CIDRs only', () => {
    const { template, stack } = synth({ publicAccessCidrs: ['203.0.113.7/32', '198.51.100.0/24'] });
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({
        EndpointPrivateAccess: true,
        EndpointPublicAccess: true,
        PublicAccessCidrs: ['203.0.113.7/32', '198.51.100.0/24'],
      }),
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('publicEndpointFromAnywhere'))).toEqual([]);
  });

  test('publicAccessCidrs of 0.0.0.0/0 is allowed with a synth warning', () => {
    const { template, stack } = synth({ publicAccessCidrs: ['0.0.0.0/0'] });
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: true, PublicAccessCidrs: ['0.0.0.0/0'] }),
    });
    const warnings = Annotations.fromStack(stack).findWarning('/EksClusterStack/Eks', Match.stringLikeRegexp('reachable from the whole internet'));
    expect(warnings).toHaveLength(1);
  });

  test('Kubernetes 1.32 with its kubectl layer, names, private endpoint and pinned add-ons', () => {
    const stack = new Stack(new App(), 'Seed');
    const network = new MlopsNetwork(stack, 'Network');
    new MlopsEksCluster(stack, 'Eks', {
      vpc: network.vpc,
      kubernetesVersion: eks.KubernetesVersion.V1_32,
      kubectlLayer: new KubectlV32Layer(stack, 'Kubectl'),
      clusterName: 'eks-demo-eks-cluster',
      nodegroupName: 'eks-demo-primary-nodegroup',
      nodeDiskSize: Size.gibibytes(50),
      nodeLabels: { workload: 'preprocessing' },
      addonVersions: { podIdentityAgent: 'v1.3.4-eksbuild.1', vpcCni: 'v1.19.2-eksbuild.1' },
    });
    const seed = Template.fromStack(stack);
    seed.hasResourceProperties('AWS::EKS::Cluster', {
      Name: 'eks-demo-eks-cluster',
      Version: '1.32',
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false }),
    });
    seed.hasResourceProperties('AWS::EKS::Nodegroup', { NodegroupName: 'eks-demo-primary-nodegroup', Labels: { workload: 'preprocessing' } });
    seed.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ VolumeSize: 50 }) })] }),
    });
    seed.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'eks-pod-identity-agent', AddonVersion: 'v1.3.4-eksbuild.1' });
    seed.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', AddonVersion: 'v1.19.2-eksbuild.1' });
  });
});

describe('MlopsEksCluster validation names the prop', () => {
  test('kubernetesVersion is required, so a library upgrade never changes a cluster\'s version', () => {
    const stack = new Stack(new App(), 'NoVersion');
    const vpc = new ec2.Vpc(stack, 'Vpc');
    // What a JavaScript caller without type checks can still pass.
    const untyped = { vpc } as unknown as MlopsEksClusterProps;
    expect(() => new MlopsEksCluster(stack, 'Eks', untyped))
      .toThrow(/MlopsEksCluster: invalid 'kubernetesVersion': is required/);
  });

  test('a version other than the default needs its kubectl layer', () => {
    expect(() => synth({ kubernetesVersion: eks.KubernetesVersion.V1_32 }))
      .toThrow(/invalid 'kubectlLayer': is required for kubernetesVersion 1.32.*KubectlV32Layer/);
  });

  test('a kubectl layer of another version is refused', () => {
    const stack = new Stack(new App(), 'Mismatch');
    const vpc = new ec2.Vpc(stack, 'Vpc');
    expect(() => new MlopsEksCluster(stack, 'Eks', {
      vpc,
      kubernetesVersion: eks.KubernetesVersion.V1_35,
      kubectlLayer: new KubectlV32Layer(stack, 'Kubectl'),
    })).toThrow(/invalid 'kubectlLayer': is KubectlV32Layer \(kubectl 1.32\) but kubernetesVersion is 1.35/);
  });

  test.each<[Partial<MlopsEksClusterProps>, RegExp]>([
    [{ minSize: 3, maxSize: 2, desiredSize: 2 }, /invalid 'minSize': 3 is greater than maxSize 2/],
    [{ desiredSize: 9 }, /invalid 'desiredSize': 9 must be between minSize 1 and maxSize 5/],
    [{ maxSize: 0 }, /invalid 'maxSize'/],
    [{ minSize: 1.5 }, /invalid 'minSize'/],
    [{ clusterName: 'bad name!' }, /invalid 'clusterName'/],
    [{ clusterName: 'x'.repeat(101) }, /invalid 'clusterName'.*1 to 100 characters/],
    [{ nodegroupName: '-starts-with-hyphen' }, /invalid 'nodegroupName'/],
    [{ instanceTypes: [] }, /invalid 'instanceTypes'/],
    [{ nodeDiskSize: Size.gibibytes(10) }, /invalid 'nodeDiskSize'/],
    [{ minSize: 6 }, /invalid 'minSize': 6 is greater than maxSize 5/],
    [{ minSize: 0, desiredSize: 0 },
      /invalid 'desiredSize': 0 leaves no node for CoreDNS, KEDA and the Cluster Autoscaler itself.*desiredSize .*minSize.*clusterAutoscaler: false/],
    [{ publicAccessCidrs: [] }, /invalid 'publicAccessCidrs': is empty; omit it to keep the endpoint private/],
    [{ publicAccessCidrs: ['203.0.113.7'] }, /invalid 'publicAccessCidrs': '203.0.113.7' is not an IPv4 CIDR block/],
    [{ publicAccessCidrs: ['203.0.113.7/24'] }, /invalid 'publicAccessCidrs': '203.0.113.7\/24' is not a network address/],
    [{ publicAccessCidrs: ['300.0.0.0/8'] }, /invalid 'publicAccessCidrs': '300.0.0.0\/8' has an octet above 255/],
    [{ instanceTypes: [new ec2.InstanceType('m7g.large')] }, /invalid 'instanceTypes': m7g.large is arm64 but nodeArchitecture is x86_64/],
    [{ nodeArchitecture: ec2.InstanceArchitecture.ARM_64, instanceTypes: [new ec2.InstanceType('t3.medium')] }, /invalid 'instanceTypes': t3.medium is x86_64/],
    [{ nodeArchitecture: ec2.InstanceArchitecture.ARM_64, amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD }, /invalid 'amiType': AL2023_x86_64_STANDARD does not run on arm64 nodes/],
    [{ instanceTypes: ['t3.medium', 't3a.medium', 'm5.large'].map((t) => new ec2.InstanceType(t)) },
      /invalid 'instanceTypes': m5.large \(2 vCPU, 8 GiB\) is not the size of t3.medium \(2 vCPU, 4 GiB\).*Cluster Autoscaler/],
    [{ capacityType: eks.CapacityType.SPOT, instanceTypes: ['c6i.large', 'c6i.xlarge'].map((t) => new ec2.InstanceType(t)) },
      /invalid 'instanceTypes': c6i.xlarge \(4 vCPU, 8 GiB\) is not the size of c6i.large \(2 vCPU, 4 GiB\)/],
  ])('%j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

/** Logical IDs a resource waits for: its DependsOn and the resources its properties reference. */
function directDependencies(resource: any): Set<string> {
  const found = new Set<string>(resource.DependsOn ?? []);
  const visit = (value: any): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (value && typeof value === 'object') {
      if (typeof value.Ref === 'string') {
        found.add(value.Ref);
      }
      if (Array.isArray(value['Fn::GetAtt'])) {
        found.add(value['Fn::GetAtt'][0]);
      }
      Object.values(value).forEach(visit);
    }
  };
  visit(resource.Properties);
  return found;
}

/** Whether CloudFormation creates and updates `later` only after `earlier` (a path of dependencies). */
function waitsFor(template: Template, later: string, earlier: string): boolean {
  const resources = template.toJSON().Resources;
  const seen = new Set<string>();
  const queue = [later];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const dependency of directDependencies(resources[id] ?? {})) {
      if (dependency === earlier) {
        return true;
      }
      if (!seen.has(dependency)) {
        seen.add(dependency);
        queue.push(dependency);
      }
    }
  }
  return false;
}

describe('a Kubernetes version bump (1.35 to 1.36)', () => {
  let before: Template;
  let after: Template;
  beforeAll(() => {
    before = synth({
      kubernetesVersion: eks.KubernetesVersion.V1_35,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(
        new Stack(), 'Layer', 'arn:aws:lambda:us-east-1:123456789012:layer:kubectl-v35:1'),
    }).template;
    after = synth({ kubernetesVersion: eks.KubernetesVersion.V1_36 }).template;
  });

  const idOf = (template: Template, type: string, props: any = {}): string => {
    const ids = Object.keys(template.findResources(type, props));
    expect(ids).toHaveLength(1);
    return ids[0];
  };
  const addonId = (template: Template, name: string): string => idOf(template, 'AWS::EKS::Addon', { Properties: { AddonName: name } });
  const propertiesOf = (template: Template, id: string): any => template.toJSON().Resources[id].Properties;

  test('changes the control plane, every add-on and the node group to the new version', () => {
    for (const [template, version] of [[before, '1.35'], [after, '1.36']] as const) {
      expect(propertiesOf(template, idOf(template, 'AWS::EKS::Cluster')).Version).toBe(version);
      expect(propertiesOf(template, idOf(template, 'AWS::EKS::Nodegroup')).Version).toBe(version);
      const pinned = PINNED_ADDON_VERSIONS[version];
      expect(propertiesOf(template, addonId(template, 'kube-proxy')).AddonVersion).toBe(pinned.kubeProxy);
      expect(propertiesOf(template, addonId(template, 'coredns')).AddonVersion).toBe(pinned.coreDns);
      expect(propertiesOf(template, addonId(template, 'vpc-cni')).AddonVersion).toBe(pinned.vpcCni);
    }
  });

  test('in AWS\'s order: control plane, then the add-ons nodes need, then the nodes, then the add-ons that run on nodes', () => {
    const cluster = idOf(after, 'AWS::EKS::Cluster');
    const nodegroup = idOf(after, 'AWS::EKS::Nodegroup');
    for (const name of ['vpc-cni', 'kube-proxy', 'eks-pod-identity-agent', 'coredns', 'aws-ebs-csi-driver']) {
      expect(waitsFor(after, addonId(after, name), cluster)).toBe(true);
    }
    for (const name of ['vpc-cni', 'kube-proxy', 'eks-pod-identity-agent']) {
      expect(waitsFor(after, nodegroup, addonId(after, name))).toBe(true);
    }
    // CoreDNS and the EBS CSI controller are Deployments: their add-ons become ACTIVE only once
    // their pods run, so on the first deploy they must follow the nodes, and they do on a bump too.
    for (const name of ['coredns', 'aws-ebs-csi-driver']) {
      expect(waitsFor(after, addonId(after, name), nodegroup)).toBe(true);
      expect(waitsFor(after, nodegroup, addonId(after, name))).toBe(false);
    }
  });
});
