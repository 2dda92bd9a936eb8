/**
 * SQS access for queue mode: one client from the environment, with the same credential chain as
 * S3 (on EKS the Pod Identity agent's endpoint).
 */
import { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';

/** SDK attempts per request (first try included) unless AWS_MAX_ATTEMPTS says otherwise. */
const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * An SQS client from the environment. AWS_ENDPOINT_URL_SQS (or AWS_ENDPOINT_URL) selects a local
 * SQS-compatible server. The endpoint is set on the client, not left to the SDK's own reading of
 * the variable, so that the queue URL's host is never used instead (the SDK does that when no
 * endpoint is configured, and a local server's queue URLs name hosts that may not resolve).
 */
export function createSqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  const endpoint = env.AWS_ENDPOINT_URL_SQS || env.AWS_ENDPOINT_URL || undefined;
  const attempts = Number(env.AWS_MAX_ATTEMPTS);
  const config: SQSClientConfig = {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint ? 'us-east-1' : undefined),
    maxAttempts: Number.isInteger(attempts) && attempts > 0 ? attempts : DEFAULT_MAX_ATTEMPTS,
    // A long-polling receive waits up to 20 s for a message: the request timeout must outlast it.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000 },
  };
  if (endpoint) config.endpoint = endpoint;
  return new SQSClient(config);
}
