/**
 * The walkthrough transform's engine: clean → transform → write, as the walkthrough's pandas
 * script, on every core it is given, in flat memory. Loaded on first use (index.ts), so that the
 * worker threads boot while these modules load.
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
 * read-ahead (4 x 4 MiB) and upload parts (4 x 5 MiB, reused), one V8 heap per worker thread (about
 * 10 MiB each; young generations kept small, see NODE_FLAGS in processor/src/runtime/config.ts), up to 16,384
 * departments per thread (stats.ts DEPARTMENT_IDS_LIMIT; with more distinct departments than that
 * the department table is spilled instead, department-spill.ts: a 4 MiB run and its sorted copy,
 * up to 16 MiB of read blocks while merging; department_statistics is streamed), plus one entry
 * per range of the spool (about 50 bytes per MiB).
 * Measured (npm run bench, Node 20, 2 threads): 113 MB peak RSS at 2,000,000 rows, 124 MB at
 * 10,000,000; the difference is the runtime warming up (code pages, allocator arenas) and the
 * median's bucket read back instead of kept, not per-row state. 1,000,000 rows whose departments
 * are all distinct: 145 MB (805–960 MB with the department table in memory).
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DepartmentLimits, DepartmentMeans, InputSummary, OutputSummary, PassContext, prepareRows, writeDepartmentStatistics, writeRows } from './coordinator';
import { CsvSink } from './csv/writer';
import { formatFloat } from './format';
import { WalkthroughFileNames, walkthroughFileNames } from './names';
import { DEFAULT_RANGE_BYTES, RangeExecutor, WorkerPool } from './parallel/executor';
import { InlineExecutor } from './parallel/inline';
import { defaultThreadCount } from './parallel/threads';
import { OutputFormat, ParquetTable, runDateOf, tableFileName, writesCsv, writesParquet } from './parquet/layout';
import { DepartmentTableWriter, ROW_GROUP_BYTES, RowTablesWriter } from './parquet/tables';
import type { ByteSource } from '../../runtime/io/source';
import { CSV_CONTENT_TYPE, JSON_CONTENT_TYPE, PARQUET_CONTENT_TYPE, STREAM_HIGH_WATER_MARK } from '../../runtime/outputs';
import type { OutputFile, TransformOutput, TransformRequest, TransformResult } from '../../runtime/transform';

/** What the engine runs on besides the request; tests set them, the CLI passes threads it started early. */
export interface EngineOptions {
  /** Threads to run on instead of starting them for this run (tests share them across runs); not closed by the run. */
  readonly executor?: RangeExecutor;
  /**
   * Worker threads started ahead of the run (WalkthroughTransform.warmUp). The run uses them when
   * it would start the same ones (the same number of threads, more than two ranges of input) and
   * stops them either way.
   */
  readonly startedPool?: WorkerPool;
  /** Input bytes per range (default 1 MiB); tests make it small to put range cuts everywhere. */
  readonly rangeBytes?: number;
  /** Limits of the department table (default: spilled past 16,384 departments a thread); tests make them small. */
  readonly departmentLimits?: DepartmentLimits;
  /** Compressed bytes of a Parquet row group (default 32 MiB, see parquet/tables.ts); tests make it small. */
  readonly parquetRowGroupBytes?: number;
}

/** quality_metrics: the walkthrough's report of the run. */
export interface QualityMetrics {
  readonly total_rows: number;
  readonly total_columns: number;
  readonly missing_values_count: number;
  readonly duplicate_rows: number;
  readonly processing_timestamp: string;
  readonly input_rows: number;
  readonly rejected_rows: number;
}

/** Runs the walkthrough on the request's input: writes its five files, resolves them and the counts. */
export async function runWalkthrough(request: TransformRequest, options: EngineOptions): Promise<TransformResult> {
  const { input, output, runId, log, signal } = request;
  let executor = options.executor;
  let closing: Promise<void> | undefined;
  const run = nextRun++;
  try {
    const rangeBytes = options.rangeBytes ?? DEFAULT_RANGE_BYTES;
    executor ??= startExecutor(request.options.threads ?? defaultThreadCount(), input.size, rangeBytes, options.startedPool);
    executor.beginRun(run);
    log.info('Threads', { threads: executor.threads });
    const owned = options.executor === undefined ? executor : undefined;
    const spoolPath = join(request.scratchDir, 'rows.spool');
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
      executor,
      run,
      scratch: request.scratchDir,
      rangeBytes,
      naValues: request.options.naValues,
      log,
      signal,
      tasksDone,
      departmentLimits: options.departmentLimits,
      scratchBudget: request.scratchBudget,
      inputBytes: input.size,
    };
    const names = walkthroughFileNames(runId);
    const format: OutputFormat = request.options.outputFormat ?? 'csv';
    const csv = writesCsv(format);
    const tables = writesParquet(format) ? tableNames(runDateOf(request.processingTimestamp), runId) : undefined;
    const parquet: ParquetOutput | undefined = tables && {
      output: request.tablesOutput, names: tables, rowGroupBytes: options.parquetRowGroupBytes ?? ROW_GROUP_BYTES,
    };
    const { summary, rejectedBytes } = await runPass1(input.bytes, spoolPath, output, names.rejected, context);
    log.info(`Dataset loaded: (${summary.inputRows}, ${summary.layout.inputNames.length})`);
    if (summary.rejectedRows > 0) {
      log.warn(`${summary.rejectedRows} of ${summary.inputRows} rows cannot be processed; see ${names.rejected}`);
    }
    log.info('Filling missing values...', { ageMedian: formatFloat(summary.ageMedian), salaryMedian: formatFloat(summary.salaryMedian) });
    log.info('Extracting profile fields...');
    const rows = await runPass2(spoolPath, summary, output, csv ? names : undefined, parquet, context);
    await (spoolRemoved ?? rm(spoolPath, { force: true }));
    const metrics: QualityMetrics = {
      total_rows: rows.totalRows,
      total_columns: summary.layout.transformedNames.length,
      missing_values_count: rows.missingValues,
      duplicate_rows: rows.duplicateRows,
      processing_timestamp: request.processingTimestamp,
      input_rows: summary.inputRows,
      rejected_rows: summary.rejectedRows,
    };
    const metricsJson = Buffer.from(JSON.stringify(metrics, null, 2) + '\n', 'utf8');
    const departmentStatistics = await writeDepartments(rows.departments, output, csv ? names.departmentStatistics : undefined, parquet);
    for (const name of [csv ? names.departmentStatistics : undefined, tables?.department_statistics]) {
      if (name !== undefined) log.info(`Saved: ${name}`, { rows: departmentStatistics.rows });
    }
    await output.writeSmall(names.qualityMetrics, metricsJson);
    log.info(`Saved: ${names.qualityMetrics}`);
    log.info(`Saved: ${names.rejected}`, { rows: summary.rejectedRows });
    log.debug('Memory', {
      spilledValueBytes: summary.spilledValueBytes,
      spilledHashBytes: rows.spilledHashBytes,
      departmentIds: summary.departments.keys.length,
      spilledDepartmentRows: rows.spilledDepartmentRows,
      rssBytes: process.memoryUsage().rss,
    });
    const files: OutputFile[] = [
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
      ...(tables === undefined ? [] : [
        parquetFile('cleaned_data', tables.cleaned_data, rows.parquetBytes!.cleaned, rows.totalRows),
        parquetFile('transformed_data', tables.transformed_data, rows.parquetBytes!.transformed, rows.totalRows),
        parquetFile('department_statistics', tables.department_statistics, departmentStatistics.parquetBytes!, departmentStatistics.rows),
      ]),
    ];
    return {
      counts: { inputRows: summary.inputRows, rejectedRows: summary.rejectedRows, totalRows: rows.totalRows, duplicateRows: rows.duplicateRows },
      files,
    };
  } finally {
    executor?.endRun(run);
    if (options.executor === undefined) await (closing ?? executor?.close());
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

/** Pass 1: input → spool file + rejected_rows (staged by the runtime). */
async function runPass1(
  source: ByteSource,
  spoolPath: string,
  output: TransformOutput,
  rejectedName: string,
  context: PassContext,
): Promise<{ summary: InputSummary; rejectedBytes: number }> {
  const spool = new CsvSink(createWriteStream(spoolPath, { highWaterMark: STREAM_HIGH_WATER_MARK }));
  const rejected = new CsvSink(output.createStream(rejectedName));
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

/** The Parquet tables' file names (in the tables' output). */
type TableNames = Readonly<Record<ParquetTable, string>>;

/** Where and how the Parquet tables are written. */
interface ParquetOutput {
  readonly output: TransformOutput;
  readonly names: TableNames;
  readonly rowGroupBytes: number;
}

function tableNames(runDate: string, runId: string): TableNames {
  return {
    cleaned_data: tableFileName('cleaned_data', runDate, runId),
    transformed_data: tableFileName('transformed_data', runDate, runId),
    department_statistics: tableFileName('department_statistics', runDate, runId),
  };
}

function parquetFile(name: ParquetTable, fileName: string, bytes: number, rows: number): OutputFile {
  return { name, format: 'parquet', fileName, bytes, rows, contentType: PARQUET_CONTENT_TYPE };
}

/**
 * Pass 2: spool → cleaned_data and transformed_data (staged by the runtime): as CSV when `names`
 * is given, as Parquet when `parquet` is.
 */
async function runPass2(
  spoolPath: string,
  summary: InputSummary,
  output: TransformOutput,
  names: WalkthroughFileNames | undefined,
  parquet: ParquetOutput | undefined,
  context: PassContext,
): Promise<OutputSummary & { csvBytes?: { cleaned: number; transformed: number }; parquetBytes?: { cleaned: number; transformed: number } }> {
  const cleaned = names && new CsvSink(output.createStream(names.cleaned));
  const transformed = names && new CsvSink(output.createStream(names.transformed));
  const { cleanedNames, transformedNames } = summary.layout;
  const tables = parquet && new RowTablesWriter(cleanedNames, transformedNames,
    parquet.output.createStream(parquet.names.cleaned_data), parquet.output.createStream(parquet.names.transformed_data), parquet.rowGroupBytes);
  try {
    const result = await writeRows(summary, spoolPath, cleaned, transformed, context, tables);
    await Promise.all([cleaned?.close(), transformed?.close()]);
    const parquetFiles = await tables?.finish();
    for (const name of [names?.cleaned, names?.transformed, parquet?.names.cleaned_data, parquet?.names.transformed_data]) {
      if (name !== undefined) context.log.info(`Saved: ${name}`, { rows: result.totalRows });
    }
    return {
      ...result,
      csvBytes: cleaned && transformed && { cleaned: cleaned.bytes, transformed: transformed.bytes },
      parquetBytes: parquetFiles && { cleaned: parquetFiles.cleanedBytes, transformed: parquetFiles.transformedBytes },
    };
  } catch (error) {
    cleaned?.destroy();
    transformed?.destroy();
    tables?.destroy();
    throw error;
  }
}

/** department_statistics (staged by the runtime), streamed: it has a row per department, and departments may be millions. */
async function writeDepartments(
  means: DepartmentMeans,
  output: TransformOutput,
  fileName: string | undefined,
  parquet: ParquetOutput | undefined,
): Promise<{ csvBytes?: number; parquetBytes?: number; rows: number }> {
  const out = fileName === undefined ? undefined : new CsvSink(output.createStream(fileName));
  const table = parquet && new DepartmentTableWriter(parquet.output.createStream(parquet.names.department_statistics), parquet.rowGroupBytes);
  try {
    const rows = await writeDepartmentStatistics(means, out, table);
    await out?.close();
    const written = await table?.finish();
    return { csvBytes: out?.bytes, parquetBytes: written?.bytes, rows };
  } catch (error) {
    out?.destroy();
    table?.destroy();
    throw error;
  }
}
