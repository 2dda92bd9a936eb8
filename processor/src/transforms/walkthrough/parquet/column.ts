/**
 * One Parquet column's values → data pages (format 1, PLAIN values, definition levels bit-packed,
 * Snappy-compressed), with the column's statistics. Every column is OPTIONAL (a missing CSV cell is
 * a null), flat (no repetition levels).
 *
 * Strings are copied as the bytes they are (the processor's outputs are UTF-8 already): no string
 * is built or encoded per cell, which is what makes the library writers slow (SPEC §15).
 */
import type * as Snappy from 'snappy';
import { CompactWriter } from './compact';

/** The physical types the walkthrough's tables use. */
export type ColumnKind = 'int64' | 'double' | 'string';

/** Parquet Type (parquet.thrift). */
export const PHYSICAL_TYPE: Readonly<Record<ColumnKind, number>> = { int64: 2, double: 5, string: 6 };
const PAGE_TYPE_DATA = 0;
const ENCODING_PLAIN = 0;
const ENCODING_RLE = 3;

/** A column's pages for some rows, and what its column chunk metadata needs of them. */
export interface EncodedColumn {
  /** The pages: each its header then its compressed data. */
  readonly bytes: Uint8Array;
  /** The pages' size with headers, uncompressed. */
  readonly uncompressedBytes: number;
  /** Values, nulls included. */
  readonly values: number;
  readonly nulls: number;
  /** Smallest and largest non-null value, as Parquet statistics hold them (PLAIN, strings without length); none when all are null. */
  readonly min?: Uint8Array;
  readonly max?: Uint8Array;
}

/** A data page as {@link ColumnEncoder.page} makes it: its header and its compressed data, apart (they are copied once, into the buffer a thread transfers). */
export interface Page extends Omit<EncodedColumn, 'bytes'> {
  readonly header: Buffer;
  readonly data: Buffer;
}

/** A page's bytes in one buffer. */
export function pageBytes(page: Page): EncodedColumn {
  const { header, data, ...rest } = page;
  return { ...rest, bytes: Buffer.concat([header, data]) };
}

const INITIAL_VALUE_BYTES = 64 * 1024;
/**
 * Snappy's output copied into a buffer V8 allocates: the default hands over native memory that V8
 * does not count, so a thread's heap never grows enough to collect the pages' garbage and memory
 * grew by hundreds of megabytes at 2,000,000 rows.
 */
const COMPRESS_OPTIONS = { copyOutputData: true };

/**
 * snappy's native addon, loaded on the first page: a CSV-only run (the default) and each of its
 * worker threads then never map it (about 10 MB of peak RSS at 2,000,000 rows otherwise).
 */
let snappy: typeof Snappy | undefined;
function compressSync(bytes: Buffer, options: typeof COMPRESS_OPTIONS): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  snappy ??= require('snappy') as typeof Snappy;
  return snappy.compressSync(bytes, options);
}

/** Collects one column's values and writes them as a data page. */
export class ColumnEncoder {
  /** PLAIN-encoded non-null values. */
  private values = Buffer.allocUnsafe(INITIAL_VALUE_BYTES);
  private valuesEnd = 0;
  /** A page's uncompressed bytes, reused from page to page (each page's garbage is only its compressed data). */
  private uncompressed = Buffer.allocUnsafe(INITIAL_VALUE_BYTES);
  /** Definition levels, one bit per value (1 present), LSB first: Parquet's bit-packed run. */
  private defined = new Uint8Array(1024);
  private count = 0;
  private nulls = 0;
  // Statistics: numbers as numbers; strings as their place in `values`.
  private minNumber = Infinity;
  private maxNumber = -Infinity;
  private minBig: bigint | undefined;
  private maxBig: bigint | undefined;
  private minAt = -1;
  private minLength = 0;
  private maxAt = -1;
  private maxLength = 0;

  constructor(readonly kind: ColumnKind) {}

  /** Values added since the last page. */
  get pending(): number {
    return this.count;
  }

  addNull(): void {
    this.define(false);
    this.nulls++;
  }

  addDouble(value: number): void {
    this.define(true);
    this.reserve(8);
    this.values.writeDoubleLE(value, this.valuesEnd);
    this.valuesEnd += 8;
    if (value < this.minNumber) this.minNumber = value;
    if (value > this.maxNumber) this.maxNumber = value;
  }

  /** An int64 within ±2^53. */
  addInt64(value: number): void {
    this.define(true);
    this.reserve(8);
    const high = Math.floor(value / 0x100000000);
    this.values.writeUInt32LE(value - high * 0x100000000, this.valuesEnd);
    this.values.writeInt32LE(high, this.valuesEnd + 4);
    this.valuesEnd += 8;
    if (value < this.minNumber) this.minNumber = value;
    if (value > this.maxNumber) this.maxNumber = value;
  }

  /** Any int64. */
  addBigInt64(value: bigint): void {
    this.define(true);
    this.reserve(8);
    this.values.writeBigInt64LE(value, this.valuesEnd);
    this.valuesEnd += 8;
    if (this.minBig === undefined || value < this.minBig) this.minBig = value;
    if (this.maxBig === undefined || value > this.maxBig) this.maxBig = value;
  }

  /** A string: UTF-8 bytes [start, end) of `src`. */
  addString(src: Uint8Array, start: number, end: number): void {
    const length = end - start;
    this.define(true);
    this.reserve(4 + length);
    const values = this.values;
    const at = this.valuesEnd + 4;
    writeLength(values, this.valuesEnd, length);
    // Most cells are short: a loop beats a native copy's call (and the subarray it needs).
    for (let i = 0; i < length; i++) values[at + i] = src[start + i];
    this.valuesEnd = at + length;
    this.stringStatistics(at, length);
  }

  /** A string that is a quoted CSV field's content, bytes [start, end) of `src`: `""` is one `"`. */
  addQuotedString(src: Uint8Array, start: number, end: number): void {
    this.define(true);
    this.reserve(4 + end - start);
    const values = this.values;
    const at = this.valuesEnd + 4;
    let p = at;
    for (let i = start; i < end; i++) {
      const b = src[i];
      values[p++] = b;
      if (b === 0x22) i++; // the second quote of a pair
    }
    const length = p - at;
    writeLength(values, this.valuesEnd, length);
    this.valuesEnd = p;
    this.stringStatistics(at, length);
  }

  /** The values added so far as one data page (header and Snappy data); starts a new page. */
  page(): Page {
    const levelBytes = (this.count + 7) >>> 3;
    const runHeader = varintBytes(levelBytes * 2 + 1); // a bit-packed run of levelBytes groups of 8
    const levelsLength = runHeader.length + levelBytes;
    const size = 4 + levelsLength + this.valuesEnd;
    if (this.uncompressed.length < size) this.uncompressed = Buffer.allocUnsafe(Math.max(size, 2 * this.uncompressed.length));
    const uncompressed = this.uncompressed.subarray(0, size);
    uncompressed.writeUInt32LE(levelsLength, 0);
    uncompressed.set(runHeader, 4);
    uncompressed.set(this.defined.subarray(0, levelBytes), 4 + runHeader.length);
    this.values.copy(uncompressed, 4 + levelsLength, 0, this.valuesEnd);
    const data = compressSync(uncompressed, COMPRESS_OPTIONS);
    const header = pageHeader(size, data.length, this.count);
    const encoded: Page = {
      header,
      data,
      uncompressedBytes: header.length + size,
      values: this.count,
      nulls: this.nulls,
      ...this.statistics(),
    };
    this.reset();
    return encoded;
  }

  private reset(): void {
    this.valuesEnd = 0;
    this.defined.fill(0, 0, (this.count + 7) >>> 3);
    this.count = 0;
    this.nulls = 0;
    this.minNumber = Infinity;
    this.maxNumber = -Infinity;
    this.minBig = undefined;
    this.maxBig = undefined;
    this.minAt = -1;
    this.maxAt = -1;
  }

  private statistics(): { min?: Uint8Array; max?: Uint8Array } {
    if (this.count === this.nulls) return {};
    if (this.kind === 'string') {
      return {
        min: Buffer.from(this.values.subarray(this.minAt, this.minAt + this.minLength)),
        max: Buffer.from(this.values.subarray(this.maxAt, this.maxAt + this.maxLength)),
      };
    }
    const min = Buffer.alloc(8);
    const max = Buffer.alloc(8);
    if (this.kind === 'double') {
      // Parquet: a zero minimum is written -0.0 and a zero maximum +0.0 (the sign of a zero is not compared).
      min.writeDoubleLE(this.minNumber === 0 ? -0 : this.minNumber);
      max.writeDoubleLE(this.maxNumber === 0 ? 0 : this.maxNumber);
      return { min, max };
    }
    let low = this.minBig;
    let high = this.maxBig;
    if (this.minNumber !== Infinity) {
      const lowNumber = BigInt(this.minNumber);
      const highNumber = BigInt(this.maxNumber);
      if (low === undefined || lowNumber < low) low = lowNumber;
      if (high === undefined || highNumber > high) high = highNumber;
    }
    min.writeBigInt64LE(low!);
    max.writeBigInt64LE(high!);
    return { min, max };
  }

  /** Updates min and max with the string just added at `at` (unsigned byte order, as Parquet orders UTF-8). */
  private stringStatistics(at: number, length: number): void {
    const values = this.values;
    if (this.minAt < 0) {
      this.minAt = this.maxAt = at;
      this.minLength = this.maxLength = length;
      return;
    }
    if (compareBytes(values, at, length, this.minAt, this.minLength) < 0) {
      this.minAt = at;
      this.minLength = length;
    } else if (compareBytes(values, at, length, this.maxAt, this.maxLength) > 0) {
      this.maxAt = at;
      this.maxLength = length;
    }
  }

  private define(present: boolean): void {
    const i = this.count++;
    if ((i >>> 3) >= this.defined.length) {
      const grown = new Uint8Array(this.defined.length * 2);
      grown.set(this.defined);
      this.defined = grown;
    }
    if (present) this.defined[i >>> 3] |= 1 << (i & 7);
  }

  private reserve(bytes: number): void {
    if (this.valuesEnd + bytes <= this.values.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.values.length, this.valuesEnd + bytes));
    this.values.copy(grown, 0, 0, this.valuesEnd);
    this.values = grown;
  }
}

/** A PLAIN string's 4-byte little-endian length (Buffer#writeUInt32LE checks its arguments on every call). */
function writeLength(bytes: Uint8Array, at: number, length: number): void {
  bytes[at] = length & 0xff;
  bytes[at + 1] = (length >>> 8) & 0xff;
  bytes[at + 2] = (length >>> 16) & 0xff;
  bytes[at + 3] = length >>> 24;
}

/** Compares bytes [a, a + aLength) and [b, b + bLength) of `bytes`, unsigned, shorter first on a tie. */
function compareBytes(bytes: Uint8Array, a: number, aLength: number, b: number, bLength: number): number {
  const n = Math.min(aLength, bLength);
  for (let i = 0; i < n; i++) {
    const d = bytes[a + i] - bytes[b + i];
    if (d !== 0) return d;
  }
  return aLength - bLength;
}

/** PageHeader { type DATA_PAGE, sizes, DataPageHeader { num_values, PLAIN, RLE levels } }. */
function pageHeader(uncompressedSize: number, compressedSize: number, values: number): Buffer {
  const w = new CompactWriter();
  w.i32(1, PAGE_TYPE_DATA);
  w.i32(2, uncompressedSize);
  w.i32(3, compressedSize);
  w.structBegin(5);
  w.i32(1, values);
  w.i32(2, ENCODING_PLAIN);
  w.i32(3, ENCODING_RLE);
  w.i32(4, ENCODING_RLE);
  w.structEnd();
  return Buffer.from(w.end());
}

function varintBytes(value: number): Buffer {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return Buffer.from(out);
}
