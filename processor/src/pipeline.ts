/**
 * The preprocessing job: read → clean → transform → write, as the walkthrough's pandas script,
 * on every core it is given, in flat memory.
 *
 * Passes (coordinator.ts, passes.ts): pass 1 reads the input once (a local file, or the S3 object
 * as parallel ranged GETs), cuts it into ranges of whole records and has worker threads validate
 * and spool them; the main thread takes the results in input order and writes the spool file and
 * rejected_rows. Pass 2 has the threads turn spool ranges into cleaned_data and transformed_data
 * bytes with the medians filled in; the main thread writes them in order and sums the department
 * means in row order, then stops the threads it started while it counts the duplicates. The
 * outputs are the same bytes with any number of threads.
 *
 * Memory does not grow with the input: the median inputs (8 bytes per valid age and salary) and
 * the row hashes (8 bytes per row) go to the scratch directory (spill.ts) and are read back a
 * bounded part at a time. What is held, whatever the row count: the shared slots
 * (parallel/executor.ts slotPlan: for 2 threads 20 of 1.6 MiB and 7 of 0.26 MiB, about 34 MiB;
 * only the slots in use are ever touched), 1 MiB write buffers per spill, per median column up to
 * 1 MiB of kept and 2 MiB of read-back values, a 1 MiB hash set to count one group of hashes, S3
 * read-ahead (4 x 4 MiB) and upload parts (4 x 8 MiB), one V8 heap per worker thread (about
 * 10 MiB each; young generations kept small, see NODE_FLAGS in config.ts), up to 16,384
 * departments per thread (stats.ts DEPARTMENT_IDS_LIMIT; with more distinct departments than that
 * the department table is spilled instead, department-spill.ts: a 4 MiB run and its sorted copy,
 * up to 16 MiB of read blocks while merging; department_statistics is streamed), plus one entry
 * per range of the spool (about 50 bytes per MiB).
 * Measured (npm run bench, Node 20, 2 threads): 113 MB peak RSS at 2,000,000 rows, 124 MB at
 * 10,000,000; the difference is the runtime warming up (code pages, allocator arenas) and the
 * median's bucket read back instead of kept, not per-row state. 1,000,000 rows whose departments
 * are all distinct: 145 MB (805–960 MB with the department table in memory).
 *
 * processing_timestamp: a rerun with the same run id must give the same bytes, so the timestamp is
 * not the wall clock. It is the time the run id names (default run ids are the UTC start time
 * YYYYMMDD-HHMMSS); for a run id of another form it is the input's last-modified time.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { InputLocation, isoSeconds, parseInputLocation, parseOutputLocation, runIdFor, s3Uri, timeOfRunId, validateRunId } from './config';
import { DepartmentLimits, DepartmentMeans, InputSummary, OutputSummary, PassContext, prepareRows, writeDepartmentStatistics, writeRows } from './coordinator';
import { CsvSink } from './csv/writer';
import { RunAbortedError } from './errors';
import { formatFloat } from './format';
import { s3Module } from './io/lazy';
import { openLocalFile, statInputFile } from './io/local';
import type { ObjectVersion } from './io/s3';
import type { ByteSource } from './io/source';
import { Logger, silentLogger } from './log';
import type { InputCounts } from './metrics';
import { NaValuesMode } from './missing';
import {
  CSV_CONTENT_TYPE, JSON_CONTENT_TYPE, LocalOutputTarget, OutputTarget, PARQUET_CONTENT_TYPE, S3OutputTarget, STREAM_HIGH_WATER_MARK, StagedFile,
  outputFileNames,
} from './outputs';
import { DEFAULT_RANGE_BYTES, RangeExecutor, WorkerPool } from './parallel/executor';
import { InlineExecutor } from './parallel/inline';
import { defaultThreadCount } from './parallel/threads';
import { checkScratchSpace } from './scratch-space';
import { OutputFormat, ParquetTable, runDateOf, tableFileName, writesCsv, writesParquet } from './transforms/walkthrough/parquet/layout';
import { DepartmentTableWriter, ROW_GROUP_BYTES, RowTablesWriter } from './transforms/walkthrough/parquet/tables';

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
   * Which formats cleaned_data, transformed_data and department_statistics are written in: `csv`
   * (the walkthrough's files), `parquet` (Parquet tables under `tables/<name>/run_date=<date>/`
   * instead), or `both` (SPEC §15).
   * @default 'csv'
   */
  readonly outputFormat?: OutputFormat;
  /**
   * Where the `tables/` folder of the Parquet tables goes (a local directory or `s3://bucket/prefix/`);
   * default `output`. Queue mode gives each object an output folder but keeps one table folder for
   * all runs, at its output's root.
   */
  readonly tablesOutput?: string;
  /** Compressed bytes of a Parquet row group (default 32 MiB, see parquet/tables.ts); tests make it small. */
  readonly parquetRowGroupBytes?: number;
  /**
   * Threads that parse and write rows; 1 runs everything on the main thread. Default: the CPUs
   * the container may use (its cgroup CPU limit), else os.availableParallelism().
   */
  readonly threads?: number;
  /** Threads to run on instead of starting them for this run (tests share them across runs); not closed by the run. */
  readonly executor?: RangeExecutor;
  /**
   * Worker threads started ahead of the run: the CLI starts them before it loads the rest of the
   * program, so they boot meanwhile. The run uses them when it would start the same ones (the
   * same number of threads, more than two ranges of input) and stops them either way.
   */
  readonly startedPool?: WorkerPool;
  /** Input bytes per range (default 1 MiB); tests make it small to put range cuts everywhere. */
  readonly rangeBytes?: number;
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
  /** Limits of the department table (default: spilled past 16,384 departments a thread); tests make them small. */
  readonly departmentLimits?: DepartmentLimits;
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
  /** `parquet` for a Parquet table's file; absent for the walkthrough's files (CSV, JSON). */
  readonly format?: 'parquet';
  readonly key: string;
  readonly bytes: number;
  readonly rows?: number;
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
}

export interface PipelineResult {
  readonly runId: string;
  readonly metrics: QualityMetrics;
  readonly manifest: Manifest;
  /** Where the manifest was written (path or s3:// URI). */
  readonly manifestLocation: string;
  /** Where each output was written, by manifest name. */
  readonly locations: Readonly<Record<string, string>>;
  /** With exclusiveManifest: another run had written the manifest first (its outputs are the same bytes). */
  readonly finishedElsewhere: boolean;
  /** What the run counted, for its metrics (processor/src/metrics.ts). */
  readonly counts: InputCounts;
}

/** Runs the job once. Rejects with BadInputError (exit 2), RunAbortedError, or another error (exit 1). */
export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  try {
    return await runOnce(options);
  } finally {
    // Threads started ahead of the run are stopped whatever happened, a failure before they were
    // needed included (the run stops the ones it uses itself; stopping twice does no harm).
    await options.startedPool?.close().catch(() => undefined);
  }
}

async function runOnce(options: PipelineOptions): Promise<PipelineResult> {
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
  const format = options.outputFormat ?? 'csv';
  const tablesOutput = options.tablesOutput === undefined ? output : parseOutputLocation(options.tablesOutput);
  const tablesTarget: OutputTarget = options.tablesOutput === undefined || options.tablesOutput === options.output
    ? target
    : tablesOutput.kind === 'local'
      ? new LocalOutputTarget(tablesOutput.dir, log)
      : new S3OutputTarget(s3(), tablesOutput, join(scratch, 'tables'), log, signal);

  let source: OpenedInput | undefined;
  let executor = options.executor;
  let closing: Promise<void> | undefined;
  const run = nextRun++;
  try {
    log.info(`Starting preprocessing run ${runId}`, { input: options.input, output: options.output });
    source = await openInput(input, options.inputVersion, s3, log, signal);
    await checkScratchSpace(scratchRoot, source.size, options.scratchVolumeBytes);
    const rangeBytes = options.rangeBytes ?? DEFAULT_RANGE_BYTES;
    executor ??= startExecutor(options.threads ?? defaultThreadCount(), source.size, rangeBytes, options.startedPool);
    executor.beginRun(run);
    log.info('Threads', { threads: executor.threads });
    const owned = options.executor === undefined ? executor : undefined;
    const spoolPath = join(scratch, 'rows.spool');
    let spoolRemoved: Promise<void> | undefined;
    // The threads stop, and the spool (hundreds of MB of page cache to free) is deleted, while
    // the main thread counts duplicates and writes the small outputs.
    const tasksDone = (): void => {
      closing ??= owned?.close();
      closing?.catch(() => undefined); // awaited in finally
      spoolRemoved ??= rm(spoolPath, { force: true });
      spoolRemoved.catch(() => undefined); // awaited after pass 2
    };
    const context: PassContext = {
      executor, run, scratch, rangeBytes, naValues: options.naValues ?? 'default', log, signal, tasksDone, departmentLimits: options.departmentLimits,
    };
    await target.prepare();
    if (tablesTarget !== target) await tablesTarget.prepare();
    const names = outputFileNames(runId);
    const timestamp = timeOfRunId(runId) ?? isoSeconds(source.lastModified);
    const tables = writesParquet(format) ? tableNames(runDateOf(timestamp), runId) : undefined;
    const csv = writesCsv(format);
    const { summary, rejectedBytes } = await runPass1(source.bytes, spoolPath, target, names.rejected, context);
    log.info(`Dataset loaded: (${summary.inputRows}, ${summary.layout.inputNames.length})`);
    if (summary.rejectedRows > 0) {
      log.warn(`${summary.rejectedRows} of ${summary.inputRows} rows cannot be processed; see ${names.rejected}`);
    }
    log.info('Filling missing values...', { ageMedian: formatFloat(summary.ageMedian), salaryMedian: formatFloat(summary.salaryMedian) });
    log.info('Extracting profile fields...');
    const rows = await runPass2(spoolPath, summary, target, csv ? names : undefined, tablesTarget, tables, context, options.parquetRowGroupBytes);
    await (spoolRemoved ?? rm(spoolPath, { force: true }));
    const metrics: QualityMetrics = {
      total_rows: rows.totalRows,
      total_columns: summary.layout.transformedNames.length,
      missing_values_count: rows.missingValues,
      duplicate_rows: rows.duplicateRows,
      processing_timestamp: timestamp,
      input_rows: summary.inputRows,
      rejected_rows: summary.rejectedRows,
    };
    const metricsJson = Buffer.from(JSON.stringify(metrics, null, 2) + '\n', 'utf8');
    const departmentStatistics = await writeDepartments(rows.departments, target, csv ? names.departmentStatistics : undefined,
      tablesTarget, tables?.department_statistics, options.parquetRowGroupBytes);
    for (const name of [csv ? names.departmentStatistics : undefined, tables?.department_statistics]) {
      if (name !== undefined) log.info(`Saved: ${name}`, { rows: departmentStatistics.rows });
    }
    await target.writeSmall(names.qualityMetrics, metricsJson);
    log.info(`Saved: ${names.qualityMetrics}`);
    log.info(`Saved: ${names.rejected}`, { rows: summary.rejectedRows });
    signal?.throwIfAborted();

    const staged: StagedOutput[] = [
      ...(csv ? [
        { name: 'cleaned_data', fileName: names.cleaned, bytes: rows.csvBytes!.cleaned, rows: rows.totalRows, contentType: CSV_CONTENT_TYPE },
        { name: 'transformed_data', fileName: names.transformed, bytes: rows.csvBytes!.transformed, rows: rows.totalRows, contentType: CSV_CONTENT_TYPE },
        {
          name: 'department_statistics',
          fileName: names.departmentStatistics,
          bytes: departmentStatistics.csvBytes!,
          rows: departmentStatistics.rows,
          contentType: CSV_CONTENT_TYPE,
        },
      ] : []),
      { name: 'quality_metrics', fileName: names.qualityMetrics, bytes: metricsJson.length, contentType: JSON_CONTENT_TYPE },
      { name: 'rejected_rows', fileName: names.rejected, bytes: rejectedBytes, rows: summary.rejectedRows, contentType: CSV_CONTENT_TYPE },
    ];
    // The Parquet tables are published last but the manifest: a table folder never shows a run whose other outputs are missing.
    const parquetFiles: StagedOutput[] = tables === undefined ? [] : [
      parquetOutput('cleaned_data', tables.cleaned_data, rows.parquetBytes!.cleaned, rows.totalRows),
      parquetOutput('transformed_data', tables.transformed_data, rows.parquetBytes!.transformed, rows.totalRows),
      parquetOutput('department_statistics', tables.department_statistics, departmentStatistics.parquetBytes!, departmentStatistics.rows),
    ];
    await target.publish(staged);
    await tablesTarget.publish(parquetFiles);

    const manifest: Manifest = {
      run_id: runId,
      input: options.input,
      source: source.source,
      processing_timestamp: timestamp,
      input_rows: summary.inputRows,
      total_rows: rows.totalRows,
      rejected_rows: summary.rejectedRows,
      outputs: [...staged.map((f) => ({ f, at: target })), ...parquetFiles.map((f) => ({ f, at: tablesTarget }))].map(({ f, at }) => ({
        name: f.name,
        ...(f.format === undefined ? {} : { format: f.format }),
        key: at.keyOf(f.fileName),
        bytes: f.bytes,
        ...(f.rows === undefined ? {} : { rows: f.rows }),
      })),
    };
    signal?.throwIfAborted();
    const exclusive = options.exclusiveManifest ?? false;
    const written = await target.publishManifest(names.manifest, Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8'), exclusive);
    if (written) log.info(`Saved: ${names.manifest}`);
    else log.info(`Another run finished ${options.input} first: its manifest ${names.manifest} stands (the outputs are the same bytes)`);

    const seconds = (Date.now() - startedAt) / 1000;
    log.debug('Memory', {
      spilledValueBytes: summary.spilledValueBytes,
      spilledHashBytes: rows.spilledHashBytes,
      departmentIds: summary.departments.keys.length,
      spilledDepartmentRows: rows.spilledDepartmentRows,
      rssBytes: process.memoryUsage().rss,
    });
    log.info('Preprocessing completed successfully!', {
      runId,
      rows: rows.totalRows,
      rejected: summary.rejectedRows,
      duplicates: rows.duplicateRows,
      seconds: seconds.toFixed(1),
      rowsPerSecond: Math.round(summary.inputRows / Math.max(seconds, 0.001)),
    });
    return {
      runId,
      metrics,
      manifest,
      manifestLocation: target.locationOf(names.manifest),
      locations: Object.fromEntries([
        ...staged.map((f) => [f.name, target.locationOf(f.fileName)]),
        ...parquetFiles.map((f) => [`${f.name}.parquet`, tablesTarget.locationOf(f.fileName)]),
      ]),
      finishedElsewhere: !written,
      counts: { inputRows: summary.inputRows, rejectedRows: summary.rejectedRows, duplicateRows: rows.duplicateRows, inputBytes: source.size },
    };
  } catch (error) {
    await target.discard().catch(() => undefined);
    if (tablesTarget !== target) await tablesTarget.discard().catch(() => undefined);
    // Whatever failed while the run was being stopped, the outcome is that it was stopped.
    if (signal?.aborted) throw new RunAbortedError();
    throw error;
  } finally {
    await source?.bytes.close().catch(() => undefined);
    executor?.endRun(run);
    if (options.executor === undefined) await (closing ?? executor?.close());
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Identifies a run to the executor's threads (an executor may serve several runs). */
let nextRun = 1;

/** Worker threads when there is more than one and the input has ranges for them (`started` if it fits), else the main thread. */
function startExecutor(threads: number, inputSize: number, rangeBytes: number, started: WorkerPool | undefined): RangeExecutor {
  const parallel = threads > 1 && inputSize > 2 * rangeBytes;
  if (parallel && started?.threads === threads && started.rangeBytes === rangeBytes) return started;
  started?.close().catch(() => undefined);
  return parallel ? new WorkerPool(threads, rangeBytes) : new InlineExecutor(rangeBytes);
}

interface OpenedInput {
  readonly bytes: ByteSource;
  readonly size: number;
  readonly lastModified: Date;
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
    return { bytes: await openLocalFile(input.path), size: info.size, lastModified: info.mtime, source };
  }
  log.info(`Downloading ${s3Uri(input)}`, { versionId: version?.versionId, eTag: version?.versionId === undefined ? version?.eTag : undefined });
  const object = await s3Module().openS3Object(s3(), input, { log, signal, version });
  const source = { bucket: input.bucket, key: input.key, version_id: object.versionId ?? null, etag: object.eTag ?? null, size: object.size };
  return { bytes: object, size: object.size, lastModified: object.lastModified ?? new Date(0), source };
}

/** Pass 1: input → spool file + rejected_rows (staged in the target). */
async function runPass1(
  source: ByteSource,
  spoolPath: string,
  target: OutputTarget,
  rejectedName: string,
  context: PassContext,
): Promise<{ summary: InputSummary; rejectedBytes: number }> {
  const spool = new CsvSink(createWriteStream(spoolPath, { highWaterMark: STREAM_HIGH_WATER_MARK }));
  const rejected = new CsvSink(target.createStream(rejectedName));
  try {
    const summary = await prepareRows(source, spool, rejected, context);
    await Promise.all([spool.close(), rejected.close()]);
    return { summary, rejectedBytes: rejected.bytes };
  } catch (error) {
    spool.destroy();
    rejected.destroy();
    throw error;
  }
}

type StagedOutput = StagedFile & { name: string; rows?: number; format?: 'parquet' };

/** The Parquet tables' file names (relative to the tables' target). */
type TableNames = Readonly<Record<ParquetTable, string>>;

function tableNames(runDate: string, runId: string): TableNames {
  return {
    cleaned_data: tableFileName('cleaned_data', runDate, runId),
    transformed_data: tableFileName('transformed_data', runDate, runId),
    department_statistics: tableFileName('department_statistics', runDate, runId),
  };
}

function parquetOutput(name: ParquetTable, fileName: string, bytes: number, rows: number): StagedOutput {
  return { name, format: 'parquet', fileName, bytes, rows, contentType: PARQUET_CONTENT_TYPE };
}

/**
 * Pass 2: spool → cleaned_data and transformed_data (staged in the targets): as CSV when `names`
 * is given, as Parquet when `tables` is.
 */
async function runPass2(
  spoolPath: string,
  summary: InputSummary,
  target: OutputTarget,
  names: ReturnType<typeof outputFileNames> | undefined,
  tablesTarget: OutputTarget,
  tables: TableNames | undefined,
  context: PassContext,
  rowGroupBytes = ROW_GROUP_BYTES,
): Promise<OutputSummary & { csvBytes?: { cleaned: number; transformed: number }; parquetBytes?: { cleaned: number; transformed: number } }> {
  const cleaned = names && new CsvSink(target.createStream(names.cleaned));
  const transformed = names && new CsvSink(target.createStream(names.transformed));
  const { cleanedNames, transformedNames } = summary.layout;
  const parquet = tables && new RowTablesWriter(cleanedNames, transformedNames,
    tablesTarget.createStream(tables.cleaned_data), tablesTarget.createStream(tables.transformed_data), rowGroupBytes);
  try {
    const result = await writeRows(summary, spoolPath, cleaned, transformed, context, parquet);
    await Promise.all([cleaned?.close(), transformed?.close()]);
    const parquetFiles = await parquet?.finish();
    if (names) {
      context.log.info(`Saved: ${names.cleaned}`, { rows: result.totalRows });
      context.log.info(`Saved: ${names.transformed}`, { rows: result.totalRows });
    }
    if (tables) {
      context.log.info(`Saved: ${tables.cleaned_data}`, { rows: result.totalRows });
      context.log.info(`Saved: ${tables.transformed_data}`, { rows: result.totalRows });
    }
    return {
      ...result,
      csvBytes: cleaned && transformed && { cleaned: cleaned.bytes, transformed: transformed.bytes },
      parquetBytes: parquetFiles && { cleaned: parquetFiles.cleanedBytes, transformed: parquetFiles.transformedBytes },
    };
  } catch (error) {
    cleaned?.destroy();
    transformed?.destroy();
    parquet?.destroy();
    throw error;
  }
}

/** department_statistics (staged in the targets), streamed: it has a row per department, and departments may be millions. */
async function writeDepartments(
  means: DepartmentMeans,
  target: OutputTarget,
  fileName: string | undefined,
  tablesTarget: OutputTarget,
  tableFile: string | undefined,
  rowGroupBytes = ROW_GROUP_BYTES,
): Promise<{ csvBytes?: number; parquetBytes?: number; rows: number }> {
  const out = fileName === undefined ? undefined : new CsvSink(target.createStream(fileName));
  const parquet = tableFile === undefined ? undefined : new DepartmentTableWriter(tablesTarget.createStream(tableFile), rowGroupBytes);
  try {
    const rows = await writeDepartmentStatistics(means, out, parquet);
    await out?.close();
    const table = await parquet?.finish();
    return { csvBytes: out?.bytes, parquetBytes: table?.bytes, rows };
  } catch (error) {
    out?.destroy();
    parquet?.destroy();
    throw error;
  }
}
