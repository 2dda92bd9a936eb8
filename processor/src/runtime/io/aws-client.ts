/**
 * Settings shared by the processor's AWS clients, read from the environment: the region, bounded
 * attempts, timeouts, and a local endpoint for a service (AWS_ENDPOINT_URL_<SERVICE>, or
 * AWS_ENDPOINT_URL) such as s3rver or a local SQS server.
 */

/** SDK attempts per request (first try included) unless AWS_MAX_ATTEMPTS says otherwise. */
const DEFAULT_MAX_ATTEMPTS = 5;

export interface AwsClientSettings {
  region?: string;
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number };
  endpoint?: string;
}

/** The settings for one service's client; `endpointVariable` is e.g. `AWS_ENDPOINT_URL_S3`. */
export function awsClientSettings(env: NodeJS.ProcessEnv, endpointVariable: string, requestTimeoutMs: number): AwsClientSettings {
  const endpoint = env[endpointVariable] || env.AWS_ENDPOINT_URL || undefined;
  const attempts = Number(env.AWS_MAX_ATTEMPTS);
  return {
    // A local endpoint needs some region to sign with.
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint ? 'us-east-1' : undefined),
    maxAttempts: Number.isInteger(attempts) && attempts > 0 ? attempts : DEFAULT_MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: requestTimeoutMs },
    ...(endpoint ? { endpoint } : {}),
  };
}
