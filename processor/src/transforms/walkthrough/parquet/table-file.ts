/**
 * A Parquet file written from column pages the threads encoded (column.ts): the main thread
 * gathers a row group's pages per column, in row order, writes each column's pages one after the
 * other (a column chunk), and at the end the footer: the schema, each row group's column chunks
 * with their offsets, sizes and statistics (min, max, null count), then its length and `PAR1`.
 * Spec: apache/parquet-format (parquet.thrift, format version 1 data pages).
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ColumnKind, EncodedColumn, PHYSICAL_TYPE } from './column';
import { CompactType, CompactWriter } from './compact';
import type { EncodedRange } from './csv-columns';

export interface TableColumn {
  readonly name: string;
  readonly kind: ColumnKind;
}

const MAGIC = Buffer.from('PAR1', 'latin1');
const REPETITION_OPTIONAL = 1;
const CONVERTED_TYPE_UTF8 = 0;
const CODEC_SNAPPY = 1;
const ENCODING_PLAIN = 0;
const ENCODING_RLE = 3;
export const CREATED_BY = 'cdk-mlops-eks processor';

/** What a column chunk's metadata needs of one of its pages. */
export type PageFacts = Omit<EncodedColumn, 'bytes'>;

/**
 * Rows waiting to become a row group: each column's pages, in row order, copied into a buffer of
 * the column's (its column chunk as it will be written). The buffers are kept from row group to
 * row group, so a range's pages are garbage as soon as they are copied: holding the threads'
 * buffers until a row group was written left tens of megabytes for the garbage collector at a time.
 */
export class PendingRowGroup {
  /** Each column's pages, in row order. */
  readonly pages: PageFacts[][];
  rows = 0;
  /** Compressed bytes of all the pages. */
  bytes = 0;
  private readonly chunks: Buffer[];
  private readonly used: number[];

  constructor(columns: number) {
    this.pages = Array.from({ length: columns }, () => []);
    this.chunks = Array.from({ length: columns }, () => Buffer.allocUnsafe(64 * 1024));
    this.used = Array.from({ length: columns }, () => 0);
  }

  /** Adds a range's pages (one per column) that a thread encoded into `bytes` (copied: the caller may reuse them). */
  addRange(range: EncodedRange, bytes: Uint8Array): void {
    range.columns.forEach(({ offset, length, ...facts }, c) => this.append(c, facts, bytes.subarray(offset, offset + length)));
    this.rows += range.rows;
  }

  /** Adds one page per column for `rows` rows. */
  addPages(pages: readonly EncodedColumn[], rows: number): void {
    pages.forEach(({ bytes, ...facts }, c) => this.append(c, facts, bytes));
    this.rows += rows;
  }

  /** Column `c`'s pages, one after the other. */
  chunk(c: number): Buffer {
    return this.chunks[c].subarray(0, this.used[c]);
  }

  /** Forgets the rows (call once the row group is written: the buffers are reused). */
  clear(): void {
    for (const pages of this.pages) pages.length = 0;
    this.used.fill(0);
    this.rows = 0;
    this.bytes = 0;
  }

  private append(c: number, facts: PageFacts, bytes: Uint8Array): void {
    const used = this.used[c];
    if (used + bytes.length > this.chunks[c].length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.chunks[c].length, used + bytes.length));
      this.chunks[c].copy(grown, 0, 0, used);
      this.chunks[c] = grown;
    }
    this.chunks[c].set(bytes, used);
    this.used[c] = used + bytes.length;
    this.pages[c].push(facts);
    this.bytes += bytes.length;
  }
}

interface ChunkMeta {
  readonly offset: number;
  readonly values: number;
  readonly nulls: number;
  readonly compressed: number;
  readonly uncompressed: number;
  readonly min?: Uint8Array;
  readonly max?: Uint8Array;
}

interface RowGroupMeta {
  readonly rows: number;
  readonly chunks: readonly ChunkMeta[];
}

/** Writes one Parquet file to a stream: row groups, then the footer. */
export class ParquetFileWriter {
  private offset = 0;
  private readonly rowGroups: RowGroupMeta[] = [];
  private rowCount = 0;

  /** `columns` are the first columns of the row groups it is given (a table may take a prefix of another's). */
  constructor(private readonly out: Writable, readonly columns: readonly TableColumn[]) {}

  /** Bytes written so far (the file's size once finished). */
  get bytes(): number {
    return this.offset;
  }

  get rows(): number {
    return this.rowCount;
  }

  /**
   * Writes the pending rows as one row group (its first `columns.length` columns); resolves once
   * the stream has taken every byte (the group's buffers may then be reused).
   */
  async writeRowGroup(group: PendingRowGroup): Promise<void> {
    if (group.rows === 0) return;
    if (this.offset === 0) await this.write(MAGIC);
    const chunks: ChunkMeta[] = [];
    for (let c = 0; c < this.columns.length; c++) {
      const pages = group.pages[c];
      const offset = this.offset;
      let values = 0;
      let nulls = 0;
      let uncompressed = 0;
      for (const page of pages) {
        values += page.values;
        nulls += page.nulls;
        uncompressed += page.uncompressedBytes;
      }
      if (values !== group.rows) throw new Error(`Parquet: column ${this.columns[c].name} has ${values} values for ${group.rows} rows`);
      await this.write(group.chunk(c));
      chunks.push({ offset, values, nulls, compressed: this.offset - offset, uncompressed, ...mergedStatistics(this.columns[c].kind, pages) });
    }
    this.rowGroups.push({ rows: group.rows, chunks });
    this.rowCount += group.rows;
  }

  /** Writes the footer and ends the stream; resolves with the file's size. */
  async finish(): Promise<number> {
    if (this.offset === 0) await this.write(MAGIC);
    const footer = this.footer();
    const tail = Buffer.allocUnsafe(8);
    tail.writeUInt32LE(footer.length, 0);
    MAGIC.copy(tail, 4);
    await this.write(footer);
    await this.write(tail);
    this.out.end();
    await finished(this.out);
    return this.offset;
  }

  /** Stops writing after a failure (the staged file is discarded by its target). */
  destroy(): void {
    this.out.destroy();
  }

  /** Writes `bytes`; resolves once the stream has written them (the caller may then change them). */
  private async write(bytes: Uint8Array): Promise<void> {
    this.offset += bytes.length;
    await new Promise<void>((resolve, reject) => this.out.write(bytes, (error) => (error ? reject(error) : resolve())));
  }

  /** FileMetaData (parquet.thrift). */
  private footer(): Buffer {
    const w = new CompactWriter();
    w.i32(1, 1); // version
    w.listBegin(2, CompactType.STRUCT, this.columns.length + 1);
    w.elementBegin();
    w.string(4, 'schema');
    w.i32(5, this.columns.length);
    w.structEnd();
    for (const column of this.columns) {
      w.elementBegin();
      w.i32(1, PHYSICAL_TYPE[column.kind]);
      w.i32(3, REPETITION_OPTIONAL);
      w.string(4, column.name);
      if (column.kind === 'string') {
        w.i32(6, CONVERTED_TYPE_UTF8);
        w.structBegin(10); // LogicalType
        w.structBegin(1); // STRING
        w.structEnd();
        w.structEnd();
      }
      w.structEnd();
    }
    w.i64(3, this.rowCount);
    w.listBegin(4, CompactType.STRUCT, this.rowGroups.length);
    this.rowGroups.forEach((group, ordinal) => this.rowGroup(w, group, ordinal));
    w.string(6, CREATED_BY);
    w.listBegin(7, CompactType.STRUCT, this.columns.length);
    for (let c = 0; c < this.columns.length; c++) {
      // ColumnOrder { TYPE_ORDER: TypeDefinedOrder {} }: min/max compare as the type orders (UTF-8: unsigned bytes).
      w.elementBegin();
      w.structBegin(1);
      w.structEnd();
      w.structEnd();
    }
    return Buffer.from(w.end());
  }

  private rowGroup(w: CompactWriter, group: RowGroupMeta, ordinal: number): void {
    w.elementBegin();
    w.listBegin(1, CompactType.STRUCT, group.chunks.length);
    let uncompressed = 0;
    let compressed = 0;
    group.chunks.forEach((chunk, c) => {
      uncompressed += chunk.uncompressed;
      compressed += chunk.compressed;
      const column = this.columns[c];
      w.elementBegin();
      w.i64(2, chunk.offset); // file_offset
      w.structBegin(3); // ColumnMetaData
      w.i32(1, PHYSICAL_TYPE[column.kind]);
      w.listBegin(2, CompactType.I32, 2);
      w.elementI32(ENCODING_PLAIN);
      w.elementI32(ENCODING_RLE);
      w.listBegin(3, CompactType.BINARY, 1);
      w.elementString(column.name);
      w.i32(4, CODEC_SNAPPY);
      w.i64(5, chunk.values);
      w.i64(6, chunk.uncompressed);
      w.i64(7, chunk.compressed);
      w.i64(9, chunk.offset); // data_page_offset
      w.structBegin(12); // Statistics
      w.i64(3, chunk.nulls);
      if (chunk.max !== undefined) w.binary(5, chunk.max);
      if (chunk.min !== undefined) w.binary(6, chunk.min);
      w.structEnd();
      w.structEnd();
      w.structEnd();
    });
    w.i64(2, uncompressed);
    w.i64(3, group.rows);
    w.i64(5, group.chunks[0]?.offset ?? 0);
    w.i64(6, compressed);
    w.i16(7, ordinal);
    w.structEnd();
  }
}

/** The smallest min and largest max of a column's parts, compared as `kind` orders them. */
function mergedStatistics(kind: ColumnKind, parts: readonly PageFacts[]): { min?: Uint8Array; max?: Uint8Array } {
  let min: Uint8Array | undefined;
  let max: Uint8Array | undefined;
  for (const part of parts) {
    if (part.min === undefined || part.max === undefined) continue;
    if (min === undefined || compareValues(kind, part.min, min) < 0) min = part.min;
    if (max === undefined || compareValues(kind, part.max, max) > 0) max = part.max;
  }
  return { min, max };
}

function compareValues(kind: ColumnKind, a: Uint8Array, b: Uint8Array): number {
  if (kind === 'string') return Buffer.compare(a, b);
  const x = Buffer.from(a.buffer, a.byteOffset, 8);
  const y = Buffer.from(b.buffer, b.byteOffset, 8);
  if (kind === 'double') return x.readDoubleLE(0) - y.readDoubleLE(0);
  const d = x.readBigInt64LE(0) - y.readBigInt64LE(0);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
