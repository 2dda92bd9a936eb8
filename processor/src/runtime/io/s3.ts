/**
 * S3 access: the default credential chain (on EKS the Pod Identity agent's endpoint, which the SDK
 * reads from AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE),
 * downloads as parallel ranged GETs that resume after a connection drops mid-body, and uploads
 * that are aborted cleanly.
 */
import { FileHandle, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand, ChecksumAlgorithm, CompleteMultipartUploadCommand, CompletedPart, CreateMultipartUploadCommand, GetObjectCommand,
  GetObjectCommandOutput, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ClientConfig, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { S3Location, s3Uri } from '../config';
import { BadInputError, RunAbortedError, SupersededInputError, describeError, errorFields } from '../errors';
import type { Logger } from '../log';
import { awsClientSettings } from './aws-client';
import type { ByteSource } from './source';


/** How often a download part is resumed after its body broke off, or an upload restarted from its file. */
const MAX_RESUMES = 5;
const MAX_UPLOAD_ATTEMPTS = 3;
const RETRY_BASE_DELAY_MS = 200;
/** Part size of multipart uploads: S3's minimum, 5 MiB (larger only past S3's 10,000 parts: uploadPartBytes). */
export const UPLOAD_PART_BYTES = 5 * 1024 * 1024;
/** Parts of one upload in flight at once, each in its own buffer (with 5 MiB parts, 20 MiB). */
export const UPLOAD_QUEUE_SIZE = 4;
const MAX_UPLOAD_PARTS = 10_000;
/** A single PUT of at least this size reads its file into a reused part buffer (processor/src/runtime/outputs.ts uploads these one at a time). */
const POOLED_PUT_BYTES = 1024 * 1024;

/**
 * An S3 client from the environment. AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) selects a local
 * S3 such as s3rver: path-style addressing, and checksums only where S3 requires them, since
 * emulators do not implement the SDK's default streaming checksums.
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const config: S3ClientConfig = awsClientSettings(env, 'AWS_ENDPOINT_URL_S3', 120_000);
  if (config.endpoint) {
    config.forcePathStyle = true;
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  return new S3Client(config);
}

/** Part size of the parallel ranged GETs that read an input object. */
export const DOWNLOAD_PART_BYTES = 4 * 1024 * 1024;
/** Ranged GETs in flight at once (with their parts, 16 MiB). */
export const DOWNLOAD_CONCURRENCY = 4;

/** An S3 object opened for reading, front to back. */
export interface S3ObjectSource extends ByteSource {
  readonly size: number;
  readonly lastModified: Date | undefined;
  /** The version read (absent in an unversioned bucket). */
  readonly versionId: string | undefined;
  /** The ETag of the bytes read, without quotes. */
  readonly eTag: string | undefined;
}

/** The object version an S3 event names: what a queue-mode read must get, or nothing. */
export interface ObjectVersion {
  /** Every GET asks for this version (a versioned bucket). */
  readonly versionId?: string;
  /** Without a version id, every GET is pinned to this ETag (If-Match): an unversioned bucket. */
  readonly eTag?: string;
}

export interface OpenObjectOptions {
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /**
   * The version to read. When given, a version that is gone (NoSuchVersion, NoSuchKey, a 412 on
   * its ETag) fails as SupersededInputError instead of bad input.
   */
  readonly version?: ObjectVersion;
}

/**
 * Reads an object as parallel ranged GETs of DOWNLOAD_PART_BYTES, DOWNLOAD_CONCURRENCY at a time, handed out in
 * order. With `version`, every GET asks for the event's version id, or, without one, is pinned to
 * the event's ETag (If-Match). Otherwise the first GET (the first part) tells the ETag, and every
 * later GET is pinned to it, so all parts come from one version of the object and a change while
 * reading fails the run (412 PreconditionFailed). Failed requests are retried by the SDK (bounded
 * by maxAttempts); a part whose body breaks off mid-stream resumes from the byte reached (a few
 * times at most). NoSuchKey and NoSuchBucket fail at once as BadInputError naming bucket and key;
 * AccessDenied fails at once as a plain error (exit 1: a permission or propagation problem that
 * a later retry may not have).
 */
export async function openS3Object(client: S3Client, location: S3Location, options: OpenObjectOptions): Promise<S3ObjectSource> {
  const partBytes = DOWNLOAD_PART_BYTES;
  const reader = new PartReader(client, location, options.version, options.log, options.signal);
  try {
    let first: GetObjectCommandOutput;
    try {
      first = await reader.get(`bytes=0-${partBytes - 1}`);
    } catch (error) {
      if (errorName(error) !== 'InvalidRange') throw error;
      // S3 answers a range of an empty object with 416: read it whole to learn it is empty.
      return emptyObject(reader, await reader.get(undefined));
    }
    const size = totalSizeOf(first);
    // Some S3 look-alikes answer a range of an empty object with `bytes 0-0/0` instead of 416.
    if (size === 0) return emptyObject(reader, first);
    if (size === undefined) {
      (first.Body as Readable | undefined)?.destroy();
      throw new Error(`reading ${s3Uri(location)}: the S3 endpoint did not answer the ranged GET with a Content-Range`);
    }
    reader.etag ??= first.ETag;
    return new PartsSource(reader, first, size, partBytes, DOWNLOAD_CONCURRENCY);
  } catch (error) {
    reader.stop();
    throw error;
  }
}

function emptyObject(reader: PartReader, response: GetObjectCommandOutput): S3ObjectSource {
  (response.Body as Readable | undefined)?.destroy();
  reader.stop();
  return {
    size: 0,
    lastModified: response.LastModified,
    versionId: response.VersionId,
    eTag: unquoted(response.ETag),
    read: async () => 0,
    close: async () => undefined,
  };
}

/** `"abc"` → `abc`: S3 events name ETags without the quotes that HTTP headers carry. */
function unquoted(eTag: string | undefined): string | undefined {
  return eTag?.replace(/^"(.*)"$/, '$1');
}

/** `abc` → `"abc"`, the form of an ETag in If-Match. */
function quoted(eTag: string): string {
  return eTag.startsWith('"') ? eTag : `"${eTag}"`;
}

/**
 * The object's parts handed out in order, `concurrency` of them fetched ahead from the first
 * read on; or, with saveTo, written straight to a file.
 */
class PartsSource implements S3ObjectSource {
  readonly lastModified: Date | undefined;
  readonly versionId: string | undefined;
  readonly eTag: string | undefined;
  private readonly parts: number;
  private readonly fetched: Array<Promise<Buffer>> = [];
  private nextPart = 0;
  private current: Buffer | undefined;
  private pos = 0;

  constructor(
    private readonly reader: PartReader,
    private first: GetObjectCommandOutput | undefined,
    readonly size: number,
    private readonly partBytes: number,
    private readonly concurrency: number,
  ) {
    this.lastModified = first?.LastModified;
    this.versionId = first?.VersionId;
    this.eTag = unquoted(first?.ETag);
    this.parts = Math.ceil(size / partBytes);
  }

  async read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    if (this.nextPart === 0) this.fetchAhead();
    while (this.current === undefined || this.pos === this.current.length) {
      const next = this.fetched.shift();
      if (next === undefined) return 0;
      if (this.current !== undefined) this.reader.recycle(this.current);
      try {
        this.current = await next;
      } catch (error) {
        this.reader.stop();
        throw error;
      }
      this.pos = 0;
      this.fetchAhead();
    }
    const n = Math.min(length, this.current.length - this.pos);
    this.current.copy(buf, offset, this.pos, this.pos + n);
    this.pos += n;
    return n;
  }

  /**
   * Writes the whole object to a new file: `concurrency` ranged GETs at once, each body gathered
   * into a small reused buffer and written at its offset as it arrives, so no part is held in
   * memory (only the HTTP chunks on their way to the disk). Instead of read, not after it.
   */
  async saveTo(path: string): Promise<void> {
    if (this.nextPart !== 0) throw new Error('saveTo after read');
    const file = await open(path, 'w');
    const failures: unknown[] = [];
    const worker = async (): Promise<void> => {
      const writer = new CoalescingWriter(file, SAVE_WRITE_BYTES);
      while (this.nextPart < this.parts && failures.length === 0) {
        const start = this.nextPart++ * this.partBytes;
        const first = this.first;
        this.first = undefined;
        await this.reader.fetch(start, Math.min(this.size, start + this.partBytes), first, (piece, at) => writer.add(piece, start + at));
        await writer.flush();
      }
    };
    try {
      // The first failure stops the other GETs; every worker has ended before the file is closed.
      await Promise.all(Array.from({ length: Math.min(this.concurrency, this.parts) }, () => worker().catch((error: unknown) => {
        failures.push(error);
        this.reader.stop();
      })));
    } finally {
      await file.close();
    }
    if (failures.length > 0) throw failures[0];
  }

  async close(): Promise<void> {
    this.reader.stop();
    (this.first?.Body as Readable | undefined)?.destroy();
    await Promise.all(this.fetched.splice(0).map((p) => p.catch(() => undefined)));
  }

  private fetchAhead(): void {
    while (this.nextPart < this.parts && this.fetched.length < this.concurrency) {
      const start = this.nextPart * this.partBytes;
      const promise = this.reader.part(start, Math.min(this.size, start + this.partBytes), this.first);
      this.first = undefined;
      promise.catch(() => undefined); // observed when the part is read
      this.fetched.push(promise);
      this.nextPart++;
    }
  }
}

/** Bytes a saveTo worker gathers from a GET's chunks before it writes them: one write per 256 KiB, not per chunk (larger buffers measured no faster, and peaked higher). */
const SAVE_WRITE_BYTES = 256 * 1024;

/** Gathers consecutive pieces of a file in one reused buffer and writes them at their offset when it is full. */
class CoalescingWriter {
  private readonly buf: Buffer;
  private filled = 0;
  /** The file offset of buf[0]. */
  private position = 0;

  constructor(private readonly file: FileHandle, bytes: number) {
    this.buf = Buffer.allocUnsafeSlow(bytes);
  }

  async add(piece: Buffer, position: number): Promise<void> {
    if (this.filled > 0 && this.position + this.filled !== position) await this.flush();
    if (this.filled === 0) this.position = position;
    for (let from = 0; from < piece.length;) {
      const n = piece.copy(this.buf, this.filled, from);
      this.filled += n;
      from += n;
      if (this.filled === this.buf.length) await this.flush();
    }
  }

  async flush(): Promise<void> {
    for (let written = 0; written < this.filled;) {
      written += (await this.file.write(this.buf, written, this.filled - written, this.position + written)).bytesWritten;
    }
    this.position += this.filled;
    this.filled = 0;
  }
}

/** The object's size from a ranged GET's Content-Range (`bytes 0-4194303/291772119`). */
function totalSizeOf(response: GetObjectCommandOutput): number | undefined {
  const match = /\/(\d+)$/.exec(response.ContentRange ?? '');
  return match ? Number(match[1]) : undefined;
}

/** GETs of one object: single requests, and whole parts with resumption. */
class PartReader {
  /** The ETag every part must have (If-Match). */
  etag: string | undefined;
  private readonly free: Buffer[] = [];
  /** Stops requests in flight when the reading ends early (a failure elsewhere) or the run is aborted. */
  private readonly stopping = new AbortController();
  private readonly onAbort: () => void;

  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
    private readonly version: ObjectVersion | undefined,
    private readonly log: Logger,
    private readonly runSignal: AbortSignal | undefined,
  ) {
    // With a version id every GET reads that version; the ETag is learned from the first.
    if (version?.versionId === undefined && version?.eTag !== undefined) this.etag = quoted(version.eTag);
    this.onAbort = () => this.stopping.abort();
    runSignal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Aborts what is in flight and lets go of the run's signal. */
  stop(): void {
    this.stopping.abort();
    this.runSignal?.removeEventListener('abort', this.onAbort);
  }

  /** Takes back a part's buffer once its bytes have been read. */
  recycle(buf: Buffer): void {
    if (this.free.length < 2) this.free.push(buf);
  }

  /** One GET (retried by the SDK) of the version read, pinned to its ETag once it is known; errors are mapped to the run's errors. */
  async get(range: string | undefined): Promise<GetObjectCommandOutput> {
    try {
      return await this.client.send(new GetObjectCommand({
        Bucket: this.location.bucket,
        Key: this.location.key,
        VersionId: this.version?.versionId,
        Range: range,
        IfMatch: this.etag,
      }), { abortSignal: this.stopping.signal });
    } catch (error) {
      if (this.runSignal?.aborted) throw new RunAbortedError();
      if (errorName(error) === 'InvalidRange') throw error;
      throw this.inputError(error);
    }
  }

  /** The run's error for a failed read: superseded when the event's version is gone. */
  inputError(error: unknown): Error {
    return this.version === undefined ? inputError(error, this.location) : versionReadError(error, this.location, this.version);
  }

  /** Bytes [start, end) of the object in a buffer (one of the recycled ones when it fits); `first` is a response already carrying them. */
  async part(start: number, end: number, first: GetObjectCommandOutput | undefined): Promise<Buffer> {
    const reused = this.free.pop();
    const buf = reused !== undefined && reused.length === end - start ? reused : Buffer.allocUnsafeSlow(end - start);
    await this.fetch(start, end, first, (piece, at) => {
      piece.copy(buf, at);
    });
    return buf;
  }

  /**
   * Hands bytes [start, end) of the object to `sink` as they arrive, each piece with its offset
   * from `start` (the next piece waits for the sink); `first` is a response already carrying them.
   * A body that breaks off is resumed from the byte reached.
   */
  async fetch(
    start: number,
    end: number,
    first: GetObjectCommandOutput | undefined,
    sink: (piece: Buffer, at: number) => void | Promise<void>,
  ): Promise<void> {
    let got = 0;
    let response = first;
    for (let resumes = 0; ; resumes++) {
      response ??= await this.get(`bytes=${start + got}-${end - 1}`);
      const body = response.Body as Readable;
      response = undefined;
      try {
        for await (const chunk of body) {
          const piece = chunk as Buffer;
          if (start + got + piece.length > end) throw new Error(`the response for bytes ${start}-${end - 1} of ${s3Uri(this.location)} is longer than asked`);
          await sink(piece, got);
          got += piece.length;
        }
        if (start + got !== end) throw new TransientS3Error(`the response body ended at byte ${start + got} of ${end}`);
        return;
      } catch (error) {
        if (this.runSignal?.aborted) throw new RunAbortedError();
        if (this.stopping.signal.aborted) throw error;
        if (!isTransient(error)) throw this.inputError(error);
        if (resumes >= MAX_RESUMES) {
          throw new Error(`downloading ${s3Uri(this.location)} failed after ${resumes + 1} attempts: ${describeError(error)}`, { cause: error });
        }
        this.log.warn(`Download of ${s3Uri(this.location)} interrupted at byte ${start + got} (${describeError(error)}); resuming`, { attempt: resumes + 2 });
        await sleep(backoffMs(resumes + 1), undefined, { signal: this.stopping.signal }).catch(() => undefined);
      } finally {
        body.destroy();
      }
    }
  }
}

/**
 * Uploads a local file: one PUT up to a part's size, else a multipart upload whose parts are read
 * from the file into UPLOAD_QUEUE_SIZE buffers, each reused from part to part, so the memory it
 * takes is bounded whatever the file's size and no part is ever copied. (lib-storage's Upload
 * reads a stream into fresh part buffers joined from the stream's chunks: twice a part's bytes,
 * left to the garbage collector.) Each request is retried by the SDK; a failed upload is
 * restarted from the file a few times when the failure is transient; the bytes are the file's
 * either way. When `signal` aborts, the parts in flight are stopped and the multipart upload is
 * aborted on S3 (AbortMultipartUpload) before this rejects.
 */
export async function uploadFile(
  client: S3Client,
  location: S3Location,
  path: string,
  options: { size: number; contentType: string; log: Logger; signal?: AbortSignal },
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      await uploadOnce(client, location, path, options);
      return;
    } catch (error) {
      if (options.signal?.aborted) throw new RunAbortedError();
      if (!isTransient(error) || attempt >= MAX_UPLOAD_ATTEMPTS) throw outputError(error, location);
      options.log.warn(`Upload to ${s3Uri(location)} failed (${describeError(error)}); restarting`, { attempt: attempt + 1 });
      await sleep(backoffMs(attempt));
    }
  }
}

/** A file's part size: UPLOAD_PART_BYTES, or more when the file would need more than S3's 10,000 parts. */
export function uploadPartBytes(size: number): number {
  return Math.max(UPLOAD_PART_BYTES, Math.ceil(size / MAX_UPLOAD_PARTS));
}

async function uploadOnce(
  client: S3Client,
  location: S3Location,
  path: string,
  options: { size: number; contentType: string; log: Logger; signal?: AbortSignal },
): Promise<void> {
  const partBytes = uploadPartBytes(options.size);
  const file = await open(path, 'r');
  try {
    if (options.size <= partBytes) {
      // A file of a MiB or more (uploaded one at a time) borrows a part buffer; smaller ones (several at once) get their own.
      const buf = options.size >= POOLED_PUT_BYTES ? partBuffers.take(UPLOAD_PART_BYTES) : Buffer.allocUnsafe(options.size);
      try {
        const body = buf.subarray(0, options.size);
        await readPart(file, body, 0);
        const command = new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body, ContentType: options.contentType });
        await client.send(command, { abortSignal: options.signal });
      } finally {
        partBuffers.give(buf);
      }
      return;
    }
    await new MultipartUpload(client, location, options.log, options.signal).send(file, options.size, partBytes, options.contentType);
  } finally {
    await file.close();
  }
}

/** Fills `buf` with the file's bytes from `position`; a file shorter than that has changed since it was listed. */
async function readPart(file: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let got = 0; got < buf.length;) {
    const { bytesRead } = await file.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) throw new Error(`the file ended at byte ${position + got}, before its listed size: it changed while it was uploaded`);
    got += bytesRead;
  }
}

/**
 * Part buffers kept from one upload to the next: uploads of big files run one after another, so
 * the process allocates UPLOAD_QUEUE_SIZE of them once, instead of a new set per file that waits
 * for the garbage collector (and, freed, stays in the allocator's heap).
 */
class PartBuffers {
  private readonly spare: Buffer[] = [];

  take(bytes: number): Buffer {
    const spare = this.spare.pop();
    return spare !== undefined && spare.length === bytes ? spare : Buffer.allocUnsafeSlow(bytes);
  }

  give(buf: Buffer): void {
    if (buf.length === UPLOAD_PART_BYTES && this.spare.length < UPLOAD_QUEUE_SIZE) this.spare.push(buf);
  }
}

const partBuffers = new PartBuffers();

/** One multipart upload, as lib-storage's Upload sends it (CRC32 part checksums where the client computes checksums). */
class MultipartUpload {
  /** Stops the parts in flight: the run's signal, or the first part that failed. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
    private readonly log: Logger,
    private readonly runSignal: AbortSignal | undefined,
  ) {}

  async send(file: FileHandle, size: number, partBytes: number, contentType: string): Promise<void> {
    const onAbort = (): void => this.stopping.abort();
    this.runSignal?.addEventListener('abort', onAbort, { once: true });
    const target = { Bucket: this.location.bucket, Key: this.location.key };
    try {
      const checksums = (await this.client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
      const created = await this.client.send(new CreateMultipartUploadCommand({
        ...target, ContentType: contentType, ...(checksums ? { ChecksumAlgorithm: ChecksumAlgorithm.CRC32 } : {}),
      }), { abortSignal: this.stopping.signal });
      const uploadId = created.UploadId!;
      try {
        const parts = await this.sendParts(file, size, partBytes, uploadId);
        await this.client.send(new CompleteMultipartUploadCommand({ ...target, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
          { abortSignal: this.stopping.signal });
      } catch (error) {
        await this.abort(uploadId);
        throw error;
      }
    } finally {
      this.runSignal?.removeEventListener('abort', onAbort);
    }
  }

  /** The parts, UPLOAD_QUEUE_SIZE at a time, each sender with its own buffer; the first failure stops the others. */
  private async sendParts(file: FileHandle, size: number, partBytes: number, uploadId: string): Promise<CompletedPart[]> {
    const count = Math.ceil(size / partBytes);
    const parts: CompletedPart[] = [];
    const failures: unknown[] = [];
    let next = 0;
    const sender = async (): Promise<void> => {
      const buf = partBuffers.take(partBytes);
      try {
        await send(buf);
      } finally {
        partBuffers.give(buf);
      }
    };
    const send = async (buf: Buffer): Promise<void> => {
      while (next < count && !this.stopping.signal.aborted) {
        const number = ++next;
        const start = (number - 1) * partBytes;
        const body = buf.subarray(0, Math.min(partBytes, size - start));
        await readPart(file, body, start);
        const answer = await this.client.send(new UploadPartCommand({
          Bucket: this.location.bucket, Key: this.location.key, UploadId: uploadId, PartNumber: number, Body: body, ContentLength: body.length,
        }), { abortSignal: this.stopping.signal });
        if (!answer.ETag) throw new Error(`S3 answered part ${number} of ${s3Uri(this.location)} without an ETag`);
        parts.push({ PartNumber: number, ETag: answer.ETag, ...(answer.ChecksumCRC32 === undefined ? {} : { ChecksumCRC32: answer.ChecksumCRC32 }) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOAD_QUEUE_SIZE, count) }, () => sender().catch((error: unknown) => {
      failures.push(error);
      this.stopping.abort();
    })));
    if (failures.length > 0) throw failures[0];
    this.runSignal?.throwIfAborted();
    return parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
  }

  /** Makes S3 drop the parts sent (AbortMultipartUpload); a failure to do so is logged, the upload's own error stands. */
  private async abort(uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.location.bucket, Key: this.location.key, UploadId: uploadId }));
      this.log.info(`Aborted multipart upload to ${s3Uri(this.location)}`, { uploadId });
    } catch (error) {
      this.log.warn(`Could not abort multipart upload to ${s3Uri(this.location)}: ${describeError(error)}`, { uploadId });
    }
  }
}

/** Puts a small object (the manifest, JSON outputs) from memory; the SDK retries it. */
export async function putSmallObject(
  client: S3Client,
  location: S3Location,
  body: Buffer,
  contentType: string,
  signal?: AbortSignal,
): Promise<void> {
  try {
    const command = new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body, ContentType: contentType });
    await client.send(command, { abortSignal: signal });
  } catch (error) {
    if (signal?.aborted) throw new RunAbortedError();
    throw outputError(error, location);
  }
}

/**
 * Puts a small object only if no object has its key (If-None-Match: *), so that of two runs
 * racing to write it one wins. False when it already existed (412 PreconditionFailed). A 409
 * ConditionalRequestConflict means another conditional write of the key is still in flight and
 * may yet fail: it says nothing about who wins, so the PUT is sent again (with backoff, at most
 * CONDITIONAL_CONFLICT_ATTEMPTS times) until S3 answers 200 or 412.
 */
export async function putSmallObjectIfAbsent(
  client: S3Client,
  location: S3Location,
  body: Buffer,
  contentType: string,
  signal?: AbortSignal,
): Promise<boolean> {
  return putConditionally(client, location, body, contentType, { IfNoneMatch: '*' }, signal);
}

/**
 * Puts a small object only if the object under its key still has this ETag (If-Match), e.g. to
 * take over a claim whose holder died: of two runs taking it over one wins. False on 412, or 404
 * when the object is gone. Retries 409 as putSmallObjectIfAbsent does.
 */
export async function putSmallObjectIfMatch(
  client: S3Client,
  location: S3Location,
  body: Buffer,
  contentType: string,
  eTag: string,
  signal?: AbortSignal,
): Promise<boolean> {
  return putConditionally(client, location, body, contentType, { IfMatch: eTag }, signal);
}

/** Attempts of a conditional PUT that S3 answers with 409 ConditionalRequestConflict. */
export const CONDITIONAL_CONFLICT_ATTEMPTS = 6;
/** The first wait after a 409; it doubles with every further 409 (0.1 + 0.2 + … + 1.6 s in all). */
const CONDITIONAL_CONFLICT_BACKOFF_MS = 100;

async function putConditionally(
  client: S3Client,
  location: S3Location,
  body: Buffer,
  contentType: string,
  condition: { readonly IfNoneMatch?: string; readonly IfMatch?: string },
  signal?: AbortSignal,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      const command = new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body, ContentType: contentType, ...condition });
      await client.send(command, { abortSignal: signal });
      return true;
    } catch (error) {
      if (signal?.aborted) throw new RunAbortedError();
      const name = errorName(error);
      if (name === 'PreconditionFailed' || (condition.IfMatch !== undefined && (name === 'NoSuchKey' || name === 'NotFound'))) return false;
      if (name !== 'ConditionalRequestConflict' || attempt >= CONDITIONAL_CONFLICT_ATTEMPTS) throw outputError(error, location);
    }
    await sleep(CONDITIONAL_CONFLICT_BACKOFF_MS * 2 ** (attempt - 1), undefined, { signal }).catch(() => {
      throw new RunAbortedError();
    });
  }
}

/** Raised for a response that ended early; worth resuming. */
class TransientS3Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientS3Error';
  }
}

const TRANSIENT_NAMES = new Set([
  'TransientS3Error', 'SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeoutException',
  'TimeoutError', 'ThrottlingException', 'Throttling',
]);
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH',
  'ENETUNREACH', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET',
]);

/** Whether retrying may help: server errors, throttling, dropped connections. */
export function isTransient(error: unknown): boolean {
  const { name, message, code } = errorFields(error);
  if (TRANSIENT_NAMES.has(name) || (code !== undefined && TRANSIENT_CODES.has(code))) return true;
  const status = httpStatusOf(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if ((error as { $retryable?: unknown } | undefined)?.$retryable) return true;
  // A body cut off mid-stream surfaces as a plain "aborted" error from node:http.
  return /\b(aborted|socket hang up|premature close)\b/i.test(message);
}

function httpStatusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function errorName(error: unknown): string {
  return errorFields(error).name;
}

function inputError(error: unknown, location: S3Location): Error {
  const name = errorName(error);
  const status = httpStatusOf(error);
  if (name === 'NoSuchKey' || (name === 'NotFound' && status === 404)) {
    return new BadInputError(`input object ${s3Uri(location)} does not exist (NoSuchKey): bucket '${location.bucket}', key '${location.key}'`, { cause: error });
  }
  if (name === 'NoSuchBucket') {
    return new BadInputError(`input bucket '${location.bucket}' does not exist (NoSuchBucket) reading key '${location.key}'`, { cause: error });
  }
  if (name === 'AccessDenied') {
    // A missing grant or one not yet propagated: the message must come back (and reach the
    // dead-letter queue, where it can be redriven), so this is not bad input.
    return new Error(
      `access denied reading ${s3Uri(location)} (bucket '${location.bucket}', key '${location.key}'): ${describeError(error)}; `
      + 'check the role\'s s3:GetObject (and s3:GetObjectVersion) grant on the input prefix',
      { cause: error },
    );
  }
  if (name === 'PreconditionFailed') {
    return new Error(`input object ${s3Uri(location)} changed while it was being downloaded`, { cause: error });
  }
  return new Error(`reading ${s3Uri(location)} failed: ${name}: ${describeError(error)}`, { cause: error });
}

/** Errors of a read of the version an event named: a version that is gone is superseded. */
function versionReadError(error: unknown, location: S3Location, version: ObjectVersion): Error {
  const name = errorName(error);
  const named = version.versionId !== undefined ? `version '${version.versionId}'` : `ETag ${quoted(version.eTag ?? '')}`;
  const superseded = (why: string): Error => new SupersededInputError(`${s3Uri(location)} ${named} is no longer there: ${why}`, { cause: error });
  if (name === 'NoSuchVersion') return superseded('the version was deleted (NoSuchVersion)');
  // GET of a version that is a delete marker.
  if (name === 'MethodNotAllowed') return superseded('the version is a delete marker');
  if (name === 'PreconditionFailed') return superseded('a newer upload replaced the object (PreconditionFailed on its ETag)');
  if (name === 'NoSuchKey' || (name === 'NotFound' && httpStatusOf(error) === 404)) return superseded('the object was deleted (NoSuchKey)');
  return inputError(error, location);
}

/**
 * Whether the key's current version is a delete marker (or the key is gone): an event's version
 * that was deleted since is superseded, even though it can still be read by its version id.
 */
export async function isKeyDeleted(client: S3Client, location: S3Location, signal?: AbortSignal): Promise<boolean> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal: signal });
    return false;
  } catch (error) {
    if (signal?.aborted) throw new RunAbortedError();
    if (httpStatusOf(error) === 404) return true;
    throw inputError(error, location);
  }
}

/** The keys under `prefix` of a bucket (all pages). */
export async function listKeys(client: S3Client, bucket: string, prefix: string, signal?: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    try {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } catch (error) {
      if (signal?.aborted) throw new RunAbortedError();
      throw outputError(error, { bucket, key: prefix });
    }
  } while (token !== undefined);
  return keys;
}

function outputError(error: unknown, location: S3Location): Error {
  if (error instanceof RunAbortedError) return error;
  const name = errorName(error);
  if (name === 'AccessDenied') {
    return new Error(`access denied writing ${s3Uri(location)} (bucket '${location.bucket}', key '${location.key}'): ${describeError(error)}`, { cause: error });
  }
  if (name === 'NoSuchBucket') {
    return new Error(`output bucket '${location.bucket}' does not exist (NoSuchBucket) writing key '${location.key}'`, { cause: error });
  }
  return new Error(`writing ${s3Uri(location)} failed: ${name}: ${describeError(error)}`, { cause: error });
}

function backoffMs(attempt: number): number {
  return RETRY_BASE_DELAY_MS * 2 ** Math.min(attempt - 1, 5);
}
