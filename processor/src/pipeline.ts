/**
 * The preprocessing job: read → clean → transform → write, as the walkthrough's pandas script,
 * streaming with bounded memory.
 *
 * Passes: pass 1 validates the input and collects the valid ages and salaries (for the medians);
 * pass 2 writes every output row. An S3 input is spooled to the scratch directory while pass 1
 * reads it, and pass 2 reads the spool; a local input is read twice in place.
 *
 * Memory: per input row only the median columns (8 bytes per valid age and per valid salary,
 * up to twice that while an array grows, freed after pass 1) and the duplicate table in pass 2
 * (8 bytes per slot, 2-4 slots per valid row). Everything else is fixed-size buffers (a 4 MiB
 * read window, 1 MiB per output, upload parts 4 x 8 MiB).
 *
 * processing_timestamp: a rerun with the same run id must give the same bytes, so the timestamp is
 * not the wall clock. It is the time the run id names (default run ids are the UTC start time
 * YYYYMMDD-HHMMSS); for a run id of another form it is the input's last-modified time.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { stringify } from 'csv-stringify/sync';
import { InputLocation, isoSeconds, parseInputLocation, parseOutputLocation, runIdFor, timeOfRunId, validateRunId } from './config';
import { CsvSink } from './csv/writer';
import { RunAbortedError } from './errors';
import { formatFloat } from './format';
import { fileChunks, spoolChunks, statInputFile } from './io/local';
import { DownloadInfo, createS3Client, downloadObject, s3Uri } from './io/s3';
import { Logger, silentLogger } from './log';
import {
  CSV_CONTENT_TYPE, JSON_CONTENT_TYPE, LocalOutputTarget, OutputTarget, S3OutputTarget, StagedFile, outputFileNames,
} from './outputs';
import { ChunkSource, InputSummary, OutputSummary, summarizeInput, writeRows } from './passes';
import { DEPARTMENT_STATISTICS_COLUMNS } from './schema';

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
}

export interface QualityMetrics {
  readonly total_rows: number;
  readonly total_columns: number;
  readonly missing_values_count: number;
  readonly duplicate_rows: number;
  readonly processing_timestamp: string;
  readonly input_rows: number;
  readonly rejected_rows: number;
}

export interface ManifestOutput {
  readonly name: string;
  readonly key: string;
  readonly bytes: number;
  readonly rows?: number;
}

export interface Manifest {
  readonly run_id: string;
  readonly input: string;
  readonly processing_timestamp: string;
  readonly input_rows: number;
  readonly total_rows: number;
  readonly rejected_rows: number;
  readonly outputs: readonly ManifestOutput[];
}

export interface PipelineResult {
  readonly runId: string;
  readonly metrics: QualityMetrics;
  readonly manifest: Manifest;
  /** Where the manifest was written (path or s3:// URI). */
  readonly manifestLocation: string;
  /** Where each output was written, by manifest name. */
  readonly locations: Readonly<Record<string, string>>;
}

/** Runs the job once. Rejects with BadInputError (exit 2), RunAbortedError, or another error (exit 1). */
export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const log = options.log ?? silentLogger;
  const signal = options.signal;
  const startedAt = Date.now();
  const runId = validateRunId(options.runId ?? runIdFor(options.startTime ?? new Date()));
  const input = parseInputLocation(options.input);
  const output = parseOutputLocation(options.output);
  let client = options.s3Client;
  const s3 = (): S3Client => (client ??= createS3Client(options.env ?? process.env));

  const scratchRoot = options.scratchDir ?? tmpdir();
  await mkdir(scratchRoot, { recursive: true });
  const scratch = await mkdtemp(join(scratchRoot, `preprocess-${runId}-`));
  const target: OutputTarget = output.kind === 'local'
    ? new LocalOutputTarget(output.dir, log)
    : new S3OutputTarget(s3(), output, join(scratch, 'outputs'), log, signal);

  try {
    log.info(`Starting preprocessing run ${runId}`, { input: options.input, output: options.output });
    const source = await openInput(input, scratch, s3, log, signal);
    const summary = await summarizeInput(source.pass1, { log, signal });
    log.info(`Dataset loaded: (${summary.inputRows}, ${summary.layout.inputNames.length})`);
    if (summary.rejectedRows > 0) {
      log.warn(`${summary.rejectedRows} of ${summary.inputRows} rows cannot be processed; see rejected_rows_${runId}.csv`);
    }
    log.info('Filling missing values...', { ageMedian: formatFloat(summary.ageMedian), salaryMedian: formatFloat(summary.salaryMedian) });
    log.info('Extracting profile fields...');

    await target.prepare();
    const names = outputFileNames(runId);
    const rows = await writeRowOutputs(target, names, source.pass2, summary, log, signal);
    const timestamp = timeOfRunId(runId) ?? isoSeconds(await source.lastModified());
    const metrics: QualityMetrics = {
      total_rows: rows.totalRows,
      total_columns: summary.layout.transformedNames.length,
      missing_values_count: rows.missingValues,
      duplicate_rows: rows.duplicateRows,
      processing_timestamp: timestamp,
      input_rows: rows.inputRows,
      rejected_rows: rows.rejectedRows,
    };
    const departmentCsv = Buffer.from(stringify([
      [...DEPARTMENT_STATISTICS_COLUMNS],
      ...rows.departments.rows().map((r) => [r.department, formatFloat(r.averageSalary), formatFloat(r.averageAge)]),
    ]), 'utf8');
    const metricsJson = Buffer.from(JSON.stringify(metrics, null, 2) + '\n', 'utf8');
    await target.writeSmall(names.departmentStatistics, departmentCsv);
    log.info(`Saved: ${names.departmentStatistics}`);
    await target.writeSmall(names.qualityMetrics, metricsJson);
    log.info(`Saved: ${names.qualityMetrics}`);
    await source.checkUnchanged();
    signal?.throwIfAborted();

    const staged: Array<StagedFile & { name: string; rows?: number }> = [
      { name: 'cleaned_data', fileName: names.cleaned, bytes: rows.cleanedBytes, rows: rows.totalRows, contentType: CSV_CONTENT_TYPE },
      { name: 'transformed_data', fileName: names.transformed, bytes: rows.transformedBytes, rows: rows.totalRows, contentType: CSV_CONTENT_TYPE },
      {
        name: 'department_statistics',
        fileName: names.departmentStatistics,
        bytes: departmentCsv.length,
        rows: rows.departments.size,
        contentType: CSV_CONTENT_TYPE,
      },
      { name: 'quality_metrics', fileName: names.qualityMetrics, bytes: metricsJson.length, contentType: JSON_CONTENT_TYPE },
      { name: 'rejected_rows', fileName: names.rejected, bytes: rows.rejectedBytes, rows: rows.rejectedRows, contentType: CSV_CONTENT_TYPE },
    ];
    await target.publish(staged);

    const manifest: Manifest = {
      run_id: runId,
      input: options.input,
      processing_timestamp: timestamp,
      input_rows: rows.inputRows,
      total_rows: rows.totalRows,
      rejected_rows: rows.rejectedRows,
      outputs: staged.map((f) => ({ name: f.name, key: target.keyOf(f.fileName), bytes: f.bytes, ...(f.rows === undefined ? {} : { rows: f.rows }) })),
    };
    signal?.throwIfAborted();
    await target.publishManifest(names.manifest, Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8'));
    log.info(`Saved: ${names.manifest}`);

    const seconds = (Date.now() - startedAt) / 1000;
    log.debug('Memory', {
      medianColumnBytes: summary.medianColumnBytes,
      duplicateTableBytes: rows.duplicateTableBytes,
      rssBytes: process.memoryUsage().rss,
    });
    log.info('Preprocessing completed successfully!', {
      runId,
      rows: rows.totalRows,
      rejected: rows.rejectedRows,
      duplicates: rows.duplicateRows,
      seconds: seconds.toFixed(1),
      rowsPerSecond: Math.round(rows.inputRows / Math.max(seconds, 0.001)),
    });
    return {
      runId,
      metrics,
      manifest,
      manifestLocation: target.locationOf(names.manifest),
      locations: Object.fromEntries(staged.map((f) => [f.name, target.locationOf(f.fileName)])),
    };
  } catch (error) {
    await target.discard().catch(() => undefined);
    // Whatever failed while the run was being stopped, the outcome is that it was stopped.
    if (signal?.aborted) throw new RunAbortedError();
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

interface OpenedInput {
  readonly pass1: ChunkSource;
  readonly pass2: ChunkSource;
  /** The input's last-modified time (known once pass 1 has read it). */
  lastModified(): Promise<Date>;
  /** Fails when a local input file changed between the passes. */
  checkUnchanged(): Promise<void>;
}

async function openInput(
  input: InputLocation,
  scratch: string,
  s3: () => S3Client,
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<OpenedInput> {
  if (input.kind === 'local') {
    const before = await statInputFile(input.path);
    log.info(`Reading ${input.path}`, { bytes: before.size });
    return {
      pass1: () => fileChunks(input.path),
      pass2: () => fileChunks(input.path),
      lastModified: async () => before.mtime,
      checkUnchanged: async () => {
        const after = await statInputFile(input.path);
        if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
          throw new Error(`input file ${input.path} changed while it was being processed`);
        }
      },
    };
  }
  log.info(`Downloading ${s3Uri(input)}`);
  const spool = join(scratch, 'input.csv');
  const info: DownloadInfo = {};
  return {
    pass1: () => spoolChunks(downloadObject(s3(), input, { log, signal, info }), spool),
    pass2: () => fileChunks(spool),
    lastModified: async () => info.lastModified ?? new Date(0),
    checkUnchanged: async () => undefined,
  };
}

type RowOutputs = OutputSummary & { cleanedBytes: number; transformedBytes: number; rejectedBytes: number };

/** Pass 2 into the target's staging streams; "Saved:" once each file is complete. */
async function writeRowOutputs(
  target: OutputTarget,
  names: ReturnType<typeof outputFileNames>,
  source: ChunkSource,
  summary: InputSummary,
  log: Logger,
  signal: AbortSignal | undefined,
): Promise<RowOutputs> {
  const sinks = {
    cleaned: new CsvSink(target.createStream(names.cleaned)),
    transformed: new CsvSink(target.createStream(names.transformed)),
    rejected: new CsvSink(target.createStream(names.rejected)),
  };
  const all = [sinks.cleaned, sinks.transformed, sinks.rejected];
  try {
    const result = await writeRows(source, summary, sinks, { log, signal });
    await Promise.all(all.map((s) => s.close()));
    log.info(`Saved: ${names.cleaned}`, { rows: sinks.cleaned.rows });
    log.info(`Saved: ${names.transformed}`, { rows: sinks.transformed.rows });
    log.info(`Saved: ${names.rejected}`, { rows: sinks.rejected.rows });
    return {
      ...result,
      cleanedBytes: sinks.cleaned.bytes,
      transformedBytes: sinks.transformed.bytes,
      rejectedBytes: sinks.rejected.bytes,
    };
  } catch (error) {
    all.forEach((s) => s.destroy());
    throw error;
  }
}
