import { createHash } from 'crypto';
import { CfnResource, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The resource types of a workload that hold state or a unique name, and what a new logical ID
 * (a replacement: CloudFormation creates the new resource, then deletes the old one) would do:
 */
export const STATEFUL_RESOURCE_TYPES: Readonly<Record<string, string>> = {
  'AWS::S3::Bucket': 'a new, empty bucket (the old one retained, or emptied and deleted); with bucketNamePrefix the create fails: the name is taken',
  'AWS::S3::BucketPolicy': 'a bucket has one policy: deleting the old resource removes the policy the new one just put',
  'Custom::S3AutoDeleteObjects': 'its Delete empties the bucket',
  'Custom::S3BucketNotifications': 'its Delete removes the notification the new one just put (same bucket, same ID)',
  'AWS::SQS::Queue': 'a new, empty queue: waiting and dead-lettered uploads are lost; a fixed name cannot be created twice',
  'AWS::SQS::QueuePolicy': 'a queue has one policy: deleting the old resource removes the policy the new one just put',
  'AWS::EKS::PodIdentityAssociation': 'EKS refuses a second association for one namespace and service account (409 ResourceInUseException): the deploy rolls back',
  'AWS::IAM::Role': 'with roleName the create fails: the name is taken',
  'AWS::SSM::Parameter': 'a new generated name: a GitOps tool reading the old one loses its manifests',
  'AWS::Logs::LogGroup': 'a new, empty log group; a fixed name cannot be created twice',
  'AWS::SNS::Topic': 'a new topic without the subscriptions made to the old one',
  'AWS::SNS::TopicPolicy': 'a topic has one policy: deleting the old resource removes the policy the new one just put',
  'AWS::KMS::Key': 'a new key: what the old one encrypted can no longer be read once it is deleted',
  'AWS::Glue::Database': 'a fixed name (catalog.databaseName) cannot be created twice: the deploy rolls back',
  'AWS::Glue::Table': 'a fixed name in its database cannot be created twice: the deploy rolls back',
  'AWS::Athena::WorkGroup': 'a fixed name cannot be created twice, and its query history goes with the old one',
};

/**
 * Who a workload is, as far as AWS resources go: its cluster and its Kubernetes namespace and
 * name, never its construct ID or path. Two workloads with the same namespace and name on one
 * cluster are refused, so the identity is unique.
 *
 * Why IDs derived from it, and not a construct placed on a stable scope (the stack or the
 * cluster): the workload's resources stay under the workload's construct, where `node.findAll()`,
 * `Tags.of(job)`, cdk-nag suppressions and the user's escape hatches find them; only their
 * CloudFormation logical IDs (overrideLogicalId) and the queue's name are taken from here. The
 * scheme is the one of `manifestLogicalId` for the Kubernetes objects.
 */
export class WorkloadIdentity {
  private readonly key: string[];

  constructor(private readonly cluster: IConstruct, private readonly namespace: string, private readonly jobName: string) {
    this.key = [cluster.node.path, namespace, jobName];
  }

  /**
   * The logical ID of the workload's resource at `relativePath` (its construct path below the
   * workload): readable namespace, name and path, and a hash of the identity and the path.
   */
  public logicalId(relativePath: string): string {
    const parts = relativePath.split('/').filter((part) => part !== 'Resource' && part !== 'Default');
    // 'Workload' first: a logical ID starts with a letter, a namespace may start with a digit.
    const readable = ['Workload', this.namespace, this.jobName, ...parts].join('').replace(/[^A-Za-z0-9]/g, '').slice(0, 200);
    return `${readable}${this.hash(relativePath).toUpperCase()}`;
  }

  /**
   * A physical name that survives a move (SQS: at most 80 letters, digits, `-` and `_`). The
   * cluster's stack name joins the hash when it is known: two apps with the same construct paths
   * deploy their clusters as stacks of different names into one account and region.
   */
  public physicalName(suffix: string, maxLength: number): string {
    const stackName = Stack.of(this.cluster).stackName;
    const scope = Token.isUnresolved(stackName) ? '' : stackName;
    const hash = this.hash(`${scope}\n${suffix}`);
    const head = `${this.namespace}-${this.jobName}`.slice(0, maxLength - suffix.length - hash.length - 2);
    return `${head}-${suffix}-${hash}`;
  }

  private hash(extra: string): string {
    return createHash('sha256').update([...this.key, extra].join('\n')).digest('hex').slice(0, 8);
  }
}

/**
 * Gives every stateful or uniquely named CloudFormation resource below `workload` the logical ID
 * of its identity. Idempotent: called once the buckets exist (a per-deploy Job's name hashes its
 * spec, which refers to them by logical ID) and again once everything is built.
 */
export function keepIdentity(workload: IConstruct, identity: WorkloadIdentity): void {
  for (const construct of workload.node.findAll()) {
    if (construct instanceof CfnResource && STATEFUL_RESOURCE_TYPES[construct.cfnResourceType] !== undefined) {
      construct.overrideLogicalId(identity.logicalId(construct.node.path.slice(workload.node.path.length + 1)));
    }
  }
}
