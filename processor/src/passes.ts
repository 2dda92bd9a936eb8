/**
 * The two passes.
 *
 * Filling a missing age or salary needs the column's median before the first output row can be
 * written. Pass 1 reads the input once: it validates each row, writes rejected rows straight to
 * rejected_rows, collects the valid ages and salaries, and writes each valid row to the spool
 * (see spool.ts) as finished output bytes with gaps where the medians go. Pass 2 reads the spool
 * from local disk and writes cleaned_data and transformed_data, filling the gaps, deriving the
 * categories, counting duplicates and accumulating the department means in row order.
 */
import { isUtf8 } from 'node:buffer';
import { readRecords } from './csv/reader';
import { CsvScanner } from './csv/scanner';
import { CSV_COMMA, CSV_LF, CsvSink, maxEncodedLength } from './csv/writer';
import { DuplicateCounter } from './dedupe';
import { BadInputError } from './errors';
import { formatFloat, writeFloat, writeUnsignedInt } from './format';
import { Logger, ProgressReporter } from './log';
import { MissingValues, NaValuesMode } from './missing';
import {
  AGE_GROUPS, ColumnLayout, RowCleaner, SALARY_CATEGORIES, UNKNOWN_DEPARTMENT,
  ageGroupIndex, readHeader, resolveColumns, salaryCategoryIndex, wasQuoted, withPositiveZeros,
} from './schema';
import {
  SPOOL_ADDRESS_LENGTH, SPOOL_AGE, SPOOL_AGE_TEXT, SPOOL_DEPARTMENT, SPOOL_HEADER_BYTES, SPOOL_MISSING, SPOOL_RECORD_LENGTH,
  SPOOL_NEGATIVE_BONUS, SPOOL_SALARY, SPOOL_SALARY_TEXT, SPOOL_SEGMENT_A, SPOOL_SEGMENT_B, readSpool,
} from './spool';
import { DepartmentIds, DepartmentStatistics, Float64Column } from './stats';

export interface PassOptions {
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** Which cells are missing values (SPEC §5). @default 'default' */
  readonly naValues?: NaValuesMode;
}

export const REJECTED_COLUMNS = ['line', 'reason', 'record'] as const;

export interface InputSummary {
  readonly layout: ColumnLayout;
  /** Data records (the header and blank lines are not counted). */
  readonly inputRows: number;
  readonly validRows: number;
  readonly rejectedRows: number;
  readonly ageMedian: number;
  readonly salaryMedian: number;
  readonly inputBytes: number;
  /** Department keys by id (UTF-8 bytes read as latin1). */
  readonly departments: readonly string[];
  /** Bytes the median columns held (memory report). */
  readonly medianColumnBytes: number;
}

/** Pass 1: validate, reject, collect the medians' values, spool the valid rows. */
export async function prepareRows(
  source: AsyncIterable<Buffer>,
  spool: CsvSink,
  rejected: CsvSink,
  options: PassOptions,
): Promise<InputSummary> {
  let layout: ColumnLayout | undefined;
  let cleaner: RowCleaner | undefined;
  let spooler: RowSpooler | undefined;
  let inputRows = 0;
  const ages = new Float64Column();
  const salaries = new Float64Column();
  const departments = new DepartmentIds();
  const missing = MissingValues.forMode(options.naValues ?? 'default');
  const progress = new ProgressReporter(options.log, 'pass 1 (read, validate, clean)');
  rejected.record(REJECTED_COLUMNS);

  const inputBytes = await readRecords(source, (scanner, buf) => {
    if (cleaner === undefined || spooler === undefined) {
      layout = resolveColumns(readHeader(scanner, buf));
      cleaner = new RowCleaner(layout, { missing });
      spooler = new RowSpooler(layout, spool, departments, missing);
      return;
    }
    inputRows++;
    progress.tick();
    if (!cleaner.check(scanner, buf)) {
      writeReject(rejected, scanner, buf, cleaner.reason);
      return;
    }
    if (cleaner.age === cleaner.age) ages.push(cleaner.age);
    if (cleaner.salary === cleaner.salary) salaries.push(cleaner.salary);
    spooler.write(scanner, buf, cleaner);
  }, {
    signal: options.signal,
    afterChunk: () => Promise.all([spool.drain(), rejected.drain()]).then(() => undefined),
  });

  if (inputBytes === 0) throw new BadInputError('input is empty (0 bytes); expected a CSV file with a header line');
  if (layout === undefined) throw new BadInputError('input has no header line; expected a CSV file');
  const medianColumnBytes = ages.capacityBytes + salaries.capacityBytes;
  return {
    layout,
    inputRows,
    validRows: spool.rows,
    rejectedRows: rejected.rows,
    ageMedian: ages.median(),
    salaryMedian: salaries.median(),
    inputBytes,
    departments: departments.keys,
    medianColumnBytes,
  };
}

/**
 * rejected_rows: the input line the record starts on, the reason, and the record's raw text
 * (with invalid UTF-8 sequences replaced by U+FFFD, so the file itself stays valid UTF-8).
 */
function writeReject(out: CsvSink, scanner: CsvScanner, buf: Buffer, reason: string): void {
  const reasonBytes = Buffer.from(reason, 'utf8');
  let raw = buf;
  let rawStart = scanner.recordStart;
  let rawEnd = scanner.recordEnd;
  if (scanner.nonAscii && !isUtf8(buf.subarray(rawStart, rawEnd))) {
    raw = Buffer.from(buf.toString('utf8', rawStart, rawEnd), 'utf8');
    rawStart = 0;
    rawEnd = raw.length;
  }
  out.ensure(MAX_NUMBER_BYTES + maxEncodedLength(reasonBytes.length) + maxEncodedLength(rawEnd - rawStart) + 4);
  out.pos = writeUnsignedInt(out.buf, out.pos, scanner.line);
  out.byte(CSV_COMMA);
  out.field(reasonBytes, 0, reasonBytes.length);
  out.byte(CSV_COMMA);
  out.field(raw, rawStart, rawEnd);
  out.byte(CSV_LF);
  out.rows++;
}

/** Room for a formatted float64 (Python repr is at most 24 characters) or an int32, and a delimiter. */
const MAX_NUMBER_BYTES = 32;
const UNKNOWN_BYTES = Buffer.from(UNKNOWN_DEPARTMENT);

/** Writes a valid row's spool record (pass 1). */
class RowSpooler {
  constructor(
    private readonly layout: ColumnLayout,
    private readonly out: CsvSink,
    private readonly departments: DepartmentIds,
    private readonly missing: MissingValues,
  ) {}

  write(scanner: CsvScanner, buf: Buffer, row: RowCleaner): void {
    const layout = this.layout;
    const out = this.out;
    // Output bytes come from the record (quoting at most doubles a field) or are numbers.
    const recordBytes = scanner.recordEnd - scanner.recordStart;
    out.ensure(SPOOL_HEADER_BYTES + maxEncodedLength(recordBytes) * 2 + MAX_NUMBER_BYTES * (layout.inputNames.length + 4));
    const recordStart = out.pos;
    out.pos += SPOOL_HEADER_BYTES;
    let missing = 0;

    const segmentA = out.pos;
    if (row.idCanonical !== undefined) out.pos += out.buf.write(row.idCanonical, out.pos, 'latin1');
    else out.raw(scanner.bufferOf(layout.id, buf), scanner.starts[layout.id], scanner.ends[layout.id]);
    out.byte(CSV_COMMA);
    missing += this.inputField(scanner, buf, layout.name);
    out.byte(CSV_COMMA);
    const ageText = out.pos;
    if (row.age === row.age) this.number(scanner, buf, layout.age, row.age, row.ageIsCanonical);
    const salaryText = out.pos;
    if (row.salary === row.salary) this.number(scanner, buf, layout.salary, row.salary, row.salaryIsCanonical);

    const segmentB = out.pos;
    out.byte(CSV_COMMA);
    missing += this.inputField(scanner, buf, layout.hireDate);
    out.byte(CSV_COMMA);
    const dept = layout.department;
    const deptBuf = scanner.bufferOf(dept, buf);
    const deptStart = scanner.starts[dept];
    const deptEnd = scanner.ends[dept];
    let departmentId: number;
    if (this.missing.isMissing(deptBuf, deptStart, deptEnd)) {
      out.raw(UNKNOWN_BYTES, 0, UNKNOWN_BYTES.length);
      departmentId = this.departments.idOf(UNKNOWN_BYTES, 0, UNKNOWN_BYTES.length);
    } else {
      this.inputField(scanner, buf, dept);
      departmentId = this.departments.idOf(deptBuf, deptStart, deptEnd);
    }
    out.byte(CSV_COMMA);
    if (row.bonus === row.bonus) this.number(scanner, buf, layout.bonus, row.bonus, row.bonusIsCanonical);
    else missing++;
    if (row.bonus === 0 && 1 / row.bonus < 0) missing |= SPOOL_NEGATIVE_BONUS;
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

    const header = out.view;
    header.setInt32(recordStart + SPOOL_RECORD_LENGTH, out.pos - recordStart, true);
    header.setInt32(recordStart + SPOOL_SEGMENT_A, ageText - segmentA, true);
    header.setInt32(recordStart + SPOOL_AGE_TEXT, salaryText - ageText, true);
    header.setInt32(recordStart + SPOOL_SALARY_TEXT, segmentB - salaryText, true);
    header.setInt32(recordStart + SPOOL_SEGMENT_B, out.pos - segmentB, true);
    header.setInt32(recordStart + SPOOL_DEPARTMENT, departmentId, true);
    header.setInt32(recordStart + SPOOL_ADDRESS_LENGTH, row.addressLength, true);
    header.setInt32(recordStart + SPOOL_MISSING, missing, true);
    header.setFloat64(recordStart + SPOOL_AGE, row.age, true);
    header.setFloat64(recordStart + SPOOL_SALARY, row.salary, true);
    out.rows++;
  }

  /** Copies input field `f`; returns 1 when it is a missing value (written as an empty cell). */
  private inputField(scanner: CsvScanner, buf: Buffer, f: number): number {
    const src = scanner.bufferOf(f, buf);
    const start = scanner.starts[f];
    const end = scanner.ends[f];
    if (this.missing.isMissing(src, start, end)) return 1;
    // An unquoted input field cannot hold a delimiter, quote or line break: copy it as is.
    if (wasQuoted(scanner, f)) this.out.field(src, start, end);
    else this.out.raw(src, start, end);
    return 0;
  }

  /** Writes a float column's value: its input text when that is already how it prints. */
  private number(scanner: CsvScanner, buf: Buffer, f: number, value: number, canonical: boolean): void {
    const out = this.out;
    if (canonical) out.raw(scanner.bufferOf(f, buf), scanner.starts[f], scanner.ends[f]);
    else out.pos = writeFloat(out.buf, out.pos, value);
  }
}

export interface OutputSummary {
  readonly totalRows: number;
  readonly missingValues: number;
  readonly duplicateRows: number;
  readonly departments: DepartmentStatistics;
  /** Bytes the row hashes held (memory report). */
  readonly rowHashBytes: number;
}

/** Pass 2: spool → cleaned_data and transformed_data. */
export async function writeRows(
  spool: AsyncIterable<Buffer>,
  summary: InputSummary,
  cleaned: CsvSink,
  transformed: CsvSink,
  options: PassOptions,
): Promise<OutputSummary> {
  cleaned.record(summary.layout.cleanedNames);
  transformed.record(summary.layout.transformedNames);
  const emitter = new RowEmitter(summary, cleaned, transformed);
  const progress = new ProgressReporter(options.log, 'pass 2 (fill, derive, write)');
  const records = await readSpool(spool, (buf, view, offset) => {
    progress.tick();
    emitter.write(buf, view, offset);
  }, {
    signal: options.signal,
    afterChunk: () => Promise.all([cleaned.drain(), transformed.drain()]).then(() => undefined),
  });
  if (records !== summary.validRows) {
    throw new Error(`the spool holds ${records} rows, pass 1 wrote ${summary.validRows}`);
  }
  return {
    totalRows: transformed.rows,
    missingValues: emitter.missingValues,
    duplicateRows: emitter.duplicates.countDuplicates(),
    departments: emitter.departments,
    rowHashBytes: emitter.duplicates.capacityBytes,
  };
}

const SALARY_CATEGORY_BYTES = SALARY_CATEGORIES.map((c) => Buffer.from(c));
const AGE_GROUP_BYTES = AGE_GROUPS.map((g) => Buffer.from(g));

/** Writes one spooled row to cleaned_data and transformed_data (pass 2). */
class RowEmitter {
  missingValues = 0;
  readonly duplicates: DuplicateCounter;
  readonly departments: DepartmentStatistics;
  private readonly ageFill: number;
  private readonly salaryFill: number;
  private readonly ageFillText: Buffer;
  private readonly salaryFillText: Buffer;

  constructor(summary: InputSummary, private readonly cleaned: CsvSink, private readonly transformed: CsvSink) {
    this.duplicates = new DuplicateCounter(summary.validRows);
    this.departments = new DepartmentStatistics(summary.departments);
    this.ageFill = summary.ageMedian;
    this.salaryFill = summary.salaryMedian;
    this.ageFillText = Buffer.from(formatFloat(summary.ageMedian));
    this.salaryFillText = Buffer.from(formatFloat(summary.salaryMedian));
  }

  write(spool: Buffer, view: DataView, offset: number): void {
    const lengthA = view.getInt32(offset + SPOOL_SEGMENT_A, true);
    const ageTextLength = view.getInt32(offset + SPOOL_AGE_TEXT, true);
    const salaryTextLength = view.getInt32(offset + SPOOL_SALARY_TEXT, true);
    const lengthB = view.getInt32(offset + SPOOL_SEGMENT_B, true);
    const missingAndFlags = view.getInt32(offset + SPOOL_MISSING, true);
    let missing = missingAndFlags & ~SPOOL_NEGATIVE_BONUS;
    let age = view.getFloat64(offset + SPOOL_AGE, true);
    let salary = view.getFloat64(offset + SPOOL_SALARY, true);

    const out = this.transformed;
    out.ensure(view.getInt32(offset + SPOOL_RECORD_LENGTH, true) + this.ageFillText.length + this.salaryFillText.length + 64);
    const rowStart = out.pos;
    let p = offset + SPOOL_HEADER_BYTES;
    out.copyFrom(view, p, p + lengthA);
    p += lengthA;
    if (ageTextLength > 0) {
      out.raw(spool, p, p + ageTextLength);
      p += ageTextLength;
    } else {
      age = this.ageFill;
      if (this.ageFillText.length === 0) missing++;
      out.raw(this.ageFillText, 0, this.ageFillText.length);
    }
    out.byte(CSV_COMMA);
    if (salaryTextLength > 0) {
      out.raw(spool, p, p + salaryTextLength);
      p += salaryTextLength;
    } else {
      salary = this.salaryFill;
      if (this.salaryFillText.length === 0) missing++;
      out.raw(this.salaryFillText, 0, this.salaryFillText.length);
    }
    out.copyFrom(view, p, p + lengthB);
    const cleanedEnd = out.pos;

    const cleaned = this.cleaned;
    cleaned.ensure(cleanedEnd - rowStart + 1);
    cleaned.copyFrom(out.view, rowStart, cleanedEnd);
    cleaned.byte(CSV_LF);
    cleaned.rows++;

    out.byte(CSV_COMMA);
    out.pos = writeUnsignedInt(out.buf, out.pos, view.getInt32(offset + SPOOL_ADDRESS_LENGTH, true));
    out.byte(CSV_COMMA);
    const category = SALARY_CATEGORY_BYTES[salaryCategoryIndex(salary)];
    if (category.length === 0) missing++;
    out.raw(category, 0, category.length);
    out.byte(CSV_COMMA);
    const group = AGE_GROUP_BYTES[ageGroupIndex(age)];
    if (group.length === 0) missing++;
    out.raw(group, 0, group.length);
    if ((missingAndFlags & SPOOL_NEGATIVE_BONUS) !== 0 || (age === 0 && 1 / age < 0) || (salary === 0 && 1 / salary < 0)) {
      const row = withPositiveZeros(out.buf, rowStart, out.pos);
      this.duplicates.add(row, 0, row.length);
    } else {
      this.duplicates.add(out.buf, rowStart, out.pos);
    }
    out.byte(CSV_LF);
    out.rows++;

    this.missingValues += missing;
    this.departments.add(view.getInt32(offset + SPOOL_DEPARTMENT, true), salary, age);
  }
}
