import * as http from 'node:http';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { LocalS3, LocalSqs, localS3Client, startLocalS3, startLocalSqs } from '../../processor/tools/local-aws';

// A server process of its own, and long polls.
jest.setTimeout(30_000);

let sqs: LocalSqs;
let s3: LocalS3;
let admin: S3Client;

beforeAll(async () => {
  [sqs, s3] = await Promise.all([startLocalSqs(), startLocalS3({ buckets: ['raw'] })]);
  admin = localS3Client(s3.endpoint);
}, 30_000);

afterAll(async () => {
  admin?.destroy();
  await s3?.close();
  await sqs?.close();
});

async function receive(queueUrl: string, waitSeconds = 0) {
  const { Messages } = await sqs.client.send(new ReceiveMessageCommand({
    QueueUrl: queueUrl,
    WaitTimeSeconds: waitSeconds,
    MessageSystemAttributeNames: ['ApproximateReceiveCount'],
  }));
  return Messages ?? [];
}

describe('the local SQS server, through @aws-sdk/client-sqs (AWS JSON 1.0 protocol)', () => {
  test('listens on 127.0.0.1 and answers GetQueueUrl for a queue it created', async () => {
    expect(sqs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const queue = await sqs.createQueue('named');
    const { QueueUrl } = await sqs.client.send(new GetQueueUrlCommand({ QueueName: 'named' }));
    expect(QueueUrl).toBe(queue.url);
    expect(queue.arn).toBe('arn:aws:sqs:us-east-1:000000000000:named');
  });

  test('a long-polling receive returns a message sent while it waits', async () => {
    const queue = await sqs.createQueue('long-poll');
    const waiting = receive(queue.url, 10);
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'late' }));
    expect((await waiting).map((m) => m.Body)).toEqual(['late']);
  });

  test('a received message is invisible until its visibility is changed; deleted, it is gone', async () => {
    const queue = await sqs.createQueue('visibility', { visibilityTimeoutSeconds: 300 });
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'm' }));
    const [first] = await receive(queue.url, 1);
    expect(first.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(await sqs.counts(queue.url)).toEqual({ visible: 0, inFlight: 1 });
    expect(await receive(queue.url)).toEqual([]);

    await sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0 }));
    const [second] = await receive(queue.url, 1);
    expect(second.Attributes?.ApproximateReceiveCount).toBe('2');
    await sqs.client.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: second.ReceiptHandle }));
    expect(await sqs.counts(queue.url)).toEqual({ visible: 0, inFlight: 0 });
  });

  test('after maxReceiveCount receives a message moves to the dead-letter queue (RedrivePolicy)', async () => {
    const dlq = await sqs.createQueue('redrive-dlq');
    const queue = await sqs.createQueue('redrive', { deadLetter: { arn: dlq.arn, maxReceiveCount: 2 } });
    const { Attributes } = await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['RedrivePolicy'] }));
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toEqual({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 2 });

    await sqs.client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'poison' }));
    for (let i = 0; i < 2; i++) {
      const [message] = await receive(queue.url, 1);
      await sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    }
    expect(await receive(queue.url, 1)).toEqual([]);
    expect(await sqs.counts(queue.url)).toEqual({ visible: 0, inFlight: 0 });
    expect((await receive(dlq.url, 1)).map((m) => m.Body)).toEqual(['poison']);
  });

  test('an unknown queue is an error of the AWS JSON shape, which the SDK names QueueDoesNotExist', async () => {
    await expect(sqs.client.send(new GetQueueUrlCommand({ QueueName: 'nope' }))).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
    const raw = await post(sqs.endpoint, 'AmazonSQS.GetQueueUrl', { QueueName: 'nope' });
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body)).toMatchObject({ __type: expect.stringMatching(/QueueDoesNotExist$/), message: expect.any(String) });
  });
});

describe('S3 event notifications from the local S3 to a queue', () => {
  test('a test event first; then one message per created object matching prefix and suffix, in S3\'s format', async () => {
    const queue = await sqs.createQueue('notifications');
    await s3.notifyQueue({ bucket: 'raw', queueUrl: queue.url, sqs: sqs.client, prefix: 'data/', suffix: '.csv' });
    for (const key of ['data/hr 2026+q1.csv', 'data/notes.txt', 'other/x.csv']) {
      await admin.send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: 'id\n1\n' }));
    }
    await s3.notificationsSent();

    const bodies = (await receive(queue.url, 1)).concat(await receive(queue.url, 1)).map((m) => JSON.parse(m.Body!));
    expect(await receive(queue.url)).toEqual([]);
    expect(bodies[0]).toMatchObject({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'raw' });
    expect(bodies[1].Records).toHaveLength(1);
    expect(bodies[1].Records[0]).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      eventTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      s3: { bucket: { name: 'raw', arn: 'arn:aws:s3:::raw' }, object: { key: 'data/hr+2026%2Bq1.csv', size: 5, eTag: expect.stringMatching(/^[0-9a-f]{32}$/) } },
    });
  });
});

function post(endpoint: string, target: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': target },
    }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
