/**
 * SQS access for queue mode: one client from the environment, with the same credential chain as
 * S3 (on EKS the Pod Identity agent's endpoint).
 */
import { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { awsClientSettings } from './aws-client';

/**
 * An SQS client from the environment. AWS_ENDPOINT_URL_SQS (or AWS_ENDPOINT_URL) selects a local
 * SQS-compatible server. The endpoint is set on the client, not left to the SDK's own reading of
 * the variable, so that the queue URL's host is never used instead (the SDK does that when no
 * endpoint is configured, and a local server's queue URLs name hosts that may not resolve).
 */
export function createSqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  // A long-polling receive waits up to 20 s for a message: the request timeout must outlast it.
  const config: SQSClientConfig = awsClientSettings(env, 'AWS_ENDPOINT_URL_SQS', 60_000);
  return new SQSClient(config);
}
