/**
 * Where outputs go. Files are first written to a staging place and become visible only when all of
 * them succeeded, then the manifest is written last:
 * - a local directory: hidden `.<name>.<pid>-<random>.partial` files (in the folder of the file's
 *   name, which may have folders: tables/<name>/run_date=<date>/<runId>.parquet) renamed into place
 *   (a rerun never leaves a half-written file behind an existing manifest, nor under a final name;
 *   two runs with the same run id, whose default has one-second resolution, never write into one
 *   staging file);
 * - S3: files in the scratch directory, uploaded one by one, then the manifest object. S3 has no
 *   rename: each file is visible as soon as its upload ends, so while a run publishes (or after it
 *   failed) a folder can hold some of its files and no manifest. Readers go through the manifest:
 *   a file set is complete when, and only when, its manifest exists.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { OutputLocation, S3Location, s3Uri } from './config';
import { s3Module } from './io/lazy';
import type { Logger } from './log';
import type { TransformOutput } from './transform';

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
/**
 * Bytes an output stream queues before the writer waits: a few ranges' outputs, so the main thread
 * does not wait for the disk after every range.
 */
export const STREAM_HIGH_WATER_MARK = 2 * 1024 * 1024;
export const JSON_CONTENT_TYPE = 'application/json';
export const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet';

/** The manifest of a run, written last: `manifest_<runId>.json`. */
export function manifestFileName(runId: string): string {
  return `manifest_${runId}.json`;
}

export interface StagedFile {
  /** A bare name, or with `sourcePath` a relative path (`<runId>/a/b.csv`). */
  readonly fileName: string;
  readonly bytes: number;
  readonly contentType: string;
  /** Published from this file instead of the staged one (the command transform's output directory). */
  readonly sourcePath?: string;
}

/** Files below this size are uploaded several at once (a program may write thousands of small files). */
const SMALL_FILE_BYTES = 1024 * 1024;
/** Small files uploaded at once: at most this many small bodies in memory, next to one big file's parts. */
const SMALL_FILE_UPLOADS = 8;

/** Where a run's files are staged and then published; a transform sees only its TransformOutput part. */
export interface OutputTarget extends TransformOutput {
  /** Where a file ends up, for logs (path or s3:// URI). */
  locationOf(fileName: string): string;
  /** The manifest's name for a file: its S3 key, or its name inside the output directory. */
  keyOf(fileName: string): string;
  prepare(): Promise<void>;
  /** Makes all staged files visible (rename or upload); the manifest is not among them. */
  publish(files: readonly StagedFile[]): Promise<void>;
  /**
   * Writes the manifest. With `exclusive` only if none exists under its name (S3 If-None-Match:
   * *, a hard link locally), so that of two runs racing on one object one finishes it; resolves
   * false when one existed.
   */
  publishManifest(fileName: string, bytes: Buffer, exclusive: boolean): Promise<boolean>;
  /** Removes staged files after a failure. */
  discard(): Promise<void>;
}

export class LocalOutputTarget implements OutputTarget {
  private readonly staged = new Set<string>();
  /** Makes this target's staging names its own: the process id and random bytes. */
  private readonly stagingTag = `${process.pid}-${randomBytes(4).toString('hex')}`;

  constructor(private readonly dir: string, private readonly log: Logger) {}

  locationOf(fileName: string): string {
    return join(this.dir, fileName);
  }

  keyOf(fileName: string): string {
    return fileName;
  }

  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  createStream(fileName: string): Writable {
    return createWriteStream(this.stagingPath(fileName), { highWaterMark: STREAM_HIGH_WATER_MARK });
  }

  async writeSmall(fileName: string, bytes: Buffer): Promise<void> {
    await writeFile(this.stagingPath(fileName), bytes);
  }

  async publish(files: readonly StagedFile[]): Promise<void> {
    for (const file of files) {
      if (file.sourcePath !== undefined) {
        // Copied in beside its place first, so that a file is never seen half-written.
        await mkdir(dirname(this.locationOf(file.fileName)), { recursive: true });
        await copyFile(file.sourcePath, this.stagingPath(file.fileName));
      }
      await rename(this.stagingPath(file.fileName), this.locationOf(file.fileName));
      this.staged.delete(file.fileName);
      this.log.debug(`Published ${this.locationOf(file.fileName)}`);
    }
  }

  async publishManifest(fileName: string, bytes: Buffer, exclusive: boolean): Promise<boolean> {
    await this.writeSmall(fileName, bytes);
    if (!exclusive) {
      await this.publish([{ fileName, bytes: bytes.length, contentType: JSON_CONTENT_TYPE }]);
      return true;
    }
    try {
      // link, unlike rename, fails when the name exists.
      await link(this.stagingPath(fileName), this.locationOf(fileName));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return false;
    } finally {
      await this.discard();
    }
  }

  async discard(): Promise<void> {
    await Promise.all([...this.staged].map((f) => rm(this.stagingPathOf(f), { force: true })));
    this.staged.clear();
  }

  private stagingPath(fileName: string): string {
    this.staged.add(fileName);
    const path = this.stagingPathOf(fileName);
    if (fileName.includes('/')) mkdirSync(dirname(path), { recursive: true });
    return path;
  }

  /** `.<name>.<pid>-<random>.partial` beside the file's place (in its sub-folder, if it has one). */
  private stagingPathOf(fileName: string): string {
    return join(this.dir, dirname(fileName), `.${basename(fileName)}.${this.stagingTag}.partial`);
  }
}

export class S3OutputTarget implements OutputTarget {
  constructor(
    private readonly client: S3Client,
    private readonly location: Extract<OutputLocation, { kind: 's3' }>,
    private readonly stagingDir: string,
    private readonly log: Logger,
    private readonly signal?: AbortSignal,
  ) {}

  locationOf(fileName: string): string {
    return s3Uri(this.objectOf(fileName));
  }

  keyOf(fileName: string): string {
    return this.location.prefix + fileName;
  }

  async prepare(): Promise<void> {
    await mkdir(this.stagingDir, { recursive: true });
  }

  createStream(fileName: string): Writable {
    if (fileName.includes('/')) mkdirSync(dirname(join(this.stagingDir, fileName)), { recursive: true });
    return createWriteStream(join(this.stagingDir, fileName), { highWaterMark: STREAM_HIGH_WATER_MARK });
  }

  async writeSmall(fileName: string, bytes: Buffer): Promise<void> {
    await writeFile(join(this.stagingDir, fileName), bytes);
  }

  async publish(files: readonly StagedFile[]): Promise<void> {
    // Big files one at a time (each upload holds its parts in memory); small ones a few at once.
    const small = files.filter((f) => f.bytes < SMALL_FILE_BYTES);
    for (const file of files) {
      if (file.bytes >= SMALL_FILE_BYTES) await this.upload(file, true);
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < small.length) await this.upload(small[next++], small.length < 20);
    };
    await Promise.all(Array.from({ length: Math.min(SMALL_FILE_UPLOADS, small.length) }, worker));
    if (small.length >= 20) this.log.info(`Uploaded ${small.length} small files to ${this.locationOf('')}`);
  }

  private async upload(file: StagedFile, logIt: boolean): Promise<void> {
    if (logIt) this.log.info(`Uploading to ${this.locationOf(file.fileName)}`);
    await s3Module().uploadFile(this.client, this.objectOf(file.fileName), file.sourcePath ?? join(this.stagingDir, file.fileName), {
      size: file.bytes,
      contentType: file.contentType,
      log: this.log,
      signal: this.signal,
    });
  }

  async publishManifest(fileName: string, bytes: Buffer, exclusive: boolean): Promise<boolean> {
    const { putSmallObject, putSmallObjectIfAbsent } = s3Module();
    this.log.info(`Uploading to ${this.locationOf(fileName)}`);
    if (exclusive) return putSmallObjectIfAbsent(this.client, this.objectOf(fileName), bytes, JSON_CONTENT_TYPE, this.signal);
    await putSmallObject(this.client, this.objectOf(fileName), bytes, JSON_CONTENT_TYPE, this.signal);
    return true;
  }

  async discard(): Promise<void> {
    // Staged files live in the scratch directory, which the run removes.
  }

  private objectOf(fileName: string): S3Location {
    return { bucket: this.location.bucket, key: this.keyOf(fileName) };
  }
}
