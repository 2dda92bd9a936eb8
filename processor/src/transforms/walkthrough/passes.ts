/**
 * The two passes' work on one range of rows: what a worker thread runs (or the main thread, with
 * one thread). coordinator.ts hands out the ranges and merges the results in input order.
 *
 * Filling a missing age or salary needs the column's median before the first output row can be
 * written. Pass 1 reads the input once: it validates each row, writes rejected rows to
 * rejected_rows, collects the valid ages and salaries, and writes each valid row to the spool
 * (see spool.ts) as finished output bytes with gaps where the medians go. Pass 2 reads the spool
 * from local disk and writes cleaned_data and transformed_data, filling the gaps, deriving the
 * categories and hashing each row for the duplicate count; the department means are accumulated
 * from its per-row values in row order by the main thread.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, openSync } from 'node:fs';
import { RangeResult, scanRange } from './csv/ranges';
import { CsvScanner } from './csv/scanner';
import { CSV_COMMA, CSV_LF, CsvBuffer, maxEncodedLength, viewOf } from './csv/writer';
import { hashRow, rowHash } from './dedupe';
import { formatFloat, writeFloat, writeUnsignedInt } from './format';
import { MissingValues } from './missing';
import { Block, blockBytes } from './parallel/slots';
import type { ColumnKind } from './parquet/column';
import { CsvColumnEncoders, EncodedRange } from './parquet/csv-columns';
import {
  AGE_GROUPS, ColumnLayout, RowCleaner, SALARY_CATEGORIES, UNKNOWN_DEPARTMENT,
  ageGroupIndex, resolveColumns, salaryCategoryIndex, wasQuoted, withPositiveZeros,
} from './schema';
import {
  SPOOL_ADDRESS_LENGTH, SPOOL_AGE, SPOOL_AGE_TEXT, SPOOL_DEPARTMENT, SPOOL_HEADER_BYTES, SPOOL_MISSING, SPOOL_RECORD_LENGTH,
  SPOOL_NEGATIVE_BONUS, SPOOL_SALARY, SPOOL_SALARY_TEXT, SPOOL_SEGMENT_A, SPOOL_SEGMENT_B, forEachSpoolRecord,
} from './spool';
import { DepartmentIds, Float64Column, NO_DEPARTMENT_ID } from './stats';
import { readFullySync } from '../../runtime/io/local';
import type { NaValuesMode } from '../../runtime/transform';

export const REJECTED_COLUMNS = ['line', 'reason', 'record'] as const;

/** Pass 1 on one input range. */
export interface PrepareTask {
  readonly kind: 'prepare';
  /** Which run the range belongs to (a thread keeps per-run state: the layout, department ids). */
  readonly run: number;
  /** The input's header names. */
  readonly header: readonly string[];
  /** Which cells are missing values (SPEC §5). */
  readonly naValues: NaValuesMode;
  /** Departments the thread numbers at most (stats.ts DepartmentIds). */
  readonly departmentLimit: number;
  readonly input: Block;
  readonly last: boolean;
  /** Where the spool records go. */
  readonly spoolSlot: number;
  /** Where the valid ages (first half) and salaries (second half) go. */
  readonly valuesSlot: number;
}

export interface PrepareResult extends RangeResult {
  /** The thread that parsed the range: its department ids are in the spool records. */
  readonly thread: number;
  /** Data records in the consumed bytes. */
  readonly records: number;
  /** Spool records of the valid rows. */
  readonly spool: Block;
  readonly validRows: number;
  /** rejected_rows records without their line number (`reason,record\n` each), bytes [0, rejectedLength); none when no row was rejected. */
  readonly rejected?: ArrayBuffer;
  readonly rejectedLength: number;
  /** Per rejected row: its line within the range (1-based) and the end of its bytes in `rejected`. */
  readonly rejectedLines: readonly number[];
  /** The valid ages and salaries, in row order (read them with {@link rangeValues}). */
  readonly values: RangeValues;
  /** Department keys this thread met first in this range; their ids count up from departmentBase. */
  readonly departmentBase: number;
  readonly departmentKeys: readonly string[];
  /** Whether this thread has met more departments than it numbers (some rows carry their department's bytes). */
  readonly departmentsOverflowed: boolean;
}

/**
 * A range's valid ages and salaries: in its values slot (ages from the start, salaries from the
 * middle), or in arrays of their own when a column outgrew its half.
 */
export interface RangeValues {
  readonly slot: number;
  readonly ages: number;
  readonly salaries: number;
  readonly ownAges?: Float64Array;
  readonly ownSalaries?: Float64Array;
}

/** The halves of a values slot. */
function valueHalves(slot: ArrayBufferLike): [Float64Array, Float64Array] {
  const half = Math.floor(slot.byteLength / 16);
  return [new Float64Array(slot, 0, half), new Float64Array(slot, 8 * half, half)];
}

/** A range's ages and salaries, given the slots' buffers as this thread sees them. */
export function rangeValues(slots: readonly ArrayBufferLike[], values: RangeValues): { ages: Float64Array; salaries: Float64Array } {
  const [ages, salaries] = valueHalves(slots[values.slot]);
  return {
    ages: values.ownAges ?? ages.subarray(0, values.ages),
    salaries: values.ownSalaries ?? salaries.subarray(0, values.salaries),
  };
}

/** Pass 2 on one range of the spool. */
export interface WriteTask {
  readonly kind: 'write';
  readonly run: number;
  readonly spoolPath: string;
  readonly offset: number;
  readonly length: number;
  readonly rows: number;
  readonly ageMedian: number;
  readonly salaryMedian: number;
  /** Where cleaned_data's records, transformed_data's records and the {@link RowFacts} go. */
  readonly cleanedSlot: number;
  /** Whether cleaned_data is written as CSV: without it (Parquet only) its records are not copied. */
  readonly cleanedCsv: boolean;
  readonly transformedSlot: number;
  readonly factsSlot: number;
  /** With Parquet output: transformed_data's column types; the thread also encodes the range's rows as Parquet pages. */
  readonly parquetKinds?: readonly ColumnKind[];
  /** With Parquet output: where the pages go. */
  readonly parquetSlot?: number;
}

export interface WriteResult {
  readonly rows: number;
  readonly cleaned: Block;
  readonly transformed: Block;
  readonly missingValues: number;
  /** Per-row values in row order, laid out by {@link RowFacts}. */
  readonly facts: Block;
  /** The departments of rows without a department id, in row order, as {@link RowFacts.keys} holds them. */
  readonly departmentKeys?: ArrayBuffer;
  readonly departmentKeysLength: number;
  /** transformed_data's rows of the range as Parquet pages, one per column (with {@link WriteTask.parquetKinds}). */
  readonly parquet?: EncodedRange;
}

export type RangeTask = PrepareTask | WriteTask;
export type RangeTaskResult = PrepareResult | WriteResult;

/** What one thread keeps for a run. */
interface RunState {
  /** Pass 1: set by the run's first range on this thread. */
  reader?: RangeReaderState;
  /** Pass 2. */
  emitter?: RowEmitter;
  spoolFd?: number;
  /** Pass 2 with Parquet output. */
  parquet?: CsvColumnEncoders;
}

interface RangeReaderState {
  readonly layout: ColumnLayout;
  readonly scanner: CsvScanner;
  readonly missing: MissingValues;
  readonly cleaner: RowCleaner;
  readonly departments: DepartmentIds;
  /** Department keys already reported to the main thread. */
  reported: number;
}

function newReader(task: PrepareTask): RangeReaderState {
  const layout = resolveColumns(task.header);
  const missing = MissingValues.forMode(task.naValues);
  const cleaner = new RowCleaner(layout, { missing });
  const scanner = new CsvScanner();
  scanner.quotedValueReader = cleaner.profileReader;
  return { layout, scanner, missing, cleaner, departments: new DepartmentIds(task.departmentLimit), reported: 0 };
}

/** Bytes a pass-2 range reads from the spool at most before the buffer grows. */
const SPOOL_READ_BYTES = 2 * 1024 * 1024;

/**
 * Runs range tasks on one thread (a worker, or the main thread with one thread), reading and
 * writing the shared slots (slots.ts) the tasks name.
 */
export class RangeWorker {
  private readonly runs = new Map<number, RunState>();
  private readBuffer = Buffer.allocUnsafeSlow(SPOOL_READ_BYTES);

  constructor(readonly thread: number, private readonly slots: readonly ArrayBufferLike[]) {}

  /** Runs a task; also returns the buffers to transfer with the result. */
  run(task: RangeTask): { result: RangeTaskResult; transfer: ArrayBuffer[] } {
    if (task.kind === 'prepare') {
      const result = this.prepare(task);
      const transfer: ArrayBuffer[] = [];
      for (const own of [result.rejected, result.values.ownAges?.buffer, result.values.ownSalaries?.buffer]) {
        if (own !== undefined) transfer.push(own as ArrayBuffer);
      }
      return { result, transfer: ownBuffers([result.input, result.spool], transfer) };
    }
    const result = this.write(task);
    const transfer: ArrayBuffer[] = [];
    if (result.departmentKeys) transfer.push(result.departmentKeys);
    if (result.parquet?.own) transfer.push(result.parquet.own);
    return { result, transfer: ownBuffers([result.cleaned, result.transformed, result.facts], transfer) };
  }

  /** Pass 1 on one range: validate, reject, collect the medians' values, spool the valid rows. */
  prepare(task: PrepareTask): PrepareResult {
    const state = this.stateOf(task.run);
    const reader = (state.reader ??= newReader(task));
    const { cleaner, departments } = reader;
    const input = blockBytes(this.slots, task.input);
    const spool = new CsvBuffer(this.slots[task.spoolSlot]);
    const spooler = new RowSpooler(reader.layout, spool, departments, reader.missing);
    let rejected: CsvBuffer | undefined;
    const rejectedLines: number[] = [];
    const [ageHalf, salaryHalf] = valueHalves(this.slots[task.valuesSlot]);
    const ages = new Float64Column(ageHalf);
    const salaries = new Float64Column(salaryHalf);
    let records = 0;
    const { consumed, lines } = scanRange(reader.scanner, input, input.length, task.last, (scanner, buf) => {
      records++;
      if (!cleaner.check(scanner, buf)) {
        rejected ??= new CsvBuffer(4096);
        writeReject(rejected, scanner, buf, cleaner.reason);
        rejectedLines.push(scanner.line, rejected.pos);
        return;
      }
      if (cleaner.age === cleaner.age) ages.push(cleaner.age);
      if (cleaner.salary === cleaner.salary) salaries.push(cleaner.salary);
      spooler.write(scanner, buf, cleaner);
    });
    const departmentBase = reader.reported;
    reader.reported = departments.keys.length;
    return {
      thread: this.thread,
      input: task.input,
      consumed,
      lines,
      records,
      spool: this.blockOf(task.spoolSlot, spool),
      validRows: spool.rows,
      rejected: rejected?.buf.buffer as ArrayBuffer | undefined,
      rejectedLength: rejected?.pos ?? 0,
      rejectedLines,
      values: {
        slot: task.valuesSlot,
        ages: ages.length,
        salaries: salaries.length,
        ownAges: ages.grown ? ages.values() : undefined,
        ownSalaries: salaries.grown ? salaries.values() : undefined,
      },
      departmentBase,
      departmentKeys: departments.keys.slice(departmentBase),
      departmentsOverflowed: departments.overflowed,
    };
  }

  /** Pass 2 on one range of the spool: fill, derive, hash. */
  write(task: WriteTask): WriteResult {
    const state = this.stateOf(task.run);
    const emitter = (state.emitter ??= new RowEmitter(task.ageMedian, task.salaryMedian));
    state.spoolFd ??= openSync(task.spoolPath, 'r');
    const spool = this.readSpool(state.spoolFd, task.offset, task.length);
    const cleaned = new CsvBuffer(this.slots[task.cleanedSlot]);
    const transformed = new CsvBuffer(this.slots[task.transformedSlot]);
    const factsBytes = RowFacts.bytesFor(task.rows);
    const factsMemory = factsBytes <= this.slots[task.factsSlot].byteLength ? this.slots[task.factsSlot] : new ArrayBuffer(factsBytes);
    const facts = new RowFacts(factsMemory, task.rows);
    const missingBefore = emitter.missingValues;
    emitter.begin(task.cleanedCsv ? cleaned : undefined, transformed, facts);
    const records = forEachSpoolRecord(spool, task.length, (view, offset) => emitter.write(view, offset));
    if (records !== task.rows) throw new Error(`the spool range holds ${records} rows, pass 1 wrote ${task.rows}`);
    // Parquet pages from the CSV bytes just written: the same values by construction.
    const { parquetKinds, parquetSlot } = task;
    const parquet = parquetKinds === undefined || parquetSlot === undefined || records === 0
      ? undefined
      : (state.parquet ??= new CsvColumnEncoders(parquetKinds)).encode(transformed.buf, 0, transformed.pos, parquetSlot, this.slots[parquetSlot]);
    return {
      parquet,
      rows: records,
      cleaned: this.blockOf(task.cleanedSlot, cleaned),
      transformed: this.blockOf(task.transformedSlot, transformed),
      missingValues: emitter.missingValues - missingBefore,
      facts: {
        slot: task.factsSlot,
        length: factsBytes,
        own: factsMemory === this.slots[task.factsSlot] ? undefined : (factsMemory as ArrayBuffer),
      },
      departmentKeys: facts.keys?.buf.buffer as ArrayBuffer | undefined,
      departmentKeysLength: facts.keys?.pos ?? 0,
    };
  }

  /** Forgets a run (and closes its spool file). */
  end(run: number): void {
    const state = this.runs.get(run);
    if (state?.spoolFd !== undefined) closeSync(state.spoolFd);
    this.runs.delete(run);
  }

  /** What `out` wrote into slot `slot`, or into a buffer of its own when it outgrew the slot. */
  private blockOf(slot: number, out: CsvBuffer): Block {
    const memory = out.buf.buffer;
    return { slot, length: out.pos, own: memory === this.slots[slot] ? undefined : (memory as ArrayBuffer) };
  }

  private stateOf(run: number): RunState {
    let state = this.runs.get(run);
    if (state === undefined) {
      state = {};
      this.runs.set(run, state);
    }
    return state;
  }

  private readSpool(fd: number, offset: number, length: number): Buffer {
    if (this.readBuffer.length < length) this.readBuffer = Buffer.allocUnsafeSlow(length);
    readFullySync(fd, this.readBuffer, length, offset, 'the spool file');
    return this.readBuffer;
  }
}

/** The buffers among `blocks` that are their own (not slots), added to `transfer`. */
function ownBuffers(blocks: readonly Block[], transfer: ArrayBuffer[]): ArrayBuffer[] {
  for (const block of blocks) if (block.own !== undefined && !transfer.includes(block.own)) transfer.push(block.own);
  return transfer;
}

/**
 * rejected_rows without the line number, which the main thread puts in front (a range does not
 * know on which input line it starts): the reason and the record's raw text (with invalid UTF-8
 * sequences replaced by U+FFFD, so the file itself stays valid UTF-8).
 */
function writeReject(out: CsvBuffer, scanner: CsvScanner, buf: Buffer, reason: string): void {
  const reasonBytes = Buffer.from(reason, 'utf8');
  let raw = buf;
  let rawStart = scanner.recordStart;
  let rawEnd = scanner.recordEnd;
  if (scanner.nonAscii && !isUtf8(buf.subarray(rawStart, rawEnd))) {
    raw = Buffer.from(buf.toString('utf8', rawStart, rawEnd), 'utf8');
    rawStart = 0;
    rawEnd = raw.length;
  }
  out.ensure(maxEncodedLength(reasonBytes.length) + maxEncodedLength(rawEnd - rawStart) + 4);
  out.field(reasonBytes, 0, reasonBytes.length);
  out.byte(CSV_COMMA);
  out.field(raw, rawStart, rawEnd);
  out.byte(CSV_LF);
  out.rows++;
}

/** Room for a formatted float64 (Python repr is at most 24 characters) or an int32, and a delimiter. */
const MAX_NUMBER_BYTES = 32;
const UNKNOWN_BYTES = Buffer.from(UNKNOWN_DEPARTMENT);
/** As a DataView, so writing it does not switch raw()'s source view away from the input (see SALARY_CATEGORY_VIEWS). */
const UNKNOWN_VIEW = viewOf(UNKNOWN_BYTES);

/** Writes a valid row's spool record (pass 1). */
class RowSpooler {
  /** id, name, age, salary, hire_date are the input's first five columns, in that order (as in the seed). */
  private readonly inSeedOrder: boolean;

  constructor(
    private readonly layout: ColumnLayout,
    private readonly out: CsvBuffer,
    private readonly departments: DepartmentIds,
    private readonly missing: MissingValues,
  ) {
    this.inSeedOrder = layout.id === 0 && layout.name === 1 && layout.age === 2 && layout.salary === 3 && layout.hireDate === 4;
  }

  write(scanner: CsvScanner, buf: Buffer, row: RowCleaner): void {
    const layout = this.layout;
    const out = this.out;
    // Output bytes come from the record (quoting at most doubles a field) or are numbers.
    const recordBytes = scanner.recordEnd - scanner.recordStart;
    // The department's bytes may follow the body (a department without an id): at most the record's, or Unknown.
    out.ensure(SPOOL_HEADER_BYTES + maxEncodedLength(recordBytes) * 2 + recordBytes + UNKNOWN_BYTES.length
      + MAX_NUMBER_BYTES * (layout.inputNames.length + 4));
    const recordStart = out.pos;
    out.pos += SPOOL_HEADER_BYTES;
    let missing = 0;

    const segmentA = out.pos;
    let ageText: number;
    let salaryText: number;
    let segmentB: number;
    if (this.inSeedOrder && this.copiesAsIs(scanner, buf, row)) {
      // `id,name,age,salary,hire_date` is the input's bytes: one copy instead of five fields.
      const starts = scanner.starts;
      const ends = scanner.ends;
      const from = starts[layout.id];
      ageText = segmentA + starts[layout.age] - from;
      salaryText = segmentA + starts[layout.salary] - from;
      segmentB = segmentA + ends[layout.salary] - from;
      out.raw(buf, from, ends[layout.hireDate]);
    } else {
      if (row.idCanonical !== undefined) out.pos += out.buf.write(row.idCanonical, out.pos, 'latin1');
      else out.raw(scanner.bufferOf(layout.id, buf), scanner.starts[layout.id], scanner.ends[layout.id]);
      out.byte(CSV_COMMA);
      missing += this.inputField(scanner, buf, layout.name);
      out.byte(CSV_COMMA);
      ageText = out.pos;
      if (row.age === row.age) this.number(scanner, buf, layout.age, row.age, row.ageIsCanonical);
      out.byte(CSV_COMMA);
      salaryText = out.pos;
      if (row.salary === row.salary) this.number(scanner, buf, layout.salary, row.salary, row.salaryIsCanonical);
      segmentB = out.pos;
      out.byte(CSV_COMMA);
      missing += this.inputField(scanner, buf, layout.hireDate);
    }
    out.byte(CSV_COMMA);
    const dept = layout.department;
    const deptBuf = scanner.bufferOf(dept, buf);
    const deptStart = scanner.starts[dept];
    const deptEnd = scanner.ends[dept];
    let departmentId: number;
    const departmentMissing = this.missing.isMissing(deptBuf, deptStart, deptEnd);
    if (departmentMissing) {
      out.copyFrom(UNKNOWN_VIEW, 0, UNKNOWN_BYTES.length);
      departmentId = this.departments.idOf(UNKNOWN_BYTES, 0, UNKNOWN_BYTES.length);
    } else {
      if (wasQuoted(scanner, dept)) out.field(deptBuf, deptStart, deptEnd);
      else out.raw(deptBuf, deptStart, deptEnd);
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
      else if (profile.plain) out.plainField(profile.bufs[k], profile.starts[k], profile.ends[k], profile.commas[k] !== 0);
      else out.field(profile.bufs[k], profile.starts[k], profile.ends[k]);
    }
    const extras = layout.extras;
    for (let x = 0; x < extras.length; x++) {
      out.byte(CSV_COMMA);
      missing += this.inputField(scanner, buf, extras[x]);
    }

    const bodyEnd = out.pos;
    if (departmentId === NO_DEPARTMENT_ID) {
      if (departmentMissing) this.appendDepartment(UNKNOWN_BYTES, 0, UNKNOWN_BYTES.length);
      else this.appendDepartment(deptBuf, deptStart, deptEnd);
    }

    const header = out.view;
    header.setInt32(recordStart + SPOOL_RECORD_LENGTH, out.pos - recordStart, true);
    header.setInt32(recordStart + SPOOL_SEGMENT_A, ageText - segmentA, true);
    header.setInt32(recordStart + SPOOL_AGE_TEXT, salaryText - 1 - ageText, true);
    header.setInt32(recordStart + SPOOL_SALARY_TEXT, segmentB - salaryText, true);
    header.setInt32(recordStart + SPOOL_SEGMENT_B, bodyEnd - segmentB, true);
    header.setInt32(recordStart + SPOOL_DEPARTMENT, departmentId, true);
    header.setInt32(recordStart + SPOOL_ADDRESS_LENGTH, row.addressLength, true);
    header.setInt32(recordStart + SPOOL_MISSING, missing, true);
    header.setFloat64(recordStart + SPOOL_AGE, row.age, true);
    header.setFloat64(recordStart + SPOOL_SALARY, row.salary, true);
    out.rows++;
  }

  /**
   * Appends the department's bytes after the record's body: it got no id (too many departments),
   * so pass 2 reads it there. Rare, and kept out of write() so its hot code stays small.
   */
  private appendDepartment(src: Uint8Array, start: number, end: number): void {
    this.out.buf.set(src.subarray(start, end), this.out.pos);
    this.out.pos += end - start;
  }

  /**
   * Whether id, name, age, salary and hire_date print as their input bytes: unquoted, the id and the
   * numbers already in their printed form (or a number cell empty), name and hire_date present.
   */
  private copiesAsIs(scanner: CsvScanner, buf: Buffer, row: RowCleaner): boolean {
    const { id, name, age, salary, hireDate } = this.layout;
    const flags = scanner.flags;
    if ((flags[id] | flags[name] | flags[age] | flags[salary] | flags[hireDate]) !== 0 || row.idCanonical !== undefined) return false;
    const starts = scanner.starts;
    const ends = scanner.ends;
    if (row.age === row.age ? !row.ageIsCanonical : starts[age] !== ends[age]) return false;
    if (row.salary === row.salary ? !row.salaryIsCanonical : starts[salary] !== ends[salary]) return false;
    return !this.missing.isMissing(buf, starts[name], ends[name]) && !this.missing.isMissing(buf, starts[hireDate], ends[hireDate]);
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

/** The labels as DataViews: copied by copyFrom directly, not switching raw()'s source view every row. */
const SALARY_CATEGORY_VIEWS = SALARY_CATEGORIES.map((c) => viewOf(Buffer.from(c)));
const AGE_GROUP_VIEWS = AGE_GROUPS.map((g) => viewOf(Buffer.from(g)));

/** Writes one spooled row to cleaned_data and transformed_data (pass 2), a range at a time. */
class RowEmitter {
  missingValues = 0;
  /** Where the current range goes (see {@link begin}). */
  private cleaned: CsvBuffer | undefined;
  private transformed!: CsvBuffer;
  private facts!: RowFacts;
  private readonly ageFill: number;
  private readonly salaryFill: number;
  /** The medians' text, as DataViews (see SALARY_CATEGORY_VIEWS). */
  private readonly ageFillText: DataView;
  private readonly salaryFillText: DataView;

  constructor(ageMedian: number, salaryMedian: number) {
    this.ageFill = ageMedian;
    this.salaryFill = salaryMedian;
    this.ageFillText = viewOf(Buffer.from(formatFloat(ageMedian)));
    this.salaryFillText = viewOf(Buffer.from(formatFloat(salaryMedian)));
  }

  /** Directs the next rows' output and per-row values (the row hashes and the department means' inputs). */
  begin(cleaned: CsvBuffer | undefined, transformed: CsvBuffer, facts: RowFacts): void {
    this.cleaned = cleaned;
    this.transformed = transformed;
    this.facts = facts;
  }

  write(view: DataView, offset: number): void {
    const lengthA = view.getInt32(offset + SPOOL_SEGMENT_A, true);
    const ageTextLength = view.getInt32(offset + SPOOL_AGE_TEXT, true);
    const salaryTextLength = view.getInt32(offset + SPOOL_SALARY_TEXT, true);
    const lengthB = view.getInt32(offset + SPOOL_SEGMENT_B, true);
    const missingAndFlags = view.getInt32(offset + SPOOL_MISSING, true);
    let missing = missingAndFlags & ~SPOOL_NEGATIVE_BONUS;
    let age = view.getFloat64(offset + SPOOL_AGE, true);
    let salary = view.getFloat64(offset + SPOOL_SALARY, true);

    const out = this.transformed;
    out.ensure(view.getInt32(offset + SPOOL_RECORD_LENGTH, true) + this.ageFillText.byteLength + this.salaryFillText.byteLength + 64);
    const rowStart = out.pos;
    const p = offset + SPOOL_HEADER_BYTES;
    const bodyEnd = p + lengthA + ageTextLength + 1 + salaryTextLength + lengthB;
    if (ageTextLength > 0 && salaryTextLength > 0) {
      // Nothing to fill: the record's body is the cleaned row.
      out.copyFrom(view, p, bodyEnd);
    } else {
      const salaryAt = p + lengthA + ageTextLength + 1;
      out.copyFrom(view, p, p + lengthA + ageTextLength);
      if (ageTextLength === 0) {
        age = this.ageFill;
        if (this.ageFillText.byteLength === 0) missing++;
        out.copyFrom(this.ageFillText, 0, this.ageFillText.byteLength);
      }
      out.byte(CSV_COMMA);
      if (salaryTextLength === 0) {
        salary = this.salaryFill;
        if (this.salaryFillText.byteLength === 0) missing++;
        out.copyFrom(this.salaryFillText, 0, this.salaryFillText.byteLength);
      }
      out.copyFrom(view, salaryAt, bodyEnd);
    }
    const cleanedEnd = out.pos;

    const cleaned = this.cleaned;
    if (cleaned !== undefined) {
      cleaned.ensure(cleanedEnd - rowStart + 1);
      cleaned.copyFrom(out.view, rowStart, cleanedEnd);
      cleaned.byte(CSV_LF);
      cleaned.rows++;
    }

    out.byte(CSV_COMMA);
    out.pos = writeUnsignedInt(out.buf, out.pos, view.getInt32(offset + SPOOL_ADDRESS_LENGTH, true));
    out.byte(CSV_COMMA);
    const category = salaryCategoryIndex(salary);
    if (category === 0) missing++;
    out.copyFrom(SALARY_CATEGORY_VIEWS[category], 0, SALARY_CATEGORY_VIEWS[category].byteLength);
    out.byte(CSV_COMMA);
    const group = ageGroupIndex(age);
    if (group === 0) missing++;
    out.copyFrom(AGE_GROUP_VIEWS[group], 0, AGE_GROUP_VIEWS[group].byteLength);
    if ((missingAndFlags & SPOOL_NEGATIVE_BONUS) !== 0 || (age === 0 && 1 / age < 0) || (salary === 0 && 1 / salary < 0)) {
      // Duplicates compare values: -0.0 equals 0.0, so such a row is hashed as its positive-zero spelling.
      const row = withPositiveZeros(out.buf, rowStart, out.pos);
      this.facts.addHash(new DataView(row.buffer, row.byteOffset, row.length), 0, row.length);
    } else {
      this.facts.addHash(out.view, rowStart, out.pos);
    }
    out.byte(CSV_LF);
    out.rows++;

    this.missingValues += missing;
    const departmentId = view.getInt32(offset + SPOOL_DEPARTMENT, true);
    if (departmentId === NO_DEPARTMENT_ID) this.facts.addDepartmentKey(view, bodyEnd, offset + view.getInt32(offset + SPOOL_RECORD_LENGTH, true));
    this.facts.addMeans(departmentId, salary, age);
  }
}

/**
 * Per-row values of one pass-2 range that the main thread needs in row order: each row's 64-bit
 * hash (duplicate count) and its department id, salary and age (department means, which must be
 * summed in row order to give pandas' digits). 28 bytes per row, in one transferable buffer; the
 * department of a row without a department id in {@link keys}.
 */
export class RowFacts {
  static bytesFor(rows: number): number {
    return Math.max(1, rows) * 28;
  }

  readonly salaries: Float64Array;
  readonly ages: Float64Array;
  /** Two 32-bit words per row (rowHash[0], rowHash[1]). */
  readonly hashes: Uint32Array;
  readonly departmentIds: Int32Array;
  /** The departments of rows whose id is NO_DEPARTMENT_ID, in row order: a uint32 length, then the bytes. */
  keys: CsvBuffer | undefined;
  private hashed = 0;
  private counted = 0;

  constructor(readonly buffer: ArrayBufferLike, rows: number) {
    const n = Math.max(1, rows);
    this.salaries = new Float64Array(buffer, 0, n);
    this.ages = new Float64Array(buffer, 8 * n, n);
    this.hashes = new Uint32Array(buffer, 16 * n, 2 * n);
    this.departmentIds = new Int32Array(buffer, 24 * n, n);
  }

  /** Records the hash of the row in bytes [start, end) of `bytes` (its transformed_data bytes). */
  addHash(bytes: DataView, start: number, end: number): void {
    hashRow(bytes, start, end);
    this.hashes[2 * this.hashed] = rowHash[0];
    this.hashes[2 * this.hashed + 1] = rowHash[1];
    this.hashed++;
  }

  /** Records the department of a row without a department id: bytes [start, end) of `bytes` (UTF-8 text). */
  addDepartmentKey(bytes: DataView, start: number, end: number): void {
    const keys = (this.keys ??= new CsvBuffer(4096));
    keys.ensure(4 + end - start);
    keys.view.setUint32(keys.pos, end - start, true);
    keys.pos += 4;
    keys.copyFrom(bytes, start, end);
  }

  /** Records a row's department (this range's thread's pass-1 id), salary and age, both filled. */
  addMeans(departmentId: number, salary: number, age: number): void {
    this.departmentIds[this.counted] = departmentId;
    this.salaries[this.counted] = salary;
    this.ages[this.counted] = age;
    this.counted++;
  }
}

