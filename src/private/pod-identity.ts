import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The service principal that EKS Pod Identity assumes roles as. */
export const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';

/**
 * The trust principal of a role used through EKS Pod Identity: the Pods service, allowed
 * `sts:AssumeRole` and `sts:TagSession`, and only on behalf of this account's given cluster
 * (confused-deputy protection with `aws:SourceAccount` and `aws:SourceArn`).
 */
export function podIdentityPrincipal(scope: Construct, cluster: eks.ICluster): iam.IPrincipal {
  return new iam.ServicePrincipal(POD_IDENTITY_SERVICE)
    .withConditions({
      StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
      ArnEquals: { 'aws:SourceArn': cluster.clusterArn },
    })
    .withSessionTags();
}
