import { Stack } from 'aws-cdk-lib';
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

/**
 * What a Pod Identity association must wait for: the cluster's Pod Identity agent add-on, which
 * serves the credentials. Reading `eksPodIdentityAgent` creates the add-on when the cluster has
 * none yet, so a cluster that uses Pod Identity always has exactly one.
 */
export function podIdentityAgentOf(cluster: eks.ICluster): IDependable | undefined {
  return cluster.eksPodIdentityAgent;
}

/** Options of {@link createPodIdentityRole}. */
export interface PodIdentityRoleOptions {
  readonly cluster: eks.ICluster;
  readonly serviceAccount: PodIdentityServiceAccount;
  readonly roleName?: string;
  readonly description: string;
  readonly managedPolicies?: iam.IManagedPolicy[];
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
    managedPolicies: options.managedPolicies,
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
