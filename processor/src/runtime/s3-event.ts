/**
 * S3 event notifications as they arrive on an SQS queue, and where each object's outputs go.
 *
 * A message body is either the test event S3 sends when a notification is configured
 * (`{"Service":"Amazon S3","Event":"s3:TestEvent",...}`) or `{"Records":[...]}`, each record
 * naming one bucket and object. Keys are URL-encoded, with `+` for a space (`hr+2026.csv` is
 * `hr 2026.csv`, a literal `+` is `%2B`).
 */
import { createHash } from 'node:crypto';
import { runIdFor } from './config';
import { BadInputError } from './errors';

/** An object named by an `ObjectCreated:*` record. */
export interface S3EventObject {
  readonly bucket: string;
  /** Decoded key. */
  readonly key: string;
  readonly eventName: string;
  /** ISO 8601, when S3 created the object (the same on every delivery of the message). */
  readonly eventTime?: string;
  readonly versionId?: string;
  readonly eTag?: string;
  readonly sequencer?: string;
  readonly size?: number;
}

export type S3EventMessage =
  | { readonly kind: 'test'; readonly bucket?: string }
  | {
    readonly kind: 'objects';
    readonly objects: readonly S3EventObject[];
    /** Event names of records that create no object (e.g. ObjectRemoved:Delete); nothing to do for them. */
    readonly ignored: readonly string[];
  };

/** The message is not an S3 event notification: no amount of retrying will make it one. */
export class NotAnS3EventError extends BadInputError {
  constructor(message: string) {
    super(message);
    this.name = 'NotAnS3EventError';
  }
}

/** Parses a message body; NotAnS3EventError for anything that is not an S3 event notification. */
export function parseS3EventMessage(body: string | undefined): S3EventMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    throw new NotAnS3EventError(`the message is not JSON: ${preview(body)}`);
  }
  if (!isObject(parsed)) throw new NotAnS3EventError(`the message is not a JSON object: ${preview(body)}`);
  if (parsed.Event === 's3:TestEvent') {
    return { kind: 'test', ...(typeof parsed.Bucket === 'string' ? { bucket: parsed.Bucket } : {}) };
  }
  if (!Array.isArray(parsed.Records) || parsed.Records.length === 0) {
    throw new NotAnS3EventError(`the message has no S3 event records: ${preview(body)}`);
  }
  const objects: S3EventObject[] = [];
  const ignored: string[] = [];
  parsed.Records.forEach((record: unknown, index: number) => {
    if (!isObject(record) || record.eventSource !== 'aws:s3' || typeof record.eventName !== 'string') {
      throw new NotAnS3EventError(`record ${index} is not an S3 event record (eventSource aws:s3, eventName): ${preview(body)}`);
    }
    if (!record.eventName.startsWith('ObjectCreated:')) {
      ignored.push(record.eventName);
      return;
    }
    objects.push(objectOf(record, index, body));
  });
  return { kind: 'objects', objects, ignored };
}

function objectOf(record: Record<string, any>, index: number, body: string | undefined): S3EventObject {
  const s3 = record.s3;
  const bucket = s3?.bucket?.name;
  const rawKey = s3?.object?.key;
  if (typeof bucket !== 'string' || bucket === '' || typeof rawKey !== 'string' || rawKey === '') {
    throw new NotAnS3EventError(`record ${index} names no bucket and key (s3.bucket.name, s3.object.key): ${preview(body)}`);
  }
  const object = s3.object;
  return {
    bucket,
    key: decodeS3EventKey(rawKey),
    eventName: record.eventName,
    ...(typeof record.eventTime === 'string' ? { eventTime: record.eventTime } : {}),
    ...(typeof object.versionId === 'string' && object.versionId !== '' ? { versionId: object.versionId } : {}),
    ...(typeof object.eTag === 'string' && object.eTag !== '' ? { eTag: object.eTag } : {}),
    ...(typeof object.sequencer === 'string' ? { sequencer: object.sequencer } : {}),
    ...(typeof object.size === 'number' ? { size: object.size } : {}),
  };
}

/** `hr+2026%2Bq1.csv` → `hr 2026+q1.csv`: S3 encodes keys in events as HTML forms do. */
export function decodeS3EventKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new NotAnS3EventError(`the object key '${raw}' is not valid URL encoding`);
  }
}

/** Where an object's outputs go, relative to the output prefix. */
export type OutputPlace =
  /** `<outputPrefix><folder>/`: the key relative to the input prefix, without its extension. */
  | { readonly kind: 'folder'; readonly folder: string }
  /** The key ends in `/` (a console "folder"): no data to process. */
  | { readonly kind: 'folder-marker' }
  /** Not under the input prefix, or a `.`/`..` path segment: not this workload's input. */
  | { readonly kind: 'outside'; readonly reason: string };

/** `data/hr/2026.csv` under `data/` → folder `hr/2026`. */
export function outputPlaceOf(key: string, inputPrefix: string): OutputPlace {
  if (!key.startsWith(inputPrefix)) {
    return { kind: 'outside', reason: `the object key '${key}' is not under the input prefix '${inputPrefix}'` };
  }
  // Empty segments are kept: `data//x.csv` and `data/x.csv` are different objects, and their
  // outputs must not share a folder.
  const relative = key.slice(inputPrefix.length);
  if (relative === '' || relative.endsWith('/')) return { kind: 'folder-marker' };
  const segments = relative.split('/');
  if (segments.some((s) => s === '.' || s === '..')) {
    return { kind: 'outside', reason: `the object key '${key}' has a '.' or '..' path segment, which would place its outputs elsewhere` };
  }
  const last = segments[segments.length - 1];
  const dot = last.lastIndexOf('.');
  // A leading dot names a hidden file, not an extension: `.env` stays `.env`.
  segments[segments.length - 1] = dot > 0 ? last.slice(0, dot) : last;
  return { kind: 'folder', folder: segments.join('/') };
}

/**
 * The run id of an object's outputs: the event time (YYYYMMDD-HHMMSS, so processing_timestamp is
 * the upload time) and 8 hex digits of a hash of bucket, key and object version (versionId, else
 * ETag and the event's sequencer: objectVersionKey). Every delivery of the same message gives the same run id,
 * so a retried message overwrites its outputs instead of adding a second set; a new upload of the
 * same key gives a new one. `fallbackTime` (the message's SentTimestamp) stands in for a missing
 * event time.
 */
export function runIdForObject(object: S3EventObject, fallbackTime: Date): string {
  const eventTime = object.eventTime === undefined ? undefined : new Date(object.eventTime);
  const time = eventTime !== undefined && !Number.isNaN(eventTime.getTime()) ? eventTime : fallbackTime;
  return `${runIdFor(time)}-${objectVersionHash(object)}`;
}

/** 8 hex digits of a hash of bucket, key and object version: the end of the object's derived run ids. */
export function objectVersionHash(object: S3EventObject): string {
  return createHash('sha256').update(`${object.bucket}\n${object.key}\n${objectVersionKey(object)}`).digest('hex').slice(0, 8);
}

/**
 * What tells one upload of a key from another: its version id; in an unversioned bucket the ETag
 * and the event's sequencer together. The ETag alone names the content, and a key uploaded with X,
 * then Y, then X again must be processed the third time; the sequencer alone may be absent. A
 * redelivered message (or a duplicate event) carries the same sequencer, a new upload a new one.
 */
export function objectVersionKey(object: S3EventObject): string {
  if (object.versionId !== undefined) return object.versionId;
  return [object.eTag, object.sequencer].filter((part) => part !== undefined).join('@');
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function preview(body: string | undefined): string {
  if (body === undefined) return '(no body)';
  return body.length > 200 ? `${body.slice(0, 200)}…` : body;
}
