import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { MlopsEksCluster, MlopsEksClusterProps, MlopsNetwork } from '../../src';

function synth(props: Partial<MlopsEksClusterProps>): Template {
  const stack = new Stack(new App(), 'EksClusterStack');
  new MlopsEksCluster(stack, 'Eks', {
    vpc: new MlopsNetwork(stack, 'Network').vpc,
    kubernetesVersion: eks.KubernetesVersion.V1_36,
    ...props,
  });
  return Template.fromStack(stack);
}

function only(template: Template, type: string, props: any = {}): [string, any] {
  const found = Object.entries<any>(template.findResources(type, props));
  expect(found).toHaveLength(1);
  return found[0];
}

describe('the control-plane log group of a named cluster', () => {
  let template: Template;
  beforeAll(() => {
    template = synth({ clusterName: 'eks-demo-eks-cluster' });
  });

  test('is /aws/eks/<name>/cluster, kept one year by default and deleted with the stack', () => {
    const [, group] = only(template, 'AWS::Logs::LogGroup', { Properties: { LogGroupName: '/aws/eks/eks-demo-eks-cluster/cluster' } });
    expect(group.Properties.RetentionInDays).toBe(365);
    expect(group.DeletionPolicy).toBe('Delete');
  });

  test('exists before the cluster, so EKS writes into it instead of creating one without a retention', () => {
    const [groupId] = only(template, 'AWS::Logs::LogGroup', { Properties: { LogGroupName: '/aws/eks/eks-demo-eks-cluster/cluster' } });
    const [, cluster] = only(template, 'AWS::EKS::Cluster');
    expect(cluster.DependsOn).toContain(groupId);
  });
});

describe('the control-plane log group of a cluster whose name CloudFormation generates', () => {
  test('gets its retention once the name is known, from a log-retention resource that names it after the cluster', () => {
    const template = synth({ controlPlaneLogRetention: logs.RetentionDays.THREE_MONTHS });
    const [clusterId] = only(template, 'AWS::EKS::Cluster');
    const [, retention] = only(template, 'Custom::LogRetention');
    expect(retention.Properties.LogGroupName).toEqual({ 'Fn::Join': ['', ['/aws/eks/', { Ref: clusterId }, '/cluster']] });
    expect(retention.Properties.RetentionInDays).toBe(90);
    expect(retention.Properties.RemovalPolicy).toBe('destroy');
  });
});

describe('controlPlaneLogRetention', () => {
  test('sets the retention of a named cluster\'s log group', () => {
    const template = synth({ clusterName: 'named', controlPlaneLogRetention: logs.RetentionDays.TWO_WEEKS });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/eks/named/cluster', RetentionInDays: 14 });
  });

  test('without control-plane logging there is no log group to keep', () => {
    const template = synth({ clusterName: 'quiet', clusterLogging: [] });
    expect(Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: '/aws/eks/quiet/cluster' } }))).toHaveLength(0);
    template.resourceCountIs('Custom::LogRetention', 0);
  });
});
