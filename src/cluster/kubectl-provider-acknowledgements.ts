import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { acknowledge, acknowledgeManagedPolicies, acknowledgeWildcardResource } from '../private/acknowledgements';

/**
 * Acknowledges the cdk-nag findings of aws-cdk-lib's own kubectl provider (deployment-time Lambda
 * functions). The provider is reached through the cluster's public `kubectlProvider`, its roles
 * and functions by their type and by the provider's public `role`, never by aws-eks-v2's internal
 * construct IDs: if aws-cdk-lib reshapes the provider, a finding may go unacknowledged (and
 * cdk-nag reports it), but the synth never fails.
 */
export function acknowledgeKubectlProvider(cluster: eks.ICluster): void {
  const provider = cluster.kubectlProvider;
  if (!provider) {
    return;
  }
  for (const construct of provider.node.findAll()) {
    if (construct instanceof iam.Role) {
      acknowledgeManagedPolicies(construct,
        'aws-cdk-lib\'s kubectl provider functions use the AWS managed Lambda execution, VPC access and ECR read-only policies; they run only during deployment.');
    }
    if (construct instanceof lambda.Function && construct.role === provider.role) {
      acknowledge(construct, 'AwsSolutions-L1',
        'aws-cdk-lib chooses the kubectl handler\'s runtime to match the kubectl layer; it moves with aws-cdk-lib upgrades.');
      acknowledgeWildcardResource(provider, `${construct.functionArn}:*`,
        'The custom-resource framework may invoke any version of its own kubectl handler function, and nothing else.');
    }
  }
}
