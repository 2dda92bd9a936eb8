import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

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
