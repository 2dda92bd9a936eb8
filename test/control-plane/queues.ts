import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CfnTemplate, Fixtures, REGION } from './cloudformation';
import { controlPlane } from './cluster';

/**
 * The stack's SQS queues on the local SQS server that KEDA's operator reads (test/control-plane/
 * sqs-server.mjs): one per AWS::SQS::Queue logical ID, created before a deploy that needs it, so
 * the ScaledJob's queueURL (a Ref) resolves to a queue that exists.
 */
export class LocalQueues {
  private readonly client = new SQSClient({
    endpoint: controlPlane().sqsEndpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  private readonly queues: Fixtures['queues'] = {};

  public readonly fixtures = (): Fixtures => ({ queues: this.queues });

  /** Creates the template's queues that do not exist yet. */
  public async createFor(template: CfnTemplate): Promise<void> {
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      if (resource.Type !== 'AWS::SQS::Queue' || this.queues[logicalId]) continue;
      const { QueueUrl } = await this.client.send(new CreateQueueCommand({ QueueName: logicalId.slice(0, 80) }));
      const { Attributes } = await this.client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      this.queues[logicalId] = { url: QueueUrl!, arn: Attributes!.QueueArn! };
    }
  }

  public async send(queueUrl: string, body: string): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  }

  /** What a Job's processor does with its message: receives and deletes it. */
  public async consumeOne(queueUrl: string): Promise<void> {
    const { Messages } = await this.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5 }));
    if (!Messages?.length) throw new Error(`no message on ${queueUrl}`);
    await this.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: Messages[0].ReceiptHandle }));
  }

  public close(): void {
    this.client.destroy();
  }
}
