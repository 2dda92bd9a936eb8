import { ArnFormat, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeManagedPolicies, acknowledgeWildcardResource } from '../private/acknowledgements';

/**
 * Gives the log group EKS writes control-plane logs to, `/aws/eks/<cluster name>/cluster`, a
 * retention (EKS creates it with none, so it grows forever). Deleted with the stack: the name is
 * the cluster's, so a retained group would block the next cluster of that name.
 *
 * - A literal cluster name: the log group is a resource of the stack, created before the cluster,
 *   so EKS writes into it. (An existing cluster's group, made by EKS, must first be imported with
 *   `cdk import` or deleted: CloudFormation cannot create a log group that exists.)
 * - A name CloudFormation generates is known only once the cluster exists, and EKS creates the
 *   group then: a log-retention custom resource (aws-logs `LogRetention`) sets the retention on it
 *   after the cluster, creating the group if EKS has not yet.
 */
export function retainControlPlaneLogs(
  scope: Construct,
  cluster: eks.Cluster,
  givenClusterName: string | undefined,
  retention: logs.RetentionDays,
): void {
  if (givenClusterName !== undefined && !Token.isUnresolved(givenClusterName)) {
    const group = new logs.LogGroup(scope, 'ControlPlaneLogs', {
      logGroupName: logGroupName(givenClusterName),
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    cluster.node.defaultChild!.node.addDependency(group);
    return;
  }
  const name = logGroupName(cluster.clusterName);
  new logs.LogRetention(scope, 'ControlPlaneLogRetention', {
    logGroupName: name,
    retention,
    removalPolicy: RemovalPolicy.DESTROY,
    role: logRetentionRole(scope, name),
  });
}

/**
 * The role of aws-cdk-lib's log-retention function (one per stack), given so that its findings
 * can be acknowledged here; aws-cdk-lib adds the statements the function needs.
 */
function logRetentionRole(scope: Construct, groupName: string): iam.IRole {
  const role = new iam.Role(scope, 'ControlPlaneLogRetentionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'Sets the retention of the EKS control-plane log group at deploy time (aws-cdk-lib LogRetention)',
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
  });
  acknowledgeManagedPolicies(role,
    'aws-cdk-lib\'s log-retention function writes its own logs with the AWS managed Lambda execution policy; it runs only during deployment.');
  acknowledge(role, 'AwsSolutions-IAM5[Resource::*]',
    'aws-cdk-lib\'s log-retention function grants itself logs:PutRetentionPolicy and logs:DeleteRetentionPolicy on *, as it serves every log group of the stack; the actions change only retention.');
  acknowledgeWildcardResource(role, Stack.of(scope).formatArn({
    service: 'logs', resource: 'log-group', resourceName: `${groupName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  }), 'Deleting the control-plane log group with the stack: the :* suffix is how a log group ARN names the group\'s streams.');
  return role;
}

function logGroupName(clusterName: string): string {
  return `/aws/eks/${clusterName}/cluster`;
}
