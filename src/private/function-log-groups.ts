import { Aspects, CfnResource, IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, IConstruct } from 'constructs';

/**
 * How long the deployment-time functions' logs are kept: they run only during deploys (the
 * kubectl handler logs whole manifests), so a year costs little and meets governed accounts'
 * one-year controls.
 */
export const FUNCTION_LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

/**
 * Construct IDs of aws-cdk-lib's stack singletons that this library causes: the bucket
 * notifications handler (aws-s3 `BucketNotificationsHandler<uuid>`), the log-retention function
 * (aws-logs `LogRetention<uuid>`) and the provider of `Fn.toJsonString` (`CfnUtils`, used by
 * aws-eks-v2's manifests), each at the stack's root.
 */
const SINGLETON_ID_PREFIXES = ['BucketNotificationsHandler', 'LogRetention', 'AWSCDKCfnUtilsProvider'];

/** The stacks whose functions already get log groups (one aspect per stack). */
const STACKS_WITH_ASPECT = new WeakSet<Stack>();

/**
 * Gives the deployment-time Lambda functions this library causes in the stack of `scope` a log
 * group of the stack's own, with a retention and deleted with the stack: Lambda would otherwise
 * create `/aws/lambda/<function>` with no retention, which outlives the stack. The functions are
 * aws-eks-v2's kubectl provider (its handler and the provider framework's onEvent function) and
 * the singletons above; they are found when the stack is synthesized (an aspect), since the
 * singletons are created lazily. Each function's `LoggingConfig.LogGroup` names its group, so the
 * group exists before the function can run; the group's name is generated.
 */
export function giveFunctionsLogGroups(scope: IConstruct): void {
  const stack = Stack.of(scope);
  if (STACKS_WITH_ASPECT.has(stack)) return;
  STACKS_WITH_ASPECT.add(stack);
  Aspects.of(stack).add(new FunctionLogGroups(stack));
}

class FunctionLogGroups implements IAspect {
  constructor(private readonly stack: Stack) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== 'AWS::Lambda::Function') return;
    if (Stack.of(node) !== this.stack || !causedByThisLibrary(node)) return;
    const owner = node.node.scope as Construct;
    if (owner.node.tryFindChild('LogGroup')) return;
    const group = new logs.LogGroup(owner, 'LogGroup', {
      retention: FUNCTION_LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    node.addPropertyOverride('LoggingConfig.LogGroup', group.logGroupName);
  }
}

/** Inside an aws-eks-v2 kubectl provider, or one of the stack singletons listed above. */
function causedByThisLibrary(fn: CfnResource): boolean {
  const ancestors = fn.node.scopes;
  if (ancestors.some((scope) => scope instanceof eks.KubectlProvider)) return true;
  const owner = fn.node.scope;
  return owner?.node.scope === Stack.of(fn) && SINGLETON_ID_PREFIXES.some((prefix) => owner.node.id.startsWith(prefix));
}
