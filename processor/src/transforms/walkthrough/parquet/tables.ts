/**
 * The walkthrough's three tables as Parquet files (SPEC §15): their column types, and the writers
 * the main thread feeds — cleaned_data and transformed_data from the pages the threads encoded in
 * pass 2, department_statistics from its rows.
 *
 * Row groups: a row group is written when the pages gathered for it reach 32 MiB compressed
 * (about 700,000 rows of transformed_data at 2,000,000 seed-shaped rows: three row groups), or at
 * the end. The pages are held in memory until their row group is written (a column chunk is one
 * column's pages, contiguous), so this bounds the Parquet output's memory; 32 MiB also gives
 * readers a few row groups to split a file by (DuckDB and Athena read row groups in parallel) while
 * staying well inside the job's 256 MB. cleaned_data's columns are the first columns of
 * transformed_data, so both files are written from the same pages.
 */
import type { Writable } from 'node:stream';
import { ColumnEncoder, ColumnKind, pageBytes } from './column';
import type { EncodedRange } from './csv-columns';
import { ParquetFileWriter, PendingRowGroup, TableColumn } from './table-file';

export const ROW_GROUP_BYTES = 32 * 1024 * 1024;

const INT64_COLUMNS = new Set(['id', 'address_length']);
const DOUBLE_COLUMNS = new Set(['age', 'salary', 'bonus']);

/** The Parquet type of each of cleaned_data's or transformed_data's columns: id and address_length int64, age/salary/bonus double, the rest (carried-through columns too) strings. */
export function rowTableColumns(names: readonly string[]): TableColumn[] {
  return names.map((name) => ({ name, kind: columnKind(name) }));
}

function columnKind(name: string): ColumnKind {
  if (INT64_COLUMNS.has(name)) return 'int64';
  if (DOUBLE_COLUMNS.has(name)) return 'double';
  return 'string';
}

/** department_statistics' columns in snake_case (names that Glue and Athena accept as they are). */
export const DEPARTMENT_STATISTICS_TABLE: readonly TableColumn[] = [
  { name: 'department', kind: 'string' },
  { name: 'average_salary', kind: 'double' },
  { name: 'average_age', kind: 'double' },
];

/** cleaned_data and transformed_data as Parquet, from the threads' pages of transformed_data, range by range in row order. */
export class RowTablesWriter {
  private readonly pending: PendingRowGroup;
  private readonly cleaned: ParquetFileWriter;
  private readonly transformed: ParquetFileWriter;

  constructor(
    cleanedNames: readonly string[],
    transformedNames: readonly string[],
    cleanedOut: Writable,
    transformedOut: Writable,
    private readonly rowGroupBytes = ROW_GROUP_BYTES,
  ) {
    const columns = rowTableColumns(transformedNames);
    if (cleanedNames.some((name, c) => name !== transformedNames[c])) throw new Error('cleaned_data\'s columns must be the first of transformed_data\'s');
    this.pending = new PendingRowGroup(columns.length);
    this.cleaned = new ParquetFileWriter(cleanedOut, columns.slice(0, cleanedNames.length));
    this.transformed = new ParquetFileWriter(transformedOut, columns);
  }

  /** The column types the threads encode transformed_data's rows with. */
  get kinds(): ColumnKind[] {
    return this.transformed.columns.map((c) => c.kind);
  }

  /**
   * Adds a range's pages, from `bytes` (copied before this returns: the caller may reuse them at
   * once); the promise resolves after a row group is written, when enough pages have gathered.
   */
  add(range: EncodedRange, bytes: Uint8Array): Promise<void> | undefined {
    this.pending.addRange(range, bytes);
    return this.pending.bytes >= this.rowGroupBytes ? this.flush() : undefined;
  }

  /** Writes the last row group and both footers; resolves with the files' sizes. */
  async finish(): Promise<{ cleanedBytes: number; transformedBytes: number; rows: number }> {
    await this.flush();
    const [cleanedBytes, transformedBytes] = await Promise.all([this.cleaned.finish(), this.transformed.finish()]);
    return { cleanedBytes, transformedBytes, rows: this.transformed.rows };
  }

  destroy(): void {
    this.cleaned.destroy();
    this.transformed.destroy();
  }

  private async flush(): Promise<void> {
    await Promise.all([this.cleaned.writeRowGroup(this.pending), this.transformed.writeRowGroup(this.pending)]);
    this.pending.clear();
  }
}

/** Rows per page of department_statistics (a page per column holds this many rows at most). */
const DEPARTMENT_PAGE_ROWS = 65_536;

/** department_statistics as Parquet, row by row (sorted by department, as its CSV). */
export class DepartmentTableWriter {
  private readonly encoders = DEPARTMENT_STATISTICS_TABLE.map((c) => new ColumnEncoder(c.kind));
  private readonly pending = new PendingRowGroup(DEPARTMENT_STATISTICS_TABLE.length);
  private readonly file: ParquetFileWriter;

  constructor(out: Writable, private readonly rowGroupBytes = ROW_GROUP_BYTES) {
    this.file = new ParquetFileWriter(out, DEPARTMENT_STATISTICS_TABLE);
  }

  /** A department (UTF-8 bytes [start, end) of `key`) and its means. */
  add(key: Uint8Array, start: number, end: number, averageSalary: number, averageAge: number): void {
    const [department, salary, age] = this.encoders;
    department.addString(key, start, end);
    addNullableDouble(salary, averageSalary);
    addNullableDouble(age, averageAge);
    if (department.pending >= DEPARTMENT_PAGE_ROWS) this.page();
  }

  /** Writes a row group when enough pages have gathered (call between rows, as a CSV sink's drain). */
  async drain(): Promise<void> {
    if (this.pending.bytes >= this.rowGroupBytes) await this.flush();
  }

  async finish(): Promise<{ bytes: number; rows: number }> {
    this.page();
    await this.flush();
    const bytes = await this.file.finish();
    return { bytes, rows: this.file.rows };
  }

  destroy(): void {
    this.file.destroy();
  }

  private page(): void {
    const rows = this.encoders[0].pending;
    if (rows > 0) this.pending.addPages(this.encoders.map((e) => pageBytes(e.page())), rows);
  }

  private async flush(): Promise<void> {
    await this.file.writeRowGroup(this.pending);
    this.pending.clear();
  }
}

/** A mean: NaN (no valid value; the CSV cell is empty) is a null. */
function addNullableDouble(encoder: ColumnEncoder, value: number): void {
  if (value === value) encoder.addDouble(value);
  else encoder.addNull();
}
