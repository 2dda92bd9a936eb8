import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/**
 * Records why a policy-validation finding (such as a cdk-nag AwsSolutions rule) does not apply to
 * a construct and its children. Only core CDK is used, so users need not install cdk-nag.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Acknowledges cdk-nag's AwsSolutions-IAM4 finding for every AWS managed policy of the role. */
export function acknowledgeManagedPolicies(role: iam.IRole, reason: string): void {
  const cfnRole = role.node.defaultChild as iam.CfnRole;
  const arns = Stack.of(role).resolve(cfnRole.managedPolicyArns) ?? [];
  for (const arn of arns) {
    acknowledge(role, `AwsSolutions-IAM4[Policy::${describeForNag(arn)}]`, reason);
  }
}

/** Acknowledges cdk-nag's AwsSolutions-IAM5 finding for a wildcard resource ARN. */
export function acknowledgeWildcardResource(scope: IConstruct, resourceArn: string, reason: string): void {
  const resolved = Stack.of(scope).resolve(resourceArn);
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${describeForNag(resolved)}]`, reason);
}

/**
 * Renders a resolved CloudFormation value the way cdk-nag names it in finding IDs: references
 * as `<LogicalId>` / `<LogicalId.Attribute>`, pseudo parameters as `<AWS::Partition>`, joins
 * concatenated, anything else as JSON.
 */
function describeForNag(value: any): string {
  if (typeof value === 'string') {
    return value;
  }
  if (value?.Ref !== undefined) {
    return `<${value.Ref}>`;
  }
  if (Array.isArray(value?.['Fn::GetAtt'])) {
    return `<${value['Fn::GetAtt'].join('.')}>`;
  }
  const join = value?.['Fn::Join'];
  if (Array.isArray(join) && join[0] === '' && Array.isArray(join[1])) {
    return join[1].map(describeForNag).join('');
  }
  return JSON.stringify(value);
}
