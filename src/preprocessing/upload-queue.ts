import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { claimNotifications } from './bucket-notifications';
import { acknowledgeManagedPolicies } from '../private/acknowledgements';
import { PropValidationError } from '../private/validation';

/** How long a message may wait beyond the Job's deadline before another Job may take it. */
export const VISIBILITY_MARGIN = Duration.minutes(5);
/** SQS's longest visibility timeout. */
export const MAX_VISIBILITY_TIMEOUT = Duration.hours(12);

export interface UploadQueueProps {
  /** The queue's name, which must survive a move of the workload construct (see WorkloadIdentity). */
  readonly queueName: string;
  readonly bucket: s3.IBucket;
  readonly prefix: string;
  readonly suffix: string;
  readonly maxReceiveCount: number;
  /** The Job's deadline; a received message stays invisible longer than that. */
  readonly activeDeadline: Duration;
}

/**
 * The queue between S3 and the Jobs: encrypted (SSE-SQS), TLS only, a dead-letter queue after
 * `maxReceiveCount` receives, a visibility timeout longer than a Job may run, and a policy that
 * lets only S3 deliver, only for this bucket and only in this account. The bucket notifies it of
 * every object created under the prefix with the suffix. The dead-letter queue accepts messages
 * only from this queue (`RedriveAllowPolicy`); the queue has a fixed name (the workload's cluster,
 * namespace and name, never its construct path) so that the dead-letter queue can name it without
 * a reference cycle.
 */
export class UploadQueue extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  /** How long a received message stays hidden: the one value queue and processor both use. */
  public readonly visibilityTimeout: Duration;

  constructor(scope: Construct, id: string, props: UploadQueueProps) {
    super(scope, id);
    this.visibilityTimeout = props.activeDeadline.plus(VISIBILITY_MARGIN);
    const queueName = props.queueName;
    const queueArn = Stack.of(this).formatArn({ service: 'sqs', resource: queueName });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      redriveAllowPolicy: {
        redrivePermission: sqs.RedrivePermission.BY_QUEUE,
        sourceQueues: [sqs.Queue.fromQueueArn(this, 'SourceQueue', queueArn)],
      },
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: this.visibilityTimeout,
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
    claimNotifications(scope, props.bucket, props.prefix, props.suffix);
    notifiableBucket(this, props.bucket).addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new QueueForBucketDestination(this.queue),
      { prefix: props.prefix || undefined, suffix: props.suffix || undefined },
    );
    acknowledgeNotificationsHandler(this);
  }
}

/**
 * The bucket as this stack may notify from. A bucket of another stack would get aws-s3's
 * `Custom::S3BucketNotifications` in that stack, pointing at this queue: the bucket's stack would
 * depend on the workload's, which depends on it (the bucket's name and ARN), a cycle. Imported
 * here by name and ARN, the bucket is notified from the workload's stack, as aws-s3 does for any
 * imported bucket: unmanaged (`Managed: false`), its handler adds and removes only this stack's
 * notifications and keeps the rest of the bucket's configuration. The bucket's stack deploys
 * first (the workload's stack depends on it), so the bucket exists when the notification is put;
 * the workload's stack is destroyed first, removing only its own notification.
 */
function notifiableBucket(scope: Construct, bucket: s3.IBucket): s3.IBucket {
  if (Stack.of(bucket) === Stack.of(scope)) {
    return bucket;
  }
  scope.node.addValidation({ validate: () => managedNotificationsConflict(scope, bucket) });
  return s3.Bucket.fromBucketAttributes(scope, 'InputBucket', { bucketArn: bucket.bucketArn, bucketName: bucket.bucketName });
}

/**
 * A bucket whose own stack configures notifications (aws-s3's managed handler) gets its whole
 * configuration replaced on every change there, which would drop the notification this stack adds.
 */
function managedNotificationsConflict(scope: Construct, bucket: s3.IBucket): string[] {
  const managed = bucket.node.tryFindChild('Notifications')?.node.tryFindChild('Resource');
  if (!managed) {
    return [];
  }
  const owner = Stack.of(bucket).node.path;
  return [new PropValidationError('PodIdentityPreprocessing', 'inputBucket',
    `bucket ${bucket.node.path} has event notifications configured in its own stack (${owner}), whose handler replaces the bucket's `
    + `whole configuration and would remove the upload notifications that ${Stack.of(scope).node.path} adds: configure all of this bucket's `
    + `notifications from stacks other than ${owner}, or put the workload in ${owner}`).message];
}

/** aws-s3's construct ID of the stack's one handler of Custom::S3BucketNotifications. */
const NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/**
 * The notification is configured by aws-s3's own deployment-time function; its findings are
 * acknowledged when it is found under its current ID (a renamed handler is only left unacknowledged).
 */
function acknowledgeNotificationsHandler(scope: Construct): void {
  const role = Stack.of(scope).node.tryFindChild(NOTIFICATIONS_HANDLER_ID)?.node.tryFindChild('Role');
  if (role instanceof iam.Role) {
    acknowledgeManagedPolicies(role,
      'aws-s3\'s bucket-notifications handler (a deployment-time function) logs with the AWS managed Lambda basic execution policy.');
  }
}

/**
 * Like aws-s3-notifications' SqsDestination, with the queue policy scoped to the bucket's ARN
 * and to this account (a bucket name can move to another account; its ARN does not say whose).
 */
class QueueForBucketDestination implements s3.IBucketNotificationDestination {
  constructor(private readonly queue: sqs.IQueue) {}

  public bind(scope: Construct, bucket: s3.IBucket): s3.BucketNotificationDestinationConfig {
    this.queue.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
      actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      resources: [this.queue.queueArn],
      conditions: {
        ArnLike: { 'aws:SourceArn': bucket.bucketArn },
        StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
      },
    }));
    return { arn: this.queue.queueArn, type: s3.BucketNotificationDestinationType.QUEUE, dependencies: [this.queue] };
  }
}
