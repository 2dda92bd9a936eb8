/**
 * The main thread's side of the two passes: it cuts the input into ranges, has the range tasks
 * (passes.ts) run on the executor's threads, and takes their results in input order, so every
 * output is what a single sequential pass gives: the same rows in the same order, the same line
 * numbers in rejected_rows, department means summed in row order (compensated sums are not
 * associative), and duplicates counted over the whole file. Per-row state goes to the scratch
 * directory (spill.ts), so memory does not grow with the input.
 */
import { join } from 'node:path';
import { DEFAULT_MAX_RECORD_BYTES, RangeChunker, readRanges } from './csv/ranges';
import { CSV_COMMA, CSV_LF, CsvSink, maxEncodedLength } from './csv/writer';
import { DepartmentSpill } from './department-spill';
import { writeFloat, writeUnsignedInt } from './format';
import { RangeExecutor, rangesInFlight } from './parallel/executor';
import { blockBytes } from './parallel/slots';
import type { DepartmentTableWriter, RowTablesWriter } from './parquet/tables';
import { PrepareResult, REJECTED_COLUMNS, RowFacts, WriteResult, rangeValues } from './passes';
import { ColumnLayout, DEPARTMENT_STATISTICS_COLUMNS, readHeader, resolveColumns } from './schema';
import { HashSpill, ValueSpill } from './spill';
import { DEPARTMENT_IDS_LIMIT, DepartmentStatistics, DepartmentTable, NO_DEPARTMENT_ID } from './stats';
import { BadInputError } from '../../runtime/errors';
import type { ByteSource } from '../../runtime/io/source';
import { Logger, ProgressReporter } from '../../runtime/log';
import type { ScratchBudget } from '../../runtime/scratch-space';
import type { NaValuesMode } from '../../runtime/transform';

export interface PassContext {
  readonly executor: RangeExecutor;
  /** Identifies the run to the executor's threads. */
  readonly run: number;
  /** Where the spills go. */
  readonly scratch: string;
  readonly rangeBytes: number;
  /** Which cells are missing values (SPEC §5). */
  readonly naValues: NaValuesMode;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** Called once the run has no more tasks for the executor's threads (its owner may stop them meanwhile). */
  readonly tasksDone?: () => void;
  /** Limits of the department table; tests make them small to reach the spilled table with few rows. */
  readonly departmentLimits?: DepartmentLimits;
  /** The scratch space set aside by the runtime's preflight, which leaves out the department spill. */
  readonly scratchBudget?: ScratchBudget;
  /** The input's size: it bounds the department bytes the spill can hold. */
  readonly inputBytes?: number;
}

export interface DepartmentLimits {
  /** Departments a thread numbers at most before the table is spilled (stats.ts DEPARTMENT_IDS_LIMIT). */
  readonly ids?: number;
  /** Bytes of rows the spilled table sorts in memory at once (department-spill.ts). */
  readonly runBytes?: number;
  /** Runs the spilled table merges at once (department-spill.ts MERGE_FAN_IN); more are merged in several passes. */
  readonly mergeFanIn?: number;
}

/** A range of the spool written by one pass-1 range. */
export interface SpoolRange {
  readonly offset: number;
  readonly length: number;
  readonly rows: number;
  /** The thread whose department ids its records carry. */
  readonly thread: number;
}

export interface InputSummary {
  readonly layout: ColumnLayout;
  /** Data records (the header and blank lines are not counted). */
  readonly inputRows: number;
  readonly validRows: number;
  readonly rejectedRows: number;
  readonly ageMedian: number;
  readonly salaryMedian: number;
  readonly departments: DepartmentTable;
  readonly spoolRanges: readonly SpoolRange[];
  /** Bytes of the spilled median inputs (memory report). */
  readonly spilledValueBytes: number;
}

/** Pass 1: input → spool file, rejected_rows, medians. */
export async function prepareRows(source: ByteSource, spool: CsvSink, rejected: CsvSink, context: PassContext): Promise<InputSummary> {
  const { executor, run } = context;
  const slots = executor.slots;
  const chunker = new RangeChunker(source, context.rangeBytes, slots);
  let header: string[] | undefined;
  const headerLines = await chunker.readFirstRecord((scanner, buf) => {
    header = readHeader(scanner, buf);
  }, DEFAULT_MAX_RECORD_BYTES);
  if (chunker.bytesRead === 0) throw new BadInputError('input is empty (0 bytes); expected a CSV file with a header line');
  if (header === undefined) throw new BadInputError('input has no header line; expected a CSV file');
  const names = header;
  const layout = resolveColumns(names);
  rejected.record(REJECTED_COLUMNS);

  const ages = await ValueSpill.create(join(context.scratch, 'ages.spill'));
  const salaries = await ValueSpill.create(join(context.scratch, 'salaries.spill'));
  try {
    const departments = new DepartmentTable();
    const departmentLimit = context.departmentLimits?.ids ?? DEPARTMENT_IDS_LIMIT;
    const spoolRanges: SpoolRange[] = [];
    let inputRows = 0;
    let validRows = 0;
    const progress = new ProgressReporter(context.log, 'pass 1 (read, validate, clean)');
    await readRanges<PrepareResult>(chunker, {
      parse: async (range) => {
        const [spoolSlot, valuesSlot] = [await slots.acquire(), await slots.acquire(true)];
        const task = {
          kind: 'prepare', run, header: names, naValues: context.naValues, departmentLimit, input: range.input, last: range.last, spoolSlot, valuesSlot,
        } as const;
        const result = await executor.prepare(task);
        // Registered whether or not the result is taken: the thread has numbered these keys.
        departments.register(result.thread, result.departmentBase, result.departmentKeys);
        if (result.departmentsOverflowed) departments.overflowed = true;
        return result;
      },
      accept: async (result, firstLine) => {
        inputRows += result.records;
        validRows += result.validRows;
        progress.add(result.records);
        if (result.spool.length > 0) {
          spoolRanges.push({ offset: spool.bytes, length: result.spool.length, rows: result.validRows, thread: result.thread });
          spool.append(slots.bytesOf(result.spool), () => slots.release(result.spool.slot));
        } else {
          slots.release(result.spool.slot);
        }
        writeRejects(rejected, result, firstLine);
        const values = rangeValues(slots.buffers, result.values);
        ages.add(values.ages);
        salaries.add(values.salaries);
        slots.release(result.values.slot);
        await Promise.all([spool.drain(), rejected.drain(), ages.drain(), salaries.drain()]);
      },
      drop: (result) => {
        slots.release(result.spool.slot);
        slots.release(result.values.slot);
      },
      firstLine: headerLines + 1,
      maxInFlight: rangesInFlight(context.executor.threads),
      maxRecordBytes: DEFAULT_MAX_RECORD_BYTES,
      signal: context.signal,
    });
    const spilledValueBytes = (ages.count + salaries.count) * 8;
    const started = Date.now();
    const [ageMedian, salaryMedian] = await Promise.all([ages.median(), salaries.median()]);
    context.log.debug('Medians found', { values: ages.count + salaries.count, ms: Date.now() - started });
    return {
      layout,
      inputRows,
      validRows,
      rejectedRows: rejected.rows,
      ageMedian,
      salaryMedian,
      departments,
      spoolRanges,
      spilledValueBytes,
    };
  } finally {
    await Promise.all([ages.remove(), salaries.remove()]);
  }
}

/** rejected_rows: each record with its input line in front (the range knows only its own line numbers). */
function writeRejects(out: CsvSink, result: PrepareResult, firstLine: number): void {
  if (result.rejected === undefined) return;
  const bytes = Buffer.from(result.rejected, 0, result.rejectedLength);
  const lines = result.rejectedLines;
  let start = 0;
  for (let i = 0; i < lines.length; i += 2) {
    const end = lines[i + 1];
    out.ensure(24 + end - start);
    out.pos = writeUnsignedInt(out.buf, out.pos, firstLine + lines[i] - 1);
    out.byte(0x2c);
    out.raw(bytes, start, end);
    out.rows++;
    start = end;
  }
}

/** The department means: in memory, or spilled when the departments are too many (a thread ran out of ids). */
export type DepartmentMeans = DepartmentStatistics | DepartmentSpill;

export interface OutputSummary {
  readonly totalRows: number;
  readonly missingValues: number;
  readonly duplicateRows: number;
  /** Written by {@link writeDepartmentStatistics}, which also removes a spilled table. */
  readonly departments: DepartmentMeans;
  /** Bytes of the spilled row hashes (memory report). */
  readonly spilledHashBytes: number;
  /** Rows added to the spilled department table, 0 when it is kept in memory (memory report). */
  readonly spilledDepartmentRows: number;
}

/**
 * Bytes the department spill can take at most: a 20-byte record head per row (department-spill.ts)
 * and the departments' bytes, which are part of the input's.
 */
export function departmentSpillBytes(rows: number, inputBytes: number): number {
  return rows * 20 + inputBytes;
}

/**
 * Pass 2: spool → cleaned_data and transformed_data (as CSV to the sinks, as Parquet to `parquet`;
 * either may be absent), department means, duplicate count.
 */
export async function writeRows(
  summary: InputSummary,
  spoolPath: string,
  cleaned: CsvSink | undefined,
  transformed: CsvSink | undefined,
  context: PassContext,
  parquet?: RowTablesWriter,
): Promise<OutputSummary> {
  const { executor, run } = context;
  const slots = executor.slots;
  cleaned?.record(summary.layout.cleanedNames);
  transformed?.record(summary.layout.transformedNames);
  if (summary.departments.overflowed) {
    await context.scratchBudget?.reserve(departmentSpillBytes(summary.validRows, context.inputBytes ?? 0), 'the department spill (too many departments to keep in memory)');
  }
  const parquetKinds = parquet?.kinds;
  let totalRows = 0;
  const hashes = await HashSpill.create(join(context.scratch, 'hashes.spill'));
  const means: DepartmentMeans = summary.departments.overflowed
    ? await DepartmentSpill.create(join(context.scratch, 'departments.spill'), context.departmentLimits?.runBytes, context.departmentLimits?.mergeFanIn)
    : new DepartmentStatistics(summary.departments.keys);
  try {
    const progress = new ProgressReporter(context.log, 'pass 2 (fill, derive, write)');
    let missingValues = 0;
    const pending: Array<{ range: SpoolRange; result: Promise<WriteResult>; parquetSlot?: number }> = [];
    let next = 0;
    try {
      for (;;) {
        while (pending.length < rangesInFlight(context.executor.threads) && next < summary.spoolRanges.length) {
          const range = summary.spoolRanges[next++];
          const [cleanedSlot, transformedSlot, factsSlot] = [await slots.acquire(), await slots.acquire(), await slots.acquire(true)];
          const parquetSlot = parquetKinds && await slots.acquire();
          const result = executor.write({
            kind: 'write',
            run,
            spoolPath,
            offset: range.offset,
            length: range.length,
            rows: range.rows,
            ageMedian: summary.ageMedian,
            salaryMedian: summary.salaryMedian,
            cleanedSlot,
            cleanedCsv: cleaned !== undefined,
            transformedSlot,
            factsSlot,
            parquetKinds,
            parquetSlot,
          });
          result.catch(() => undefined); // awaited in order below
          pending.push({ range, result, parquetSlot });
        }
        const head = pending.shift();
        if (head === undefined) break;
        const result = await head.result;
        context.signal?.throwIfAborted();
        appendRows(cleaned, result.cleaned, result.rows, slots);
        appendRows(transformed, result.transformed, result.rows, slots);
        totalRows += result.rows;
        missingValues += result.missingValues;
        const facts = new RowFacts(result.facts.own ?? slots.buffers[result.facts.slot], result.rows);
        const ids = summary.departments.idsOf(head.range.thread);
        if (means instanceof DepartmentSpill) spillMeans(means, facts, result, ids, summary.departments);
        else addMeans(means, facts, result.rows, ids);
        hashes.add(facts.hashes, result.rows);
        slots.release(result.facts.slot);
        // The pages are copied out of their slot by add(), which may then write a row group.
        const rowGroupWritten = result.parquet && parquet?.add(result.parquet, blockBytes(slots.buffers, result.parquet));
        if (head.parquetSlot !== undefined) slots.release(head.parquetSlot);
        progress.add(result.rows);
        await Promise.all([
          cleaned?.drain(), transformed?.drain(), hashes.drain(), means instanceof DepartmentSpill ? means.drain() : undefined, rowGroupWritten,
        ]);
      }
    } finally {
      await Promise.all(pending.map((p) => p.result.catch(() => undefined)));
    }
    context.tasksDone?.();
    if (totalRows !== summary.validRows) {
      throw new Error(`pass 2 wrote ${totalRows} rows, pass 1 spooled ${summary.validRows}`);
    }
    const started = Date.now();
    const duplicateRows = await hashes.countDuplicates();
    context.log.debug('Duplicates counted', { rows: hashes.count, ms: Date.now() - started });
    return {
      totalRows,
      missingValues,
      duplicateRows,
      departments: means,
      spilledHashBytes: hashes.count * 8,
      spilledDepartmentRows: means instanceof DepartmentSpill ? means.rows : 0,
    };
  } catch (error) {
    if (means instanceof DepartmentSpill) await means.remove();
    throw error;
  } finally {
    await hashes.remove();
  }
}

/** Appends a range's CSV rows to `out`, if the CSV is written; the slot is released either way. */
function appendRows(out: CsvSink | undefined, block: WriteResult['cleaned'], rows: number, slots: RangeExecutor['slots']): void {
  if (out === undefined) {
    slots.release(block.slot);
    return;
  }
  out.append(slots.bytesOf(block), () => slots.release(block.slot));
  out.rows += rows;
}

/** Adds a range's rows to the department means, in row order. */
function addMeans(means: DepartmentStatistics, facts: RowFacts, rows: number, ids: readonly number[]): void {
  const { departmentIds, salaries, ages } = facts;
  for (let i = 0; i < rows; i++) means.add(ids[departmentIds[i]], salaries[i], ages[i]);
}

/** Adds a range's rows to the spilled department table, in row order: by id from the table, else the bytes the row carries. */
function spillMeans(spill: DepartmentSpill, facts: RowFacts, result: WriteResult, ids: readonly number[], table: DepartmentTable): void {
  const { departmentIds, salaries, ages } = facts;
  const keys = result.departmentKeys === undefined ? undefined : Buffer.from(result.departmentKeys, 0, result.departmentKeysLength);
  let at = 0;
  for (let i = 0; i < result.rows; i++) {
    const id = departmentIds[i];
    if (id === NO_DEPARTMENT_ID) {
      const length = keys!.readUInt32LE(at);
      spill.add(keys!, at + 4, at + 4 + length, salaries[i], ages[i]);
      at += 4 + length;
    } else {
      const key = table.keyBytes(ids[id]);
      spill.add(key, 0, key.length, salaries[i], ages[i]);
    }
  }
}

/** Room for a formatted mean (Python repr is at most 24 characters). */
const MAX_MEAN_BYTES = 32;

/**
 * department_statistics, streamed to `out` as CSV and to `parquet` (either may be absent; the
 * spilled table a few thousand departments at a time), sorted by department; removes the spilled
 * table. Returns the number of departments.
 */
export async function writeDepartmentStatistics(means: DepartmentMeans, out: CsvSink | undefined, parquet?: DepartmentTableWriter): Promise<number> {
  out?.record(DEPARTMENT_STATISTICS_COLUMNS);
  let rows = 0;
  const write = (key: Uint8Array, start: number, end: number, averageSalary: number, averageAge: number): void => {
    rows++;
    parquet?.add(key, start, end, averageSalary, averageAge);
    if (out === undefined) return;
    out.ensure(maxEncodedLength(end - start) + 2 * MAX_MEAN_BYTES + 3);
    out.field(key, start, end);
    out.byte(CSV_COMMA);
    out.pos = writeFloat(out.buf, out.pos, averageSalary);
    out.byte(CSV_COMMA);
    out.pos = writeFloat(out.buf, out.pos, averageAge);
    out.byte(CSV_LF);
    out.rows++;
  };
  if (!(means instanceof DepartmentSpill)) {
    for (const row of means.rows()) {
      const key = Buffer.from(row.department, 'utf8');
      write(key, 0, key.length, row.averageSalary, row.averageAge);
    }
    return rows;
  }
  try {
    await means.forEachDepartment(write, async () => {
      await Promise.all([out?.drain(), parquet?.drain()]);
    });
    return rows;
  } finally {
    await means.remove();
  }
}
