/**
 * One run of the job: resolve the input and output locations, open the input (a local file, or
 * one S3 object version read as parallel ranged GETs), check the scratch space, stage the outputs,
 * hand the input to the transform (processor/src/runtime/transform.ts; by default the walkthrough,
 * processor/src/transforms/walkthrough), then publish the files it wrote and write the manifest
 * last, so that a manifest means a complete run.
 *
 * processing_timestamp: a rerun with the same run id must give the same bytes, so the timestamp is
 * not the wall clock. It is the time the run id names (default run ids are the UTC start time
 * YYYYMMDD-HHMMSS); for a run id of another form it is the input's last-modified time.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { InputLocation, isoSeconds, parseInputLocation, parseOutputLocation, runIdFor, s3Uri, timeOfRunId, validateRunId } from './config';
import { RunAbortedError } from './errors';
import { s3Module } from './io/lazy';
import { openLocalFile, statInputFile } from './io/local';
import type { ObjectVersion } from './io/s3';
import { Logger, silentLogger } from './log';
import type { InputCounts } from './metrics';
import { LocalOutputTarget, OutputTarget, S3OutputTarget, manifestFileName } from './outputs';
import { checkScratchSpace } from './scratch-space';
import type { NaValuesMode, OutputFile, Transform, TransformDescription, TransformInput } from './transform';
import { WalkthroughTransform } from '../transforms/walkthrough';
import type { OutputFormat } from '../transforms/walkthrough/parquet/layout';
export interface PipelineOptions {
  /** A local CSV path or `s3://bucket/key`. */
  readonly input: string;
  /** A local directory or `s3://bucket/prefix/`. */
  readonly output: string;
  /** Names the outputs; default the UTC start time as YYYYMMDD-HHMMSS. */
  readonly runId?: string;
  /** Where the S3 input is spooled and S3 outputs are staged; default os.tmpdir(). */
  readonly scratchDir?: string;
  readonly log?: Logger;
  /** Aborting stops the run: open multipart uploads are aborted and no manifest is written. */
  readonly signal?: AbortSignal;
  /** S3 client to use; default one built from `env` by createS3Client. */
  readonly s3Client?: S3Client;
  /** Environment for the default S3 client (endpoint, region, retries); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The run's start time (default now); it only matters for the default run id. */
  readonly startTime?: Date;
  /**
   * Which cells are missing values: `default` an empty cell and pandas' default tokens (`NA`,
   * `null`, `NaN`, `None`, `N/A`, …), `empty` only an empty cell (SPEC §5).
   * @default 'default'
   */
  readonly naValues?: NaValuesMode;
  /**
   * Threads that parse and write rows; 1 runs everything on the main thread. Default: the CPUs
   * the container may use (its cgroup CPU limit), else os.availableParallelism().
   */
  readonly threads?: number;
  /** Which formats the tables are written in (TransformOptions.outputFormat). @default 'csv' */
  readonly outputFormat?: OutputFormat;
  /**
   * Where the `tables/` folder of Parquet tables goes (a local directory or `s3://bucket/prefix/`);
   * default `output`. Queue mode gives each object an output folder but keeps one folder per table
   * for all runs, at its output's root.
   */
  readonly tablesOutput?: string;
  /** What is made of the input; default the walkthrough (WalkthroughTransform). */
  readonly transform?: Transform;
  /**
   * The version of an S3 input to read (queue mode: the one its event names); a version that is
   * gone fails as SupersededInputError.
   */
  readonly inputVersion?: ObjectVersion;
  /**
   * Write the manifest only if none exists under its name (queue mode: two Jobs racing on one
   * object cannot both finish it). The run then resolves with `finishedElsewhere`.
   */
  readonly exclusiveManifest?: boolean;
  /**
   * Size limit of the scratch volume in bytes (SCRATCH_VOLUME_SIZE: a Kubernetes emptyDir's
   * sizeLimit, which statfs does not show); the free space checked is the smaller of it and what
   * statfs reports.
   */
  readonly scratchVolumeBytes?: number;
}

export interface ManifestOutput {
  readonly name: string;
  /** `parquet` for a Parquet table's file; absent for the other files (CSV, JSON). */
  readonly format?: 'parquet';
  readonly key: string;
  readonly bytes: number;
  readonly rows?: number;
  readonly sha256?: string;
}

/** Where the input's bytes came from (SPEC §11 "Lineage"). */
export type InputSource =
  | { readonly bucket: string; readonly key: string; readonly version_id: string | null; readonly etag: string | null; readonly size: number }
  | { readonly path: string; readonly size: number; readonly last_modified: string };

export interface Manifest {
  readonly run_id: string;
  readonly input: string;
  readonly source: InputSource;
  readonly processing_timestamp: string;
  readonly input_rows: number;
  readonly total_rows: number;
  readonly rejected_rows: number;
  readonly outputs: readonly ManifestOutput[];
  /** What made the outputs (a command transform: its command); absent for the built-in transform. */
  readonly transform?: TransformDescription;
}

export interface PipelineResult {
  readonly runId: string;
  readonly manifest: Manifest;
  /** Where the manifest was written (path or s3:// URI). */
  readonly manifestLocation: string;
  /** Where each output was written, by manifest name. */
  readonly locations: Readonly<Record<string, string>>;
  /** With exclusiveManifest: another run had written the manifest first (its outputs are the same bytes). */
  readonly finishedElsewhere: boolean;
  /** What the run counted, for its metrics (processor/src/runtime/metrics.ts). */
  readonly counts: InputCounts;
}

/** Runs the job once. Rejects with BadInputError (exit 2), RunAbortedError, or another error (exit 1). */
export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const transform = options.transform ?? new WalkthroughTransform();
  try {
    return await runOnce(options, transform);
  } finally {
    // What the transform started ahead of the run is stopped whatever happened, a failure before
    // it was needed included.
    await transform.close?.().catch(() => undefined);
  }
}

async function runOnce(options: PipelineOptions, transform: Transform): Promise<PipelineResult> {
  const signal = options.signal;
  const startedAt = Date.now();
  const runId = validateRunId(options.runId ?? runIdFor(options.startTime ?? new Date()));
  const log = (options.log ?? silentLogger).withContext({ runId });
  const input = parseInputLocation(options.input);
  const output = parseOutputLocation(options.output);
  let client = options.s3Client;
  const s3 = (): S3Client => (client ??= s3Module().createS3Client(options.env ?? process.env));

  const scratchRoot = options.scratchDir ?? tmpdir();
  await mkdir(scratchRoot, { recursive: true });
  const scratch = await mkdtemp(join(scratchRoot, `preprocess-${runId}-`));
  const target: OutputTarget = output.kind === 'local'
    ? new LocalOutputTarget(output.dir, log)
    : new S3OutputTarget(s3(), output, join(scratch, 'outputs'), log, signal);
  const tablesLocation = options.tablesOutput === undefined ? undefined : parseOutputLocation(options.tablesOutput);
  const tablesTarget: OutputTarget = tablesLocation === undefined || options.tablesOutput === options.output
    ? target
    : tablesLocation.kind === 'local'
      ? new LocalOutputTarget(tablesLocation.dir, log)
      : new S3OutputTarget(s3(), tablesLocation, join(scratch, 'tables'), log, signal);
  const targetOf = (file: OutputFile): OutputTarget => (file.format === 'parquet' ? tablesTarget : target);

  let source: OpenedInput | undefined;
  try {
    log.info(`Starting preprocessing run ${runId}`, { input: options.input, output: options.output });
    source = await openInput(input, options.inputVersion, s3, log, signal);
    const scratchBudget = await checkScratchSpace(scratchRoot, source.input.size, options.scratchVolumeBytes);
    await target.prepare();
    if (tablesTarget !== target) await tablesTarget.prepare();
    const timestamp = timeOfRunId(runId) ?? isoSeconds(source.input.lastModified);
    const { counts, files, description } = await transform.run({
      input: source.input,
      output: target,
      runId,
      processingTimestamp: timestamp,
      scratchDir: scratch,
      signal,
      log,
      options: { naValues: options.naValues ?? 'default', threads: options.threads, outputFormat: options.outputFormat },
      tablesOutput: tablesTarget,
      scratchBudget,
    });
    signal?.throwIfAborted();
    // Parquet tables last but the manifest: a table folder never shows a run whose other outputs are missing.
    await target.publish(files.filter((f) => f.format !== 'parquet'));
    await tablesTarget.publish(files.filter((f) => f.format === 'parquet'));

    const manifest: Manifest = {
      run_id: runId,
      input: options.input,
      source: source.source,
      processing_timestamp: timestamp,
      input_rows: counts.inputRows,
      total_rows: counts.totalRows,
      rejected_rows: counts.rejectedRows,
      outputs: files.map((f) => ({
        name: f.name,
        ...(f.format === undefined ? {} : { format: f.format }),
        key: targetOf(f).keyOf(f.fileName),
        bytes: f.bytes,
        ...(f.rows === undefined ? {} : { rows: f.rows }),
        ...(f.sha256 === undefined ? {} : { sha256: f.sha256 }),
      })),
      ...(description === undefined ? {} : { transform: description }),
    };
    signal?.throwIfAborted();
    const exclusive = options.exclusiveManifest ?? false;
    const manifestName = manifestFileName(runId);
    const written = await target.publishManifest(manifestName, Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8'), exclusive);
    if (written) log.info(`Saved: ${manifestName}`);
    else log.info(`Another run finished ${options.input} first: its manifest ${manifestName} stands (the outputs are the same bytes)`);

    const seconds = (Date.now() - startedAt) / 1000;
    log.info('Preprocessing completed successfully!', {
      runId,
      rows: counts.totalRows,
      rejected: counts.rejectedRows,
      duplicates: counts.duplicateRows,
      seconds: seconds.toFixed(1),
      rowsPerSecond: Math.round(counts.inputRows / Math.max(seconds, 0.001)),
      // The process's peak resident memory so far (resourceUsage's maxRSS is in KiB), for sizing its memory request.
      peakRssMB: Math.round(process.resourceUsage().maxRSS * 1024 / 1e6),
    });
    return {
      runId,
      manifest,
      manifestLocation: target.locationOf(manifestName),
      locations: Object.fromEntries(files.map((f) => [f.format === undefined ? f.name : `${f.name}.${f.format}`, targetOf(f).locationOf(f.fileName)])),
      finishedElsewhere: !written,
      counts: { inputRows: counts.inputRows, rejectedRows: counts.rejectedRows, duplicateRows: counts.duplicateRows, inputBytes: source.input.size },
    };
  } catch (error) {
    await target.discard().catch(() => undefined);
    if (tablesTarget !== target) await tablesTarget.discard().catch(() => undefined);
    // Whatever failed while the run was being stopped, the outcome is that it was stopped.
    if (signal?.aborted) throw new RunAbortedError();
    throw error;
  } finally {
    await source?.input.bytes.close().catch(() => undefined);
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The input as the transform reads it, and as the manifest's `source` names it. */
interface OpenedInput {
  readonly input: TransformInput;
  readonly source: InputSource;
}

async function openInput(
  input: InputLocation,
  version: ObjectVersion | undefined,
  s3: () => S3Client,
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<OpenedInput> {
  if (input.kind === 'local') {
    const info = await statInputFile(input.path);
    log.info(`Reading ${input.path}`, { bytes: info.size });
    const source = { path: input.path, size: info.size, last_modified: isoSeconds(info.mtime) };
    const bytes = await openLocalFile(input.path);
    return { input: { location: input.path, localPath: input.path, bytes, size: info.size, lastModified: info.mtime }, source };
  }
  log.info(`Downloading ${s3Uri(input)}`, { versionId: version?.versionId, eTag: version?.versionId === undefined ? version?.eTag : undefined });
  const object = await s3Module().openS3Object(s3(), input, { log, signal, version });
  const source = { bucket: input.bucket, key: input.key, version_id: object.versionId ?? null, etag: object.eTag ?? null, size: object.size };
  return {
    input: {
      location: s3Uri(input),
      bytes: object,
      size: object.size,
      lastModified: object.lastModified ?? new Date(0),
      versionId: object.versionId,
      eTag: object.eTag,
    },
    source,
  };
}
