/**
 * The two passes over the input.
 *
 * Filling a missing age or salary needs the column's median before the first output row can be
 * written, so the input is read twice from local disk (the input file itself, or the spooled S3
 * object): pass 1 validates every row and collects the valid ages and salaries; pass 2 validates
 * again (cheap, and it keeps no per-row state between passes) and writes every output row.
 */
import { readRecords } from './csv/reader';
import { CsvScanner } from './csv/scanner';
import { CSV_COMMA, CSV_LF, CsvSink, maxEncodedLength } from './csv/writer';
import { DuplicateCounter } from './dedupe';
import { BadInputError } from './errors';
import { writeFloat, writeUnsignedInt } from './format';
import { Logger, ProgressReporter } from './log';
import { ColumnLayout, RowCleaner, UNKNOWN_DEPARTMENT, ageGroup, readHeader, resolveColumns, salaryCategory } from './schema';
import { DepartmentStatistics, Float64Column } from './stats';

export type ChunkSource = () => AsyncIterable<Buffer>;

export interface PassOptions {
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

export interface InputSummary {
  readonly layout: ColumnLayout;
  /** Data records (the header and blank lines are not counted). */
  readonly inputRows: number;
  readonly validRows: number;
  readonly rejectedRows: number;
  readonly ageMedian: number;
  readonly salaryMedian: number;
  readonly inputBytes: number;
  /** Bytes the median columns held at their largest (memory report). */
  readonly medianColumnBytes: number;
}

/** Pass 1: header, row validation, and the medians of the valid ages and salaries. */
export async function summarizeInput(source: ChunkSource, options: PassOptions): Promise<InputSummary> {
  let layout: ColumnLayout | undefined;
  let cleaner: RowCleaner | undefined;
  let inputRows = 0;
  let validRows = 0;
  const ages = new Float64Column();
  const salaries = new Float64Column();
  const progress = new ProgressReporter(options.log, 'pass 1 (validate, collect medians)');

  const inputBytes = await readRecords(source(), (scanner, buf) => {
    if (cleaner === undefined) {
      layout = resolveColumns(readHeader(scanner, buf));
      cleaner = new RowCleaner(layout);
      return;
    }
    inputRows++;
    progress.tick();
    if (!cleaner.check(scanner, buf)) return;
    validRows++;
    if (cleaner.age === cleaner.age) ages.push(cleaner.age);
    if (cleaner.salary === cleaner.salary) salaries.push(cleaner.salary);
  }, { signal: options.signal });

  if (inputBytes === 0) throw new BadInputError('input is empty (0 bytes); expected a CSV file with a header line');
  if (layout === undefined) throw new BadInputError('input has no header line; expected a CSV file');
  return {
    layout,
    inputRows,
    validRows,
    rejectedRows: inputRows - validRows,
    ageMedian: ages.median(),
    salaryMedian: salaries.median(),
    inputBytes,
    medianColumnBytes: ages.capacityBytes + salaries.capacityBytes,
  };
}

/** The three row-level outputs of pass 2. */
export interface RowSinks {
  readonly cleaned: CsvSink;
  readonly transformed: CsvSink;
  readonly rejected: CsvSink;
}

export interface OutputSummary {
  readonly totalRows: number;
  readonly rejectedRows: number;
  readonly inputRows: number;
  readonly missingValues: number;
  readonly duplicateRows: number;
  readonly departments: DepartmentStatistics;
  /** Bytes the duplicate table held (memory report). */
  readonly duplicateTableBytes: number;
}

export const REJECTED_COLUMNS = ['line', 'reason', 'record'] as const;

/** Pass 2: writes cleaned, transformed and rejected rows; counts missing values and duplicates. */
export async function writeRows(
  source: ChunkSource,
  summary: InputSummary,
  sinks: RowSinks,
  options: PassOptions,
): Promise<OutputSummary> {
  const layout = summary.layout;
  sinks.cleaned.record(layout.cleanedNames);
  sinks.transformed.record(layout.transformedNames);
  sinks.rejected.record(REJECTED_COLUMNS);

  const writer = new RowWriter(layout, sinks, summary.ageMedian, summary.salaryMedian, summary.validRows);
  const cleaner = new RowCleaner(layout);
  const progress = new ProgressReporter(options.log, 'pass 2 (clean, transform, write)');
  let headerSeen = false;
  let inputRows = 0;

  await readRecords(source(), (scanner, buf) => {
    if (!headerSeen) {
      headerSeen = true;
      return;
    }
    inputRows++;
    progress.tick();
    if (cleaner.check(scanner, buf)) writer.writeRow(scanner, buf, cleaner);
    else writer.writeReject(scanner, buf, cleaner.reason);
  }, {
    signal: options.signal,
    afterChunk: () => drainAll(sinks),
  });

  if (inputRows !== summary.inputRows) {
    throw new Error(`the input changed while it was being processed (${summary.inputRows} rows in pass 1, ${inputRows} in pass 2)`);
  }
  return {
    totalRows: sinks.transformed.rows,
    rejectedRows: sinks.rejected.rows,
    inputRows,
    missingValues: writer.missingValues,
    duplicateRows: writer.duplicates.duplicates,
    departments: writer.departments,
    duplicateTableBytes: writer.duplicates.capacityBytes,
  };
}

async function drainAll(sinks: RowSinks): Promise<void> {
  await Promise.all([sinks.cleaned.drain(), sinks.transformed.drain(), sinks.rejected.drain()]);
}

const UNKNOWN_BYTES = Buffer.from(UNKNOWN_DEPARTMENT);
const SALARY_CATEGORY_BYTES = new Map(['', 'low', 'medium', 'high'].map((c) => [c, Buffer.from(c)]));
const AGE_GROUP_BYTES = new Map(['', 'Young', 'Early Career', 'Mid Career', 'Senior', 'Experienced'].map((g) => [g, Buffer.from(g)]));
/** Room for a formatted float64 (Python repr is at most 24 characters) and its delimiter. */
const MAX_NUMBER_BYTES = 32;
const DERIVED_BYTES = 64;

/** Writes one valid row to cleaned_data and transformed_data (the former is a prefix of the latter). */
class RowWriter {
  missingValues = 0;
  readonly duplicates: DuplicateCounter;
  readonly departments = new DepartmentStatistics();

  constructor(
    private readonly layout: ColumnLayout,
    private readonly sinks: RowSinks,
    private readonly ageFill: number,
    private readonly salaryFill: number,
    expectedRows: number,
  ) {
    this.duplicates = new DuplicateCounter(expectedRows);
  }

  writeRow(scanner: CsvScanner, buf: Buffer, row: RowCleaner): void {
    const layout = this.layout;
    const out = this.sinks.transformed;
    const recordBytes = scanner.recordEnd - scanner.recordStart;
    // Every output byte comes from the record (quoting at most doubles it), a number or a label.
    out.ensure(maxEncodedLength(recordBytes) * 2 + MAX_NUMBER_BYTES * (layout.inputNames.length + 4) + DERIVED_BYTES);
    const rowStart = out.pos;
    let missing = 0;

    if (row.idCanonical !== undefined) {
      out.pos = writeAsciiText(out.buf, out.pos, row.idCanonical);
    } else {
      out.raw(scanner.bufferOf(layout.id, buf), scanner.starts[layout.id], scanner.ends[layout.id]);
    }
    out.byte(CSV_COMMA);
    missing += this.inputField(scanner, buf, layout.name);
    out.byte(CSV_COMMA);
    const age = row.age === row.age ? row.age : this.ageFill;
    missing += this.float(age);
    out.byte(CSV_COMMA);
    const salary = row.salary === row.salary ? row.salary : this.salaryFill;
    missing += this.float(salary);
    out.byte(CSV_COMMA);
    missing += this.inputField(scanner, buf, layout.hireDate);
    out.byte(CSV_COMMA);
    const department = layout.department;
    const deptBuf = scanner.bufferOf(department, buf);
    const deptStart = scanner.starts[department];
    const deptEnd = scanner.ends[department];
    if (deptStart === deptEnd) out.raw(UNKNOWN_BYTES, 0, UNKNOWN_BYTES.length);
    else this.inputField(scanner, buf, department);
    out.byte(CSV_COMMA);
    missing += this.float(row.bonus);
    const profile = row.profile;
    for (let k = 0; k < 3; k++) {
      out.byte(CSV_COMMA);
      if (profile.isEmpty(k)) missing++;
      else out.field(profile.bufs[k], profile.starts[k], profile.ends[k]);
    }
    const extras = layout.extras;
    for (let x = 0; x < extras.length; x++) {
      out.byte(CSV_COMMA);
      missing += this.inputField(scanner, buf, extras[x]);
    }
    const cleanedEnd = out.pos;

    const cleaned = this.sinks.cleaned;
    cleaned.ensure(cleanedEnd - rowStart + 1);
    cleaned.raw(out.buf, rowStart, cleanedEnd);
    cleaned.byte(CSV_LF);
    cleaned.rows++;

    out.byte(CSV_COMMA);
    out.pos = writeUnsignedInt(out.buf, out.pos, row.addressLength);
    out.byte(CSV_COMMA);
    missing += this.label(SALARY_CATEGORY_BYTES.get(salaryCategory(salary))!);
    out.byte(CSV_COMMA);
    missing += this.label(AGE_GROUP_BYTES.get(ageGroup(age))!);
    this.duplicates.add(out.buf, rowStart, out.pos);
    out.byte(CSV_LF);
    out.rows++;

    this.missingValues += missing;
    const key = deptStart === deptEnd ? UNKNOWN_DEPARTMENT : deptBuf.toString('latin1', deptStart, deptEnd);
    this.departments.add(key, salary, age);
  }

  /** rejected_rows: input line, reason, and the record's raw text. */
  writeReject(scanner: CsvScanner, buf: Buffer, reason: string): void {
    const out = this.sinks.rejected;
    const reasonBytes = Buffer.from(reason, 'utf8');
    out.ensure(MAX_NUMBER_BYTES + maxEncodedLength(reasonBytes.length) + maxEncodedLength(scanner.recordEnd - scanner.recordStart) + 4);
    out.pos = writeUnsignedInt(out.buf, out.pos, scanner.line);
    out.byte(CSV_COMMA);
    out.field(reasonBytes, 0, reasonBytes.length);
    out.byte(CSV_COMMA);
    out.field(buf, scanner.recordStart, scanner.recordEnd);
    out.byte(CSV_LF);
    out.rows++;
  }

  /** Copies input field `f`; returns 1 when it is empty (a missing value). */
  private inputField(scanner: CsvScanner, buf: Buffer, f: number): number {
    const start = scanner.starts[f];
    const end = scanner.ends[f];
    if (start === end) return 1;
    const out = this.sinks.transformed;
    // An unquoted input field cannot hold a delimiter, quote or line break: copy it as is.
    if (RowCleaner.wasQuoted(scanner, f)) out.field(scanner.bufferOf(f, buf), start, end);
    else out.raw(buf, start, end);
    return 0;
  }

  /** Writes a float column value; returns 1 when it is missing (NaN). */
  private float(value: number): number {
    if (value !== value) return 1;
    const out = this.sinks.transformed;
    out.pos = writeFloat(out.buf, out.pos, value);
    return 0;
  }

  /** Writes a category label; returns 1 when it is empty. */
  private label(bytes: Buffer): number {
    if (bytes.length === 0) return 1;
    this.sinks.transformed.raw(bytes, 0, bytes.length);
    return 0;
  }
}

function writeAsciiText(buf: Buffer, pos: number, text: string): number {
  return pos + buf.write(text, pos, 'latin1');
}
