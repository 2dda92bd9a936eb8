import { KubectlV32Layer } from '@aws-cdk/lambda-layer-kubectl-v32';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ClusterObservability, MlopsEksCluster, MlopsEksClusterProps, MlopsNetwork } from '../../src';
import { CLUSTER_AUTOSCALER_VERSIONS } from '../../src/cluster/cluster-autoscaler';
import { runAwsSolutions } from '../nag';

function synth(props: Partial<MlopsEksClusterProps> = {}, stackName = 'EksClusterStack'): { template: Template; cluster: MlopsEksCluster } {
  const stack = new Stack(new App(), stackName);
  const network = new MlopsNetwork(stack, 'Network');
  const cluster = new MlopsEksCluster(stack, 'Eks', { vpc: network.vpc, kubernetesVersion: eks.KubernetesVersion.V1_36, ...props });
  return { template: Template.fromStack(stack), cluster };
}

/** Renders a CloudFormation value with references as `${Ref}` / `${Resource.Attribute}` placeholders. */
function render(value: any): string {
  if (typeof value === 'string') {
    return value;
  }
  if (value.Ref) {
    return `\${${value.Ref}}`;
  }
  if (value['Fn::GetAtt']) {
    return `\${${value['Fn::GetAtt'].join('.')}}`;
  }
  return value['Fn::Join'][1].map(render).join('');
}

function only(template: Template, type: string, props: any = {}): [string, any] {
  const found = Object.entries<any>(template.findResources(type, props));
  expect(found).toHaveLength(1);
  return found[0];
}

function clusterRef(template: Template): string {
  return `\${${only(template, 'AWS::EKS::Cluster')[0]}}`;
}

describe('the Cluster Autoscaler on a managed node group (default props)', () => {
  let template: Template;
  let cluster: MlopsEksCluster;
  let chart: any;
  let values: any;
  beforeAll(() => {
    ({ template, cluster } = synth());
    chart = only(template, 'Custom::AWSCDK-EKS-HelmChart')[1];
    values = JSON.parse(render(chart.Properties.Values));
  });

  test('its Helm chart is pinned for Kubernetes 1.36 and installed as kube-system/cluster-autoscaler', () => {
    expect(chart.Properties).toMatchObject({
      Chart: 'cluster-autoscaler',
      Repository: 'https://kubernetes.github.io/autoscaler',
      Version: '9.59.0',
      Release: 'cluster-autoscaler',
      Namespace: 'kube-system',
      Wait: true,
    });
    expect(chart.Properties.CreateNamespace).toBeUndefined();
    expect(values.image).toEqual({ repository: 'registry.k8s.io/autoscaling/cluster-autoscaler', tag: 'v1.36.1' });
    expect(values.cloudProvider).toBe('aws');
    expect(values.awsRegion).toBe('${AWS::Region}');
  });

  test('it discovers node groups by the k8s.io/cluster-autoscaler tags of this cluster', () => {
    const name = clusterRef(template);
    expect(values.autoDiscovery).toEqual({
      clusterName: name,
      tags: ['k8s.io/cluster-autoscaler/enabled', `k8s.io/cluster-autoscaler/${name}`],
    });
  });

  test('its pod runs as non-root with a read-only root filesystem and no capabilities', () => {
    expect(values.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(values.containerSecurityContext).toEqual({
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] },
    });
  });

  test('it may remove a node whose pods have emptyDir volumes (running Jobs opt out per pod, not cluster-wide)', () => {
    // The autoscaler's own default is true, which pins every node that runs a system pod with an
    // emptyDir; running Jobs are kept by their pods' safe-to-evict: "false" annotation instead.
    expect(values.extraArgs['skip-nodes-with-local-storage']).toBe(false);
  });

  test('its credentials come through a Pod Identity association for kube-system/cluster-autoscaler', () => {
    const [roleId] = only(template, 'AWS::IAM::Role', { Properties: { Description: 'Kubernetes Cluster Autoscaler, through EKS Pod Identity' } });
    const [associationId, association] = only(template, 'AWS::EKS::PodIdentityAssociation');
    expect(association.Properties).toEqual({
      ClusterName: { Ref: only(template, 'AWS::EKS::Cluster')[0] },
      Namespace: 'kube-system',
      ServiceAccount: 'cluster-autoscaler',
      RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
    const [agentId] = only(template, 'AWS::EKS::Addon', { Properties: { AddonName: 'eks-pod-identity-agent' } });
    expect(association.DependsOn).toContain(agentId);
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: 'Kubernetes Cluster Autoscaler, through EKS Pod Identity',
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Condition: { StringEquals: Match.objectLike({ 'aws:RequestTag/kubernetes-namespace': 'kube-system', 'aws:RequestTag/kubernetes-service-account': 'cluster-autoscaler' }) },
        })],
      },
    });
    expect(cluster.clusterAutoscalerRole).toBeDefined();
    expect(chart.DependsOn).toEqual(expect.arrayContaining([associationId, only(template, 'AWS::EKS::Nodegroup')[0]]));
  });

  test('its policy reads with Describe* on * and resizes only groups tagged for this cluster', () => {
    const [, policy] = only(template, 'AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ClusterAutoscaler') } });
    const [describe, resize] = policy.Properties.PolicyDocument.Statement;
    expect(describe).toEqual({
      Effect: 'Allow',
      Resource: '*',
      Action: [
        'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeLaunchConfigurations',
        'autoscaling:DescribeScalingActivities', 'autoscaling:DescribeTags', 'ec2:DescribeImages', 'ec2:DescribeInstanceTypes',
        'ec2:DescribeLaunchTemplateVersions', 'ec2:GetInstanceTypesFromInstanceRequirements', 'eks:DescribeNodegroup',
      ],
    });
    expect(resize).toMatchObject({
      Effect: 'Allow',
      Resource: '*',
      Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
    });
    // The cluster's name is known only at deploy time, so the condition (whose key holds it) is built then.
    const [conditionId, condition] = only(template, 'Custom::AWSCDKCfnJson');
    expect(resize.Condition).toEqual({ StringEquals: { 'Fn::GetAtt': [conditionId, 'Value'] } });
    const name = clusterRef(template);
    expect(JSON.parse(render(condition.Properties.Value))).toEqual({
      'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true',
      [`aws:ResourceTag/k8s.io/cluster-autoscaler/${name}`]: 'owned',
    });
  });

  test('the condition names the same tag the autoscaler discovers groups by', () => {
    const [, condition] = only(template, 'Custom::AWSCDKCfnJson');
    const tagKeys = Object.keys(JSON.parse(render(condition.Properties.Value))).map((key) => key.replace('aws:ResourceTag/', ''));
    expect(tagKeys).toEqual(values.autoDiscovery.tags);
  });

  test('it sits on the cluster\'s construct node', () => {
    expect(cluster.cluster.node.tryFindChild('ClusterAutoscaler')).toBeDefined();
  });

  test('the node group keeps DesiredSize, which EKS requires at creation, at minSize', () => {
    template.hasResourceProperties('AWS::EKS::Nodegroup', { ScalingConfig: { MinSize: 1, MaxSize: 5, DesiredSize: 1 } });
  });
});

describe('the Cluster Autoscaler with a literal cluster name', () => {
  test('the tag condition is written into the policy, with no deploy-time lookup', () => {
    const { template } = synth({ clusterName: 'eks-demo-eks-cluster' });
    template.resourceCountIs('Custom::AWSCDKCfnJson', 0);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
          Condition: {
            StringEquals: {
              'aws:ResourceTag/k8s.io/cluster-autoscaler/enabled': 'true',
              'aws:ResourceTag/k8s.io/cluster-autoscaler/eks-demo-eks-cluster': 'owned',
            },
          },
        })]),
      },
    });
    const [, chart] = only(template, 'Custom::AWSCDK-EKS-HelmChart');
    expect(JSON.parse(render(chart.Properties.Values)).autoDiscovery.tags)
      .toEqual(['k8s.io/cluster-autoscaler/enabled', 'k8s.io/cluster-autoscaler/eks-demo-eks-cluster']);
  });
});

describe('Cluster Autoscaler versions', () => {
  test('a release is pinned for each Kubernetes version from 1.32 to 1.36, its image of the same minor', () => {
    expect(Object.keys(CLUSTER_AUTOSCALER_VERSIONS).sort()).toEqual(['1.32', '1.33', '1.34', '1.35', '1.36']);
    for (const [kubernetes, release] of Object.entries(CLUSTER_AUTOSCALER_VERSIONS)) {
      expect(release.imageTag).toMatch(new RegExp(`^v${kubernetes.replace('.', '\\.')}\\.\\d+$`));
      // Charts before 9.46.4 lack the volumeattachments RBAC that autoscaler 1.32+ waits for.
      const [major, minor, patch] = release.chartVersion.split('.').map(Number);
      expect(major * 1e6 + minor * 1e3 + patch).toBeGreaterThanOrEqual(9046004);
    }
  });

  test('Kubernetes 1.32 gets the 1.32 release', () => {
    const stack = new Stack(new App(), 'Seed');
    const network = new MlopsNetwork(stack, 'Network');
    new MlopsEksCluster(stack, 'Eks', {
      vpc: network.vpc,
      kubernetesVersion: eks.KubernetesVersion.V1_32,
      kubectlLayer: new KubectlV32Layer(stack, 'Kubectl'),
    });
    const [, chart] = only(Template.fromStack(stack), 'Custom::AWSCDK-EKS-HelmChart');
    expect(chart.Properties.Version).toBe('9.46.6');
    expect(JSON.parse(render(chart.Properties.Values)).image.tag).toBe('v1.32.7');
  });

  test('a given release overrides the pinned one', () => {
    const { template } = synth({ clusterAutoscalerVersion: { chartVersion: '9.60.0', imageTag: 'v1.36.2' } });
    const [, chart] = only(template, 'Custom::AWSCDK-EKS-HelmChart');
    expect(chart.Properties.Version).toBe('9.60.0');
    expect(JSON.parse(render(chart.Properties.Values)).image.tag).toBe('v1.36.2');
  });

  test('a Kubernetes version without a pinned release needs one given, naming the prop', () => {
    const stack = new Stack(new App(), 'Newer');
    const network = new MlopsNetwork(stack, 'Network');
    const layer = lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', 'arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1');
    const addonVersions = {
      vpcCni: 'v1.22.4-eksbuild.3',
      coreDns: 'v1.14.4-eksbuild.1',
      kubeProxy: 'v1.37.0-eksbuild.1',
      podIdentityAgent: 'v1.3.10-eksbuild.3',
      ebsCsiDriver: 'v1.66.0-eksbuild.1',
    };
    expect(() => new MlopsEksCluster(stack, 'Eks', { vpc: network.vpc, kubernetesVersion: eks.KubernetesVersion.V1_37, kubectlLayer: layer, addonVersions }))
      .toThrow(/MlopsEksCluster: invalid 'clusterAutoscalerVersion': is required for kubernetesVersion 1.37.*clusterAutoscaler: false/);
    expect(() => new MlopsEksCluster(stack, 'Eks2', {
      vpc: network.vpc,
      kubernetesVersion: eks.KubernetesVersion.V1_37,
      kubectlLayer: layer,
      addonVersions,
      clusterAutoscaler: false,
      observability: ClusterObservability.containerInsights({ addonVersion: 'v6.2.0-eksbuild.1' }),
    })).not.toThrow();
  });

  test('an image of another minor version is refused, naming the prop', () => {
    expect(() => synth({ clusterAutoscalerVersion: { chartVersion: '9.59.0', imageTag: 'v1.35.2' } }))
      .toThrow(/invalid 'clusterAutoscalerVersion': imageTag v1.35.2 is for Kubernetes 1.35 but kubernetesVersion is 1.36/);
  });

  test('changing the autoscaler release leaves the node group untouched, so a redeploy never resets a scaled group', () => {
    const before = only(synth().template, 'AWS::EKS::Nodegroup')[1];
    const after = only(synth({ clusterAutoscalerVersion: { chartVersion: '9.60.0', imageTag: 'v1.36.2' } }).template, 'AWS::EKS::Nodegroup')[1];
    expect(after).toEqual(before);
  });
});

describe('clusterAutoscaler: false', () => {
  test('installs no chart, role, association or deploy-time condition', () => {
    const { template, cluster } = synth({ clusterAutoscaler: false });
    template.resourceCountIs('Custom::AWSCDK-EKS-HelmChart', 0);
    template.resourceCountIs('AWS::EKS::PodIdentityAssociation', 0);
    template.resourceCountIs('Custom::AWSCDKCfnJson', 0);
    expect(cluster.clusterAutoscalerRole).toBeUndefined();
    expect(cluster.cluster.node.tryFindChild('ClusterAutoscaler')).toBeUndefined();
  });
});

describe('cdk-nag AwsSolutions on a default cluster (generated name, deploy-time condition)', () => {
  test('no unacknowledged finding, every acknowledgement with a reason', () => {
    const report = runAwsSolutions((app) => {
      const stack = new Stack(app, 'Default');
      new MlopsEksCluster(stack, 'Eks', { vpc: new MlopsNetwork(stack, 'Network').vpc, kubernetesVersion: eks.KubernetesVersion.V1_36 });
    });
    expect(report.violations).toEqual([]);
    expect(report.acknowledgements.map((a) => a.id)).toContain('Annotation::AwsSolutions-IAM5[Resource::*]');
    for (const { id, reason } of report.acknowledgements) {
      expect(`${id}: ${reason}`).toMatch(/: \S.{30,}/);
    }
  });
});
