/**
 * Claims: one run per object version, for real. Before a queue-mode run reads an object version it
 * claims it by writing `<outputPrefix>_claims/<hash>.json` with If-None-Match: * (the hash names
 * bucket, key and version: objectVersionKey). Only the claim's holder writes data files, so a
 * duplicate notification or a lapsed visibility timeout cannot re-upload a finished set with other
 * bytes (another image, other settings) under its manifest.
 *
 * A run lives at most its Job's deadline, and the queue's visibility timeout is longer than that
 * (SPEC §10): a claim older than the visibility timeout belongs to a run that died, and is taken
 * over by overwriting it on its ETag (If-Match), so that of two runs taking it over one wins. The
 * holder deletes its claim once its manifest (or report) is written.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3Location, s3Uri } from './config';
import { RunAbortedError, describeError, errorFields } from './errors';
import { putSmallObjectIfAbsent, putSmallObjectIfMatch } from './io/s3';
import { JSON_CONTENT_TYPE } from './outputs';
import { S3EventObject, objectVersionKey } from './s3-event';

/**
 * The folder under the output prefix that holds claims. An input key `<inputPrefix>_claims.csv`
 * puts its outputs there too; their names (`manifest_<runId>.json`, …) never look like a claim's.
 */
export const CLAIMS_FOLDER = '_claims';

/** The contents of a claim object. */
export interface ClaimBody {
  readonly run_id: string;
  /** The pod that holds it (HOSTNAME), for people reading the bucket. */
  readonly pod: string;
  /** When the holder claimed it (ISO 8601): its age decides whether the holder is alive. */
  readonly started_at: string;
  /** `s3://bucket/key` and the version the claim is for. */
  readonly input: string;
  readonly version: string;
}

export type ClaimResult =
  /** This run holds the claim (`takenOverFrom`: the dead holder's claim it replaced). */
  | { readonly kind: 'held'; readonly claim: HeldClaim; readonly takenOverFrom?: ClaimBody }
  /** Another run holds a live claim; `expiresInSeconds`: when it would count as dead. */
  | { readonly kind: 'live'; readonly holder: ClaimBody; readonly expiresInSeconds: number };

/** Where an object version's claim lives: `<outputPrefix>_claims/<32 hex digits>.json`. */
export function claimLocationOf(outputBucket: string, outputPrefix: string, object: S3EventObject): S3Location {
  const hash = createHash('sha256').update(`${object.bucket}\n${object.key}\n${objectVersionKey(object)}`).digest('hex').slice(0, 32);
  return { bucket: outputBucket, key: `${outputPrefix}${CLAIMS_FOLDER}/${hash}.json` };
}

export interface ClaimOptions {
  readonly runId: string;
  /** Older claims belong to dead runs (the queue's visibility timeout). */
  readonly staleAfterSeconds: number;
  readonly pod?: string;
  readonly now?: () => Date;
  readonly signal?: AbortSignal;
}

/**
 * Claims the object version: writes the claim if none exists, or takes over a dead holder's;
 * else reports the live holder.
 */
export async function claimObjectVersion(
  client: S3Client,
  location: S3Location,
  object: S3EventObject,
  options: ClaimOptions,
): Promise<ClaimResult> {
  const now = options.now ?? (() => new Date());
  const body = (): ClaimBody => ({
    run_id: options.runId,
    pod: options.pod ?? process.env.HOSTNAME ?? 'unknown',
    started_at: now().toISOString(),
    input: s3Uri(object),
    version: objectVersionKey(object),
  });
  // Twice at most: a claim deleted between our PUT and our GET (its holder finished) is tried again.
  for (let attempt = 0; attempt < 2; attempt++) {
    const mine = body();
    if (await putSmallObjectIfAbsent(client, location, encode(mine), JSON_CONTENT_TYPE, options.signal)) {
      return { kind: 'held', claim: new HeldClaim(client, location) };
    }
    const current = await readClaim(client, location, options.signal);
    if (current === undefined) continue;
    const ageSeconds = (now().getTime() - Date.parse(current.body.started_at)) / 1000;
    const expiresInSeconds = Number.isFinite(ageSeconds) ? Math.ceil(options.staleAfterSeconds - ageSeconds) : 0;
    if (expiresInSeconds > 0) return { kind: 'live', holder: current.body, expiresInSeconds };
    if (await putSmallObjectIfMatch(client, location, encode(mine), JSON_CONTENT_TYPE, current.eTag, options.signal)) {
      return { kind: 'held', claim: new HeldClaim(client, location), takenOverFrom: current.body };
    }
    // Another run took it over first: it is the live holder now.
  }
  const holder = await readClaim(client, location, options.signal);
  if (holder === undefined) throw new Error(`the claim ${s3Uri(location)} keeps changing hands; the message comes back later`);
  return { kind: 'live', holder: holder.body, expiresInSeconds: options.staleAfterSeconds };
}

/** A claim this run holds. */
export class HeldClaim {
  constructor(private readonly client: S3Client, readonly location: S3Location) {}

  /** Deletes the claim (after the manifest or a report is written); a failure only leaves it to expire. */
  async release(): Promise<string | undefined> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.location.bucket, Key: this.location.key }));
      return undefined;
    } catch (error) {
      return describeError(error);
    }
  }
}

async function readClaim(client: S3Client, location: S3Location, signal?: AbortSignal): Promise<{ body: ClaimBody; eTag: string } | undefined> {
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal: signal });
    const text = await response.Body!.transformToString();
    return { body: parseClaim(text), eTag: response.ETag! };
  } catch (error) {
    if (signal?.aborted) throw new RunAbortedError();
    if (errorFields(error).name === 'NoSuchKey') return undefined;
    throw new Error(`reading the claim ${s3Uri(location)} failed: ${errorFields(error).name}: ${describeError(error)}`, { cause: error });
  }
}

/** A claim that cannot be parsed counts as dead (started at the epoch): it can be taken over. */
function parseClaim(text: string): ClaimBody {
  try {
    const parsed = JSON.parse(text) as Partial<ClaimBody>;
    return {
      run_id: String(parsed.run_id ?? ''),
      pod: String(parsed.pod ?? ''),
      started_at: typeof parsed.started_at === 'string' ? parsed.started_at : new Date(0).toISOString(),
      input: String(parsed.input ?? ''),
      version: String(parsed.version ?? ''),
    };
  } catch {
    return { run_id: '', pod: '', started_at: new Date(0).toISOString(), input: '', version: '' };
  }
}

function encode(body: ClaimBody): Buffer {
  return Buffer.from(JSON.stringify(body, null, 2) + '\n', 'utf8');
}
