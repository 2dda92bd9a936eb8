/**
 * Local stand-ins for the AWS side of the job, for tests and the demo (no AWS account needed):
 *
 * - {@link startLocalS3}: an embedded S3 (s3rver) on 127.0.0.1, data in a directory.
 * - {@link startCredentialsEndpoint}: the EKS Pod Identity agent's credentials endpoint. The SDK
 *   finds it through AWS_CONTAINER_CREDENTIALS_FULL_URI and sends the contents of
 *   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE as the Authorization header, which is checked here.
 * - {@link startFaultProxy}: an HTTP proxy in front of the S3 endpoint that injects faults (503
 *   SlowDown / 500 InternalError for the first N requests, a GET body cut mid-stream, 403
 *   AccessDenied for chosen keys, held UploadPart requests, a hook that runs before a GET is
 *   forwarded) and records every request.
 *
 * Everything binds to 127.0.0.1 on a free port. s3rver does not implement AbortMultipartUpload
 * or If-Match on GET, and answers a range of an empty object with a broken 206, so the proxy does
 * as S3 does: it answers AbortMultipartUpload (204), a GET whose If-Match is not the object's
 * current ETag (412 PreconditionFailed) and a range of an empty object (416 InvalidRange).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver is a devDependency of the repository root; processor/tools is not part of the image.
// eslint-disable-next-line import/no-extraneous-dependencies
import S3rver from 's3rver';

/** s3rver accepts requests signed with this key pair only. */
export const LOCAL_S3_ACCESS_KEY_ID = 'S3RVER';
export const LOCAL_S3_SECRET_ACCESS_KEY = 'S3RVER';

export interface LocalS3 {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  readonly directory: string;
  close(): Promise<void>;
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
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory,
    close: async () => {
      await server.close();
      if (ownDirectory) rmSync(directory, { recursive: true, force: true });
    },
  };
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
  /** Answer the next `count` requests (of `method`, if given) with this S3 error instead of forwarding them. */
  readonly failNext?: { readonly count: number; readonly status: 500 | 503; readonly method?: string };
  /** For the next GET of a key ending in `keySuffix` (any key if omitted), forward `afterBytes` body bytes, then reset the connection. */
  readonly cutNextGetBody?: { readonly afterBytes: number; readonly keySuffix?: string };
  /** Answer requests for keys starting with one of these `bucket/key` prefixes with 403 AccessDenied. */
  readonly denyPrefixes?: readonly string[];
  /** Hold UploadPart requests (not forwarded, not answered) until {@link FaultProxy.releaseHeldParts}. */
  readonly holdUploadParts?: boolean;
  /**
   * Runs before each GET is forwarded (and is awaited), e.g. to replace the object being read.
   * `idle()` resolves once no GET of the same key is being answered (s3rver rewrites an object's
   * file in place, which would cut off a GET in progress; S3 replaces objects atomically).
   */
  readonly beforeGet?: (request: { readonly path: string; readonly range?: string; idle(): Promise<void> }) => Promise<void>;
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
  close(): Promise<void>;
}

/** Starts a fault-injecting proxy in front of `target` (an http://127.0.0.1:port S3 endpoint). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  let failNext: { count: number; status: 500 | 503; method?: string } | undefined;
  let cutNext: { afterBytes: number; keySuffix?: string } | undefined;
  let denyPrefixes: readonly string[] = [];
  let holdParts = false;
  let beforeGet: FaultPlan['beforeGet'];
  /** GETs being answered, per path. */
  const answering = new Map<string, number>();
  const idle = async (path: string): Promise<void> => {
    while ((answering.get(path) ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  };
  const held: http.ServerResponse[] = [];
  let partHeld: (() => void) | undefined;
  let partHeldPromise = new Promise<void>((resolve) => (partHeld = resolve));

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
      if (failNext.status === 503) sendS3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
      else sendS3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
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

    const forward = (): void => {
      if (method === 'GET') {
        answering.set(path, (answering.get(path) ?? 0) + 1);
        res.once('close', () => answering.set(path, answering.get(path)! - 1));
      }
      const upstreamRequest = http.request({
        host: upstream.hostname,
        port: upstream.port,
        method,
        path: url,
        headers: req.headers,
      }, (upstreamRes) => respond(upstreamRes));
      upstreamRequest.on('error', () => res.destroy());
      req.pipe(upstreamRequest);
    };
    const respond = (upstreamRes: http.IncomingMessage): void => {
      if (method === 'GET' && range !== undefined && /\/0$/.test(upstreamRes.headers['content-range'] ?? '')) {
        // s3rver answers a range of an empty object with a 206 that promises a byte it never sends.
        record(416);
        upstreamRes.destroy();
        sendS3Error(res, 416, 'InvalidRange', 'The requested range is not satisfiable');
        return;
      }
      if (method === 'GET' && ifMatch !== undefined && upstreamRes.statusCode! < 300 && upstreamRes.headers.etag !== ifMatch) {
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
    };
    if (method === 'GET' && beforeGet) {
      beforeGet({ path, range, idle: () => idle(path) }).then(forward, () => res.destroy());
    } else {
      forward();
    }
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
      beforeGet = plan.beforeGet;
    },
    whenPartHeld: () => partHeldPromise,
    releaseHeldParts: () => {
      held.splice(0).forEach((res) => res.destroy());
      partHeldPromise = new Promise<void>((resolve) => (partHeld = resolve));
    },
    close: async () => {
      held.splice(0).forEach((res) => res.destroy());
      server.closeAllConnections();
      await closeServer(server);
    },
  };
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
