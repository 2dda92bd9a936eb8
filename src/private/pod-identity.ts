import { Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';

/** The service principal that EKS Pod Identity assumes roles as. */
export const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';

/** The Kubernetes service account that a Pod Identity role is meant for. */
export interface PodIdentityServiceAccount {
  readonly namespace: string;
  readonly name: string;
}

/**
 * The trust principal of a role used through EKS Pod Identity: the Pods service, allowed
 * `sts:AssumeRole` and `sts:TagSession`, only for this account, and only for one service account
 * of one cluster. The last two use the session tags that Pod Identity sets on every assumption
 * (`eks-cluster-arn`, `kubernetes-namespace`, `kubernetes-service-account`), as the EKS user
 * guide shows, so another association in the account cannot borrow the role.
 */
export function podIdentityPrincipal(scope: Construct, cluster: eks.ICluster, serviceAccount: PodIdentityServiceAccount): iam.IPrincipal {
  return new iam.ServicePrincipal(POD_IDENTITY_SERVICE)
    .withConditions({
      StringEquals: {
        'aws:SourceAccount': Stack.of(scope).account,
        'aws:RequestTag/eks-cluster-arn': cluster.clusterArn,
        'aws:RequestTag/kubernetes-namespace': serviceAccount.namespace,
        'aws:RequestTag/kubernetes-service-account': serviceAccount.name,
      },
    })
    .withSessionTags();
}

/** The EKS add-on that runs the Pod Identity agent on node-group nodes. */
export const POD_IDENTITY_AGENT_ADDON = 'eks-pod-identity-agent';

/**
 * What a Pod Identity association must wait for: the agent that serves the credentials.
 *
 * - An `eks-pod-identity-agent` add-on of this cluster that is already in the stack (an
 *   `eks.Addon`, a `CfnAddon`, or the one `cluster.eksPodIdentityAgent` made) is used as it is.
 * - An EKS Auto Mode cluster has the agent built into its nodes: nothing is installed and
 *   `undefined` is returned (installing the add-on there would only serve non-Auto-Mode nodes).
 * - Any other `eks.Cluster` of this app gets the add-on through `cluster.eksPodIdentityAgent`, so
 *   a later call of that getter returns the same add-on and there is only ever one.
 * - An imported cluster (`Cluster.fromClusterAttributes`) is left alone: its owner installs the
 *   agent, and `undefined` is returned.
 *
 * Only public aws-eks-v2 API is used (`node.defaultChild`, `CfnCluster.computeConfig`,
 * `CfnAddon.addonName`), so nothing here depends on aws-eks-v2's internal construct IDs.
 */
export function podIdentityAgentOf(cluster: eks.ICluster): IDependable | undefined {
  const existing = existingPodIdentityAgent(cluster);
  if (existing) {
    return existing;
  }
  if (isAutoModeCluster(cluster)) {
    return undefined;
  }
  return cluster instanceof eks.Cluster ? cluster.eksPodIdentityAgent : undefined;
}

/** Whether the cluster is defined in this app with EKS Auto Mode compute enabled. */
export function isAutoModeCluster(cluster: eks.ICluster): boolean {
  const resource = cluster.node.defaultChild;
  if (!(resource instanceof eks.CfnCluster)) {
    return false;
  }
  const computeConfig = Stack.of(cluster).resolve(resource.computeConfig);
  return computeConfig?.enabled === true;
}

/**
 * The `eks-pod-identity-agent` add-on of this cluster, if the cluster's stack already has one. An
 * add-on names its cluster by reference (`cluster.clusterName`) or by the literal name given to
 * the cluster; both count.
 */
function existingPodIdentityAgent(cluster: eks.ICluster): IDependable | undefined {
  const stack = Stack.of(cluster);
  const names = new Set([JSON.stringify(stack.resolve(cluster.clusterName))]);
  const literalName = (cluster.node.defaultChild as eks.CfnCluster | undefined)?.name;
  if (typeof literalName === 'string' && !Token.isUnresolved(literalName)) {
    names.add(JSON.stringify(literalName));
  }
  return stack.node.findAll().find((construct): construct is eks.CfnAddon =>
    construct instanceof eks.CfnAddon
    && construct.addonName === POD_IDENTITY_AGENT_ADDON
    && names.has(JSON.stringify(stack.resolve(construct.clusterName))));
}

/** Options of {@link createPodIdentityRole}. */
export interface PodIdentityRoleOptions {
  readonly cluster: eks.ICluster;
  readonly serviceAccount: PodIdentityServiceAccount;
  readonly roleName?: string;
  readonly description: string;
}

/** A role for one Kubernetes service account, and the Pod Identity association that maps them. */
export interface PodIdentityRole {
  readonly role: iam.Role;
  readonly association: eks.CfnPodIdentityAssociation;
}

/**
 * Creates, under `scope`, a role (`Role`) that only the given service account of the given
 * cluster can assume through Pod Identity, and the association (`PodIdentityAssociation`) that
 * maps the account to it. The association is created once the Pod Identity agent exists.
 */
export function createPodIdentityRole(scope: Construct, options: PodIdentityRoleOptions): PodIdentityRole {
  const { cluster, serviceAccount } = options;
  const role = new iam.Role(scope, 'Role', {
    roleName: options.roleName,
    assumedBy: podIdentityPrincipal(scope, cluster, serviceAccount),
    description: options.description,
  });
  const association = new eks.CfnPodIdentityAssociation(scope, 'PodIdentityAssociation', {
    clusterName: cluster.clusterName,
    namespace: serviceAccount.namespace,
    serviceAccount: serviceAccount.name,
    roleArn: role.roleArn,
  });
  const agent = podIdentityAgentOf(cluster);
  if (agent) {
    association.node.addDependency(agent);
  }
  return { role, association };
}
