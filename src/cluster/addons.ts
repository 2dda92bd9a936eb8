import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ResolvedAddonVersions } from './addon-versions';
import { kubectlReadyBarrier } from '../private/once-per-cluster';
import { podIdentityPrincipal, PodIdentityServiceAccount } from '../private/pod-identity';

/**
 * The add-ons of a managed-node-group cluster: core networking and DNS, the Pod Identity agent,
 * and the EBS CSI driver. The VPC CNI and the EBS CSI driver get their AWS permissions through Pod
 * Identity, so the node role needs neither.
 *
 * Order. CloudFormation creates, and on a change updates, a resource only after everything it
 * depends on, so one order serves the first deploy and a Kubernetes version bump (AWS's order:
 * control plane, add-ons, nodes):
 *   1. the cluster (every add-on names it);
 *   2. the Pod Identity agent, the VPC CNI and kube-proxy: DaemonSets that a node needs before it
 *      turns Ready, and whose add-ons become ACTIVE with no node at all;
 *   3. the node group, at the cluster's version;
 *   4. CoreDNS and the EBS CSI driver: Deployments whose add-ons report ACTIVE only once their pods
 *      run. Before the nodes they would sit DEGRADED until CloudFormation times out on the first
 *      deploy, so they follow the nodes; on a bump they move last, which the version skew allows
 *      (CoreDNS serves any kubelet, and the CSI controller talks to the API server).
 * kube-proxy moves before the nodes, one minor version ahead of their kubelets for the duration of
 * the node rollout, which Kubernetes' skew policy permits (never newer than the API server).
 */
export class ClusterAddons extends Construct {
  public readonly podIdentityAgent: eks.IAddon;
  public readonly vpcCniRole: iam.IRole;
  public readonly ebsCsiDriverRole: iam.IRole;

  constructor(scope: Construct, id: string, cluster: eks.Cluster, nodegroup: eks.Nodegroup, versions: ResolvedAddonVersions) {
    super(scope, id);
    // The same add-on the cluster creates on demand for Pod Identity service accounts, so there is
    // only ever one; its version is set on the underlying CfnAddon.
    this.podIdentityAgent = cluster.eksPodIdentityAgent!;
    const agent = this.podIdentityAgent.node.defaultChild as eks.CfnAddon;
    agent.addonVersion = versions.podIdentityAgent;
    agent.resolveConflicts = 'OVERWRITE';

    // The cluster is created without self-managed networking add-ons, so nodes wait for these.
    // aws-node assigns pod IPs with AmazonEKS_CNI_Policy, from its own role, not the node role's.
    const vpcCniAccount = { namespace: 'kube-system', name: 'aws-node' };
    this.vpcCniRole = addonRole(this, 'VpcCniRole', cluster, vpcCniAccount, 'AmazonEKS_CNI_Policy',
      'Amazon VPC CNI (aws-node), through EKS Pod Identity');
    const vpcCni = addManagedAddon(this, cluster, 'VpcCni', 'vpc-cni', versions.vpcCni, [
      { serviceAccount: vpcCniAccount.name, roleArn: this.vpcCniRole.roleArn },
    ]);
    // Without this the VPC CNI ignores Kubernetes NetworkPolicies.
    vpcCni.configurationValues = JSON.stringify({ enableNetworkPolicy: 'true' });
    // aws-node fetches its credentials from the agent as soon as a node starts.
    vpcCni.node.addDependency(this.podIdentityAgent);
    const kubeProxy = addManagedAddon(this, cluster, 'KubeProxy', 'kube-proxy', versions.kubeProxy);
    nodegroup.node.addDependency(this.podIdentityAgent, vpcCni, kubeProxy);
    // CoreDNS pods need a node to run on before the add-on becomes active.
    const coreDns = addManagedAddon(this, cluster, 'CoreDns', 'coredns', versions.coreDns);
    coreDns.node.addDependency(nodegroup);

    // The EBS CSI controller gets its AWS credentials through Pod Identity as well (no IRSA/OIDC).
    const ebsServiceAccount = { namespace: 'kube-system', name: 'ebs-csi-controller-sa' };
    this.ebsCsiDriverRole = addonRole(this, 'EbsCsiDriverRole', cluster, ebsServiceAccount, 'service-role/AmazonEBSCSIDriverPolicy',
      'EBS CSI driver controller, through EKS Pod Identity');
    const ebs = addManagedAddon(this, cluster, 'EbsCsiDriver', 'aws-ebs-csi-driver', versions.ebsCsiDriver, [
      { serviceAccount: ebsServiceAccount.name, roleArn: this.ebsCsiDriverRole.roleArn },
    ]);
    ebs.node.addDependency(this.podIdentityAgent, nodegroup);

    // Every manifest applied through the kubectl provider waits for this barrier; with nodes, DNS
    // and the Pod Identity agent behind it, a Job's first pod finds all three ready.
    kubectlReadyBarrier(cluster)?.node.addDependency(coreDns, this.podIdentityAgent);
  }
}

/** A role that only one add-on service account of this cluster can assume, with the add-on's AWS managed policy. */
function addonRole(
  scope: Construct,
  id: string,
  cluster: eks.ICluster,
  serviceAccount: PodIdentityServiceAccount,
  managedPolicyName: string,
  description: string,
): iam.IRole {
  return new iam.Role(scope, id, {
    assumedBy: podIdentityPrincipal(scope, cluster, serviceAccount),
    description,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(managedPolicyName)],
  });
}

function addManagedAddon(
  scope: Construct,
  cluster: eks.ICluster,
  id: string,
  addonName: string,
  addonVersion: string,
  podIdentityAssociations?: eks.CfnAddon.PodIdentityAssociationProperty[],
): eks.CfnAddon {
  return new eks.CfnAddon(scope, id, {
    clusterName: cluster.clusterName,
    addonName,
    addonVersion,
    // EKS may have installed a self-managed copy at cluster creation; take it over.
    resolveConflicts: 'OVERWRITE',
    podIdentityAssociations,
  });
}
