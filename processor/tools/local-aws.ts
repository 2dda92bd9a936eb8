/**
 * Local stand-ins for the AWS side of the job, for tests and the demo (no AWS account needed):
 *
 * - {@link startLocalS3}: an embedded S3 (s3rver) on 127.0.0.1, data in a directory. Like a bucket
 *   notification configuration, {@link LocalS3.notifyQueue} makes every object created under a
 *   prefix (and with a suffix) send an S3 event notification, in S3's own message format, to an
 *   SQS queue: s3rver emits an event for each object it stores, and this forwards it.
 * - {@link startLocalSqs}: an SQS-compatible server (fauxqs, which speaks the AWS JSON 1.0
 *   protocol of current @aws-sdk/client-sqs) on 127.0.0.1, in a child process of its own.
 * - {@link startCredentialsEndpoint}: the EKS Pod Identity agent's credentials endpoint. The SDK
 *   finds it through AWS_CONTAINER_CREDENTIALS_FULL_URI and sends the contents of
 *   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE as the Authorization header, which is checked here.
 * - {@link startFaultProxy}: an HTTP proxy in front of the S3 endpoint that injects faults (503
 *   SlowDown / 500 InternalError for the first N requests, a GET body cut mid-stream, 403
 *   AccessDenied for chosen keys, held UploadPart requests, held GETs, a hook that runs before a
 *   GET is forwarded, held SQS actions when it stands in front of the SQS server) and records
 *   every request.
 *
 * Everything binds to 127.0.0.1 on a free port. s3rver does not implement AbortMultipartUpload,
 * If-Match on GET or If-None-Match on PUT, and answers a range of an empty object with a broken
 * 206, so the proxy does as S3 does: it answers AbortMultipartUpload (204), a GET whose If-Match
 * is not the object's current ETag (412 PreconditionFailed), a PUT with `If-None-Match: *` of a
 * key that exists (412 PreconditionFailed) and a range of an empty object (416 InvalidRange).
 * s3rver keeps no object versions either: the tests of versioned reads run against moto's server
 * (test/processor/moto/).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HeadObjectCommand, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
// s3rver is a devDependency of the repository root; processor/tools is not part of the image.
// eslint-disable-next-line import/no-extraneous-dependencies
import S3rver from 's3rver';

/** s3rver accepts requests signed with this key pair only. */
export const LOCAL_S3_ACCESS_KEY_ID = 'S3RVER';
export const LOCAL_S3_SECRET_ACCESS_KEY = 'S3RVER';

/** An S3 client of the local server at `endpoint`, signing with its key pair; `config` adds to or overrides that. */
export function localS3Client(endpoint: string, config: S3ClientConfig = {}): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: LOCAL_S3_ACCESS_KEY_ID, secretAccessKey: LOCAL_S3_SECRET_ACCESS_KEY },
    ...config,
  });
}

export interface LocalS3 {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly directory: string;
  /**
   * From now on, objects created in `bucket` whose keys match the filter send an S3 event
   * notification to the queue, as a bucket notification configuration does; S3's test event is
   * sent first, as S3 sends it when the configuration is saved.
   */
  notifyQueue(notification: QueueNotification): Promise<void>;
  /** Resolves when every notification of the objects created so far is on its queue. */
  notificationsSent(): Promise<void>;
  close(): Promise<void>;
}

/** One QueueConfiguration of a bucket notification configuration (events `s3:ObjectCreated:*`). */
export interface QueueNotification {
  readonly bucket: string;
  readonly queueUrl: string;
  /** The client that sends the messages (the local SQS server's). */
  readonly sqs: SQSClient;
  readonly prefix?: string;
  readonly suffix?: string;
  /** Region named in the records; default us-east-1. */
  readonly region?: string;
  /** Send S3's test event when the notification is configured, as S3 does; default true. */
  readonly testEvent?: boolean;
}

/** Starts s3rver with the given buckets; its data lives in `directory` (default a new temp dir, removed on close). */
export async function startLocalS3(options: { buckets?: readonly string[]; directory?: string } = {}): Promise<LocalS3> {
  const ownDirectory = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'local-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const notifications: QueueNotification[] = [];
  const sending = new Set<Promise<unknown>>();
  const track = (promise: Promise<unknown>): void => {
    const settled = promise.catch((error) => {
      process.stderr.write(`local S3: could not send an event notification: ${(error as Error).message}\n`);
    }).finally(() => sending.delete(settled));
    sending.add(settled);
  };
  server.on('event', (event) => {
    for (const record of event.Records) {
      if (!record.eventName.startsWith('ObjectCreated:')) continue;
      const { bucket: { name: bucket }, object } = record.s3;
      for (const notification of notifications) {
        if (!matches(notification, bucket, object.key)) continue;
        const body = s3EventMessage(notification, record.eventName, object);
        track(notification.sqs.send(new SendMessageCommand({ QueueUrl: notification.queueUrl, MessageBody: body })));
      }
    }
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory,
    notifyQueue: async (notification) => {
      notifications.push(notification);
      if (notification.testEvent === false) return;
      await notification.sqs.send(new SendMessageCommand({ QueueUrl: notification.queueUrl, MessageBody: s3TestEvent(notification.bucket) }));
    },
    notificationsSent: async () => {
      while (sending.size > 0) await Promise.all([...sending]);
    },
    close: async () => {
      await Promise.all([...sending]);
      await server.close();
      if (ownDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}

function matches(notification: QueueNotification, bucket: string, key: string): boolean {
  return notification.bucket === bucket
    && key.startsWith(notification.prefix ?? '')
    && key.endsWith(notification.suffix ?? '');
}

/** The message S3 sends for a created object (event structure version 2.1). */
function s3EventMessage(
  notification: QueueNotification,
  eventName: string,
  object: { key: string; size?: number; eTag?: string; sequencer?: string },
): string {
  return JSON.stringify({
    Records: [{
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: notification.region ?? 'us-east-1',
      eventTime: new Date().toISOString(),
      eventName,
      userIdentity: { principalId: 'AWS:LOCALUSER' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': randomBytes(24).toString('base64') },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'local-notification',
        bucket: { name: notification.bucket, ownerIdentity: { principalId: 'LOCALOWNER' }, arn: `arn:aws:s3:::${notification.bucket}` },
        object: {
          key: encodeS3EventKey(object.key),
          ...(object.size === undefined ? {} : { size: Number(object.size) }),
          ...(object.eTag === undefined ? {} : { eTag: object.eTag }),
          ...(object.sequencer === undefined ? {} : { sequencer: object.sequencer.padStart(18, '0') }),
        },
      },
    }],
  });
}

/** The message S3 sends to a queue when a notification configuration is saved. */
export function s3TestEvent(bucket: string): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: new Date().toISOString(),
    Bucket: bucket,
    RequestId: randomBytes(8).toString('hex').toUpperCase(),
    HostId: randomBytes(24).toString('base64'),
  });
}

/**
 * A key as S3 writes it in event notifications: URL-encoded as an HTML form is (a space is `+`,
 * a `+` is `%2B`), with `/` kept.
 */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// ---------------------------------------------------------------------------------------------
// SQS

export interface LocalQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

export interface LocalSqs {
  /** http://127.0.0.1:<port>; use as AWS_ENDPOINT_URL_SQS. */
  readonly endpoint: string;
  /** A client of the server (it accepts any credentials). */
  readonly client: SQSClient;
  /** Creates a queue; with `deadLetter`, messages received more than maxReceiveCount times move there. */
  createQueue(name: string, options?: {
    visibilityTimeoutSeconds?: number;
    deadLetter?: { readonly arn: string; readonly maxReceiveCount: number };
  }): Promise<LocalQueue>;
  /** ApproximateNumberOfMessages and ApproximateNumberOfMessagesNotVisible. */
  counts(queueUrl: string): Promise<{ visible: number; inFlight: number }>;
  close(): Promise<void>;
}

/**
 * The server process: fauxqs's app (SQS, and SNS and S3 that are not used here) listening on
 * 127.0.0.1 only. fauxqs is an ES module, which the tests' CommonJS loader cannot import, hence
 * a process of its own; it exits when its parent goes away (stdin closes).
 */
const SQS_SERVER_SCRIPT = `
const { buildApp } = await import('fauxqs');
const app = buildApp({ logger: false });
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(JSON.stringify({ endpoint: address }) + '\\n');
const stop = () => app.close().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('close', stop);
process.stdin.resume();
`;

/** Starts a local SQS-compatible server on 127.0.0.1 (a free port) and a client for it. */
export async function startLocalSqs(options: { region?: string } = {}): Promise<LocalSqs> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SQS_SERVER_SCRIPT], {
    cwd: packageRootOf('fauxqs'),
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const endpoint = await firstLineOf(child).then((line) => (JSON.parse(line) as { endpoint: string }).endpoint);
  const client = new SQSClient({
    endpoint,
    region: options.region ?? 'us-east-1',
    credentials: { accessKeyId: LOCAL_S3_ACCESS_KEY_ID, secretAccessKey: LOCAL_S3_SECRET_ACCESS_KEY },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    endpoint,
    client,
    createQueue: async (name, queueOptions = {}) => {
      const attributes: Record<string, string> = {};
      if (queueOptions.visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(queueOptions.visibilityTimeoutSeconds);
      if (queueOptions.deadLetter) {
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: queueOptions.deadLetter.arn,
          maxReceiveCount: queueOptions.deadLetter.maxReceiveCount,
        });
      }
      const { QueueUrl: url } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
      return { name, url: url!, arn: Attributes!.QueueArn! };
    },
    counts: async (queueUrl) => {
      const { Attributes } = await client.send(new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }));
      return { visible: Number(Attributes?.ApproximateNumberOfMessages), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible) };
    },
    close: async () => {
      client.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The directory whose node_modules holds `name` (found by walking up from this file). */
function packageRootOf(name: string): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find node_modules/${name} above ${__dirname}; run npm ci`);
  }
}

/** The child's first line of output; rejects if it exits first or stays silent for 30 s. */
function firstLineOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the local SQS server did not start within 30 s: ${err}`));
    }, 30_000);
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      resolve(out.slice(0, newline));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the local SQS server exited (code ${code}) before it started: ${err}`));
    });
  });
}

export interface CredentialsEndpoint {
  /** AWS_CONTAINER_CREDENTIALS_FULL_URI */
  readonly url: string;
  /** AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE */
  readonly tokenFile: string;
  /** Requests answered with credentials, and requests refused (wrong or missing Authorization). */
  readonly served: number;
  readonly refused: number;
  /** The two environment variables the SDK reads. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Serves temporary credentials like the Pod Identity agent (GET, JSON with AccessKeyId,
 * SecretAccessKey, Token, Expiration), only to requests whose Authorization header equals the
 * token file's contents. The credentials default to s3rver's key pair.
 */
export async function startCredentialsEndpoint(options: {
  accessKeyId?: string;
  secretAccessKey?: string;
  tokenDirectory?: string;
} = {}): Promise<CredentialsEndpoint> {
  const ownDirectory = options.tokenDirectory === undefined;
  const directory = options.tokenDirectory ?? mkdtempSync(join(tmpdir(), 'pod-identity-token-'));
  const tokenFile = join(directory, 'eks-pod-identity-token');
  const token = randomBytes(24).toString('base64url');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const counts = { served: 0, refused: 0 };
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.headers.authorization !== token) {
      counts.refused++;
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: 'invalid authorization token' }));
      return;
    }
    counts.served++;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({
      AccessKeyId: options.accessKeyId ?? LOCAL_S3_ACCESS_KEY_ID,
      SecretAccessKey: options.secretAccessKey ?? LOCAL_S3_SECRET_ACCESS_KEY,
      Token: `local-session-${randomBytes(8).toString('hex')}`,
      AccountId: '000000000000',
      Expiration: new Date(Date.now() + 3600_000).toISOString(),
    }));
  });
  const port = await listen(server);
  const url = `http://127.0.0.1:${port}/v1/credentials`;
  return {
    url,
    tokenFile,
    get served() {
      return counts.served;
    },
    get refused() {
      return counts.refused;
    },
    env: () => ({ AWS_CONTAINER_CREDENTIALS_FULL_URI: url, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile }),
    close: async () => {
      await closeServer(server);
      if (ownDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Faults the proxy injects; each applies to requests that arrive while it is set. */
export interface FaultPlan {
  /**
   * Answer the next `count` requests (of `method`, if given) with this S3 error instead of
   * forwarding them: 409 ConditionalRequestConflict, 500 InternalError or 503 SlowDown.
   */
  readonly failNext?: { readonly count: number; readonly status: 409 | 500 | 503; readonly method?: string };
  /** For the next GET of a key ending in `keySuffix` (any key if omitted), forward `afterBytes` body bytes, then reset the connection. */
  readonly cutNextGetBody?: { readonly afterBytes: number; readonly keySuffix?: string };
  /** Answer requests for keys starting with one of these `bucket/key` prefixes with 403 AccessDenied. */
  readonly denyPrefixes?: readonly string[];
  /** Hold UploadPart requests (not forwarded, not answered) until {@link FaultProxy.releaseHeldParts}. */
  readonly holdUploadParts?: boolean;
  /** Hold GET requests of keys ending in `keySuffix` (any key if omitted) until {@link FaultProxy.releaseHeldGets} forwards them. */
  readonly holdGets?: { readonly keySuffix?: string };
  /**
   * Runs before each GET is forwarded (and is awaited), e.g. to replace the object being read.
   * `idle()` resolves once no GET of the same key is being answered (s3rver rewrites an object's
   * file in place, which would cut off a GET in progress; S3 replaces objects atomically).
   */
  readonly beforeGet?: (request: { readonly path: string; readonly range?: string; idle(): Promise<void> }) => Promise<void>;
  /**
   * In front of the SQS server: hold (never answer) the next `count` requests of this action of
   * the JSON protocol (`X-Amz-Target: AmazonSQS.<action>`), as a stuck connection would.
   */
  readonly holdSqsAction?: { readonly action: string; readonly count: number };
}

export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, e.g. /bucket/key?uploadId=... */
  readonly url: string;
  /** The Range header, if any (a part of a download). */
  readonly range?: string;
  /** The If-Match header, if any (the ETag a download is pinned to). */
  readonly ifMatch?: string;
  /** The status the client got, or 'reset' / 'held'. */
  readonly outcome: number | 'reset' | 'held';
}

export interface FaultProxy {
  /** Use as AWS_ENDPOINT_URL_S3. */
  readonly endpoint: string;
  readonly requests: readonly ProxiedRequest[];
  setFaults(plan: FaultPlan): void;
  /** Resolves when an UploadPart request is being held (holdUploadParts). */
  whenPartHeld(): Promise<void>;
  /** Drops held UploadPart connections (as a network failure would). */
  releaseHeldParts(): void;
  /** Resolves when a GET is being held (holdGets). */
  whenGetHeld(): Promise<void>;
  /** Forwards the held GETs (the client just saw a slow response). */
  releaseHeldGets(): void;
  close(): Promise<void>;
}

/** The S3 error code and message the proxy answers for each status it injects. */
const INJECTED_ERRORS: Record<409 | 500 | 503, readonly [string, string]> = {
  409: ['ConditionalRequestConflict', 'A conflicting conditional operation is currently in progress against this resource.'],
  500: ['InternalError', 'We encountered an internal error. Please try again.'],
  503: ['SlowDown', 'Please reduce your request rate.'],
};

/** Starts a fault-injecting proxy in front of `target` (an http://127.0.0.1:port S3 endpoint). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const upstreamClient = localS3Client(target);
  const requests: ProxiedRequest[] = [];
  let failNext: { count: number; status: 409 | 500 | 503; method?: string } | undefined;
  let cutNext: { afterBytes: number; keySuffix?: string } | undefined;
  let denyPrefixes: readonly string[] = [];
  let holdParts = false;
  let holdGets: { keySuffix?: string } | undefined;
  let beforeGet: FaultPlan['beforeGet'];
  let holdSqs: { action: string; count: number } | undefined;
  /** GETs being answered, per path. */
  const answering = new Map<string, number>();
  const idle = async (path: string): Promise<void> => {
    while ((answering.get(path) ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  const held: http.ServerResponse[] = [];
  const heldGets: Array<() => void> = [];
  let partHeld: (() => void) | undefined;
  let partHeldPromise = new Promise<void>((resolve) => (partHeld = resolve));
  let getHeld: (() => void) | undefined;
  let getHeldPromise = new Promise<void>((resolve) => (getHeld = resolve));

  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const query = new URL(url, 'http://proxy').searchParams;
    const path = decodeURIComponent(url.split('?')[0].replace(/^\//, ''));
    const range = req.headers.range;
    const ifMatch = req.headers['if-match'];
    const record = (outcome: ProxiedRequest['outcome']): void => {
      requests.push({ method, url, outcome, ...(range ? { range } : {}), ...(ifMatch ? { ifMatch } : {}) });
    };

    if (holdSqs && holdSqs.count > 0 && req.headers['x-amz-target'] === `AmazonSQS.${holdSqs.action}`) {
      holdSqs.count--;
      record('held');
      req.resume();
      held.push(res);
      return;
    }
    if (denyPrefixes.some((prefix) => path.startsWith(prefix))) {
      record(403);
      req.resume();
      sendS3Error(res, 403, 'AccessDenied', 'Access Denied');
      return;
    }
    if (failNext && failNext.count > 0 && (failNext.method === undefined || failNext.method === method)) {
      failNext.count--;
      record(failNext.status);
      req.resume();
      const [code, text] = INJECTED_ERRORS[failNext.status];
      sendS3Error(res, failNext.status, code, text);
      return;
    }
    if (method === 'DELETE' && query.has('uploadId')) {
      // AbortMultipartUpload: not implemented by s3rver; answer as S3 does.
      record(204);
      req.resume();
      res.writeHead(204).end();
      return;
    }
    if (holdParts && method === 'PUT' && query.has('uploadId') && query.has('partNumber')) {
      record('held');
      req.resume();
      held.push(res);
      partHeld?.();
      return;
    }
    const cut = method === 'GET' && cutNext && (cutNext.keySuffix === undefined || path.endsWith(cutNext.keySuffix)) ? cutNext : undefined;
    if (cut) cutNext = undefined;
    const send = (): void => {
      if (method === 'GET') {
        answering.set(path, (answering.get(path) ?? 0) + 1);
        res.once('close', () => answering.set(path, answering.get(path)! - 1));
      }
      forward(upstream, req, res, cut, record);
    };
    if (method === 'GET' && holdGets && (holdGets.keySuffix === undefined || path.endsWith(holdGets.keySuffix))) {
      heldGets.push(send);
      getHeld?.();
      return;
    }
    if (method === 'GET' && beforeGet) {
      beforeGet({ path, range, idle: () => idle(path) }).then(send, () => res.destroy());
      return;
    }
    if (method === 'PUT' && req.headers['if-none-match'] === '*') {
      // A conditional write: only if no object has the key.
      objectExists(upstreamClient, path).then((found) => {
        if (!found) return send();
        record(412);
        req.resume();
        sendS3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }, () => res.destroy());
      return;
    }
    send();
  });
  const port = await listen(server);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    setFaults: (plan) => {
      failNext = plan.failNext ? { ...plan.failNext } : undefined;
      cutNext = plan.cutNextGetBody ? { ...plan.cutNextGetBody } : undefined;
      denyPrefixes = plan.denyPrefixes ?? [];
      holdParts = plan.holdUploadParts ?? false;
      holdGets = plan.holdGets ? { ...plan.holdGets } : undefined;
      beforeGet = plan.beforeGet;
      holdSqs = plan.holdSqsAction ? { ...plan.holdSqsAction } : undefined;
    },
    whenPartHeld: () => partHeldPromise,
    releaseHeldParts: () => {
      held.splice(0).forEach((res) => res.destroy());
      partHeldPromise = new Promise<void>((resolve) => (partHeld = resolve));
    },
    whenGetHeld: () => getHeldPromise,
    releaseHeldGets: () => {
      holdGets = undefined;
      heldGets.splice(0).forEach((release) => release());
      getHeldPromise = new Promise<void>((resolve) => (getHeld = resolve));
    },
    close: async () => {
      upstreamClient.destroy();
      held.splice(0).forEach((res) => res.destroy());
      heldGets.splice(0);
      server.closeAllConnections();
      await closeServer(server);
    },
  };
}

/** Forwards a request to the S3 endpoint; with `cut`, drops the connection after that many body bytes. */
function forward(
  upstream: URL,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  cut: { afterBytes: number } | undefined,
  record: (outcome: ProxiedRequest['outcome']) => void,
): void {
  const upstreamRequest = http.request({
    host: upstream.hostname,
    port: upstream.port,
    method: req.method,
    path: req.url,
    headers: req.headers,
  }, (upstreamRes) => {
    const range = req.headers.range;
    const ifMatch = req.headers['if-match'];
    if (req.method === 'GET' && range !== undefined && /\/0$/.test(upstreamRes.headers['content-range'] ?? '')) {
      // s3rver answers a range of an empty object with a 206 that promises a byte it never sends.
      record(416);
      upstreamRes.destroy();
      sendS3Error(res, 416, 'InvalidRange', 'The requested range is not satisfiable');
      return;
    }
    if (req.method === 'GET' && ifMatch !== undefined && upstreamRes.statusCode! < 300 && upstreamRes.headers.etag !== ifMatch) {
      record(412);
      upstreamRes.resume();
      sendS3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      return;
    }
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
    if (!cut) {
      record(upstreamRes.statusCode ?? 502);
      upstreamRes.pipe(res);
      return;
    }
    record('reset');
    let sent = 0;
    upstreamRes.on('data', (chunk: Buffer) => {
      if (sent >= cut.afterBytes) return;
      const part = chunk.subarray(0, cut.afterBytes - sent);
      sent += part.length;
      res.write(part);
      if (sent >= cut.afterBytes) {
        upstreamRes.destroy();
        // Let the bytes reach the client, then drop the connection mid-body.
        res.socket?.end(() => res.socket?.destroy());
      }
    });
  });
  upstreamRequest.on('error', () => res.destroy());
  req.pipe(upstreamRequest);
}

/** Whether the object at `path` (`bucket/key`) exists on the S3 server. */
async function objectExists(client: S3Client, path: string): Promise<boolean> {
  const slash = path.indexOf('/');
  try {
    await client.send(new HeadObjectCommand({ Bucket: path.slice(0, slash), Key: path.slice(slash + 1) }));
    return true;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

function sendS3Error(res: http.ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>`
    + `<RequestId>local-${randomBytes(4).toString('hex')}</RequestId></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
