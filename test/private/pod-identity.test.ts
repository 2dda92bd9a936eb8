import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { createPodIdentityRole, isAutoModeCluster, podIdentityAgentOf } from '../../src/private/pod-identity';

const VERSION = eks.KubernetesVersion.V1_36;
const SERVICE_ACCOUNT = { namespace: 'jobs', name: 'worker' };

function agentAddons(stack: Stack): string[] {
  return Object.keys(Template.fromStack(stack).findResources('AWS::EKS::Addon', { Properties: { AddonName: 'eks-pod-identity-agent' } }));
}

function newStack(): { stack: Stack; vpc: ec2.Vpc } {
  const stack = new Stack(new App(), 'Users');
  return { stack, vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) };
}

describe('the Pod Identity agent of a user\'s own cluster', () => {
  test('a node-group cluster without the agent gets exactly one, the one cluster.eksPodIdentityAgent returns', () => {
    const { stack, vpc } = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', { version: VERSION, vpc, defaultCapacityType: eks.DefaultCapacityType.NODEGROUP, defaultCapacity: 0 });
    const agent = podIdentityAgentOf(cluster);
    expect(agent).toBe(cluster.eksPodIdentityAgent);
    createPodIdentityRole(stack, { cluster, serviceAccount: SERVICE_ACCOUNT, description: 'worker' });
    expect(agentAddons(stack)).toHaveLength(1);
    const [association] = Object.values<any>(Template.fromStack(stack).findResources('AWS::EKS::PodIdentityAssociation'));
    expect(association.DependsOn).toEqual(agentAddons(stack));
  });

  test('an agent add-on the user created elsewhere in the stack is used, not a second one', () => {
    const { stack, vpc } = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', { version: VERSION, vpc, defaultCapacityType: eks.DefaultCapacityType.NODEGROUP, defaultCapacity: 0 });
    const own = new eks.Addon(stack, 'OwnAgent', { cluster, addonName: 'eks-pod-identity-agent' });
    expect(podIdentityAgentOf(cluster)).toBe(own.node.defaultChild);
    createPodIdentityRole(stack, { cluster, serviceAccount: SERVICE_ACCOUNT, description: 'worker' });
    expect(agentAddons(stack)).toEqual([expect.stringMatching(/^OwnAgent/)]);
  });

  test('an agent CfnAddon that names the cluster by its literal name counts too', () => {
    const { stack, vpc } = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', {
      clusterName: 'analytics', version: VERSION, vpc, defaultCapacityType: eks.DefaultCapacityType.NODEGROUP, defaultCapacity: 0,
    });
    const own = new eks.CfnAddon(stack, 'OwnAgent', { clusterName: 'analytics', addonName: 'eks-pod-identity-agent' });
    expect(podIdentityAgentOf(cluster)).toBe(own);
  });

  test('an agent add-on of another cluster does not count', () => {
    const { stack, vpc } = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', { version: VERSION, vpc, defaultCapacityType: eks.DefaultCapacityType.NODEGROUP, defaultCapacity: 0 });
    new eks.CfnAddon(stack, 'OtherAgent', { clusterName: 'someone-else', addonName: 'eks-pod-identity-agent' });
    expect(podIdentityAgentOf(cluster)).toBe(cluster.eksPodIdentityAgent);
    expect(agentAddons(stack)).toHaveLength(2);
  });

  test('an Auto Mode cluster gets no add-on: its nodes run the agent', () => {
    const { stack, vpc } = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', { version: VERSION, vpc }); // aws-eks-v2 defaults to Auto Mode
    expect(isAutoModeCluster(cluster)).toBe(true);
    expect(podIdentityAgentOf(cluster)).toBeUndefined();
    const { association } = createPodIdentityRole(stack, { cluster, serviceAccount: SERVICE_ACCOUNT, description: 'worker' });
    expect(association.node.dependencies).toEqual([]);
    expect(agentAddons(stack)).toEqual([]);
  });

  test('an imported cluster is left to its owner: no add-on, no error', () => {
    const { stack } = newStack();
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'existing' });
    expect(isAutoModeCluster(cluster)).toBe(false);
    expect(podIdentityAgentOf(cluster)).toBeUndefined();
    createPodIdentityRole(stack, { cluster, serviceAccount: SERVICE_ACCOUNT, description: 'worker' });
    expect(agentAddons(stack)).toEqual([]);
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::PodIdentityAssociation', { ClusterName: 'existing', Namespace: 'jobs', ServiceAccount: 'worker' });
  });
});
