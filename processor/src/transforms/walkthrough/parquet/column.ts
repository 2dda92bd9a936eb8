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
const QUOTE = 0x22;

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
  private values: Buffer = Buffer.allocUnsafe(INITIAL_VALUE_BYTES);
  /** {@link values} as a DataView: its number writes and big-endian reads compile to single loads and stores, Buffer's methods check their arguments. */
  private view = dataViewOf(this.values);
  private valuesEnd = 0;
  /** Where {@link copyUntil} stopped in values. */
  private copied = 0;
  /** A page's uncompressed bytes, reused from page to page (each page's garbage is only its compressed data). */
  private uncompressed = Buffer.allocUnsafe(INITIAL_VALUE_BYTES);
  /** Definition levels, one bit per value (1 present), LSB first: Parquet's bit-packed run; built at page time. */
  private defined = new Uint8Array(1024);
  /** The positions of the nulls among the page's values (nulls are rare: no bit is set per value). */
  private nullsAt = new Int32Array(256);
  private count = 0;
  private nulls = 0;
  // Statistics of numbers, per value; a string page's are found at page time (stringStatistics).
  private minNumber = Infinity;
  private maxNumber = -Infinity;
  private minBig: bigint | undefined;
  private maxBig: bigint | undefined;

  constructor(readonly kind: ColumnKind) {}

  /** Values added since the last page. */
  get pending(): number {
    return this.count;
  }

  addNull(): void {
    if (this.nulls === this.nullsAt.length) {
      const grown = new Int32Array(2 * this.nulls);
      grown.set(this.nullsAt);
      this.nullsAt = grown;
    }
    this.nullsAt[this.nulls++] = this.count++;
  }

  addDouble(value: number): void {
    this.count++;
    this.reserve(8);
    this.view.setFloat64(this.valuesEnd, value, true);
    this.valuesEnd += 8;
    if (value < this.minNumber) this.minNumber = value;
    if (value > this.maxNumber) this.maxNumber = value;
  }

  /** An int64 within ±2^53. */
  addInt64(value: number): void {
    this.count++;
    this.reserve(8);
    const high = Math.floor(value / 0x100000000);
    this.view.setUint32(this.valuesEnd, value - high * 0x100000000, true);
    this.view.setInt32(this.valuesEnd + 4, high, true);
    this.valuesEnd += 8;
    if (value < this.minNumber) this.minNumber = value;
    if (value > this.maxNumber) this.maxNumber = value;
  }

  /** Any int64. */
  addBigInt64(value: bigint): void {
    this.count++;
    this.reserve(8);
    this.view.setBigInt64(this.valuesEnd, value, true);
    this.valuesEnd += 8;
    if (this.minBig === undefined || value < this.minBig) this.minBig = value;
    if (this.maxBig === undefined || value > this.maxBig) this.maxBig = value;
  }

  /** A string: UTF-8 bytes [start, end) of `src`. */
  addString(src: Uint8Array, start: number, end: number): void {
    const length = end - start;
    this.reserve(4 + length);
    const values = this.values;
    const at = this.valuesEnd + 4;
    // Most cells are short: a loop beats a native copy's call (and the subarray it needs).
    for (let i = 0; i < length; i++) values[at + i] = src[start + i];
    this.endString(at, at + length);
  }

  /** Completes a string whose bytes are [at, end) of values: writes its length before it and counts it. */
  private endString(at: number, end: number): void {
    this.count++;
    writeLength(this.values, at - 4, end - at);
    this.valuesEnd = end;
  }

  /**
   * A string that is an unquoted CSV field: the bytes of `src` from `start` up to the next
   * `delimiter` (or `end`), copied as they are scanned. Returns the delimiter's position.
   */
  addField(src: DataView, start: number, end: number, delimiter: number): number {
    const at = this.beginString();
    const i = this.copyUntil(src, start | 0, end | 0, at, delimiter | 0);
    this.endString(at, this.copied);
    return i;
  }

  /**
   * A string that is a quoted CSV field whose content starts at `start` (after the opening quote):
   * `""` is one `"`, copied as scanned. Returns the closing quote's position.
   */
  addQuotedField(src: DataView, start: number, end: number): number {
    const at = this.beginString();
    let i = this.copyUntil(src, start | 0, end | 0, at, QUOTE);
    for (;;) {
      if (i >= end) throw new Error('Parquet: unterminated quoted CSV field');
      if (i + 1 >= end || src.getUint8(i + 1) !== QUOTE) break; // the closing quote
      let q = this.copied;
      if (q === this.values.length) this.grow(q, q + 1);
      this.values[q++] = QUOTE; // a doubled quote is one
      i = this.copyUntil(src, i + 2, end | 0, q, QUOTE);
    }
    this.endString(at, this.copied);
    return i;
  }

  /** Reserves a string's length; returns where its bytes start. */
  private beginString(): number {
    this.reserve(4);
    return this.valuesEnd + 4;
  }

  /**
   * Copies bytes of `src` from `i` into values from `q` until byte `stop` (or `end`); returns the
   * position reached in `src`, and leaves the one in values in {@link copied}. Four bytes a step
   * while four remain: a word is copied whole and tested for `stop` with the has-zero-byte bit
   * trick (the bytes copied past `stop` lie beyond the string's end: the next value overwrites them).
   */
  private copyUntil(src: DataView, i: number, end: number, q: number, stop: number): number {
    const pattern = Math.imul(stop, 0x01010101);
    for (;;) {
      const values = this.values;
      const view = this.view;
      const limit = values.length;
      while (i + 4 <= end && q + 4 <= limit) {
        const word = src.getInt32(i, true);
        view.setInt32(q, word, true);
        const x = word ^ pattern;
        const found = ((x - 0x01010101) | 0) & ~x & 0x80808080;
        if (found !== 0) {
          const k = (31 - Math.clz32(found & -found)) >>> 3; // the first byte equal to stop
          this.copied = q + k;
          return i + k;
        }
        i += 4;
        q += 4;
      }
      while (i < end && q < limit) {
        const b = src.getUint8(i);
        if (b === stop) break;
        values[q++] = b;
        i++;
      }
      if (i === end || q < limit) {
        this.copied = q;
        return i;
      }
      this.grow(q, q + 4);
    }
  }

  /** The values added so far as one data page (header and Snappy data); starts a new page. */
  page(): Page {
    const levelBytes = this.definitionLevels();
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

  /** Fills {@link defined} with the page's definition levels; returns their bytes. */
  private definitionLevels(): number {
    const levelBytes = (this.count + 7) >>> 3;
    if (this.defined.length < levelBytes) this.defined = new Uint8Array(Math.max(levelBytes, 2 * this.defined.length));
    const defined = this.defined;
    defined.fill(0xff, 0, levelBytes);
    if ((this.count & 7) !== 0) defined[levelBytes - 1] = (1 << (this.count & 7)) - 1; // the last group's padding is 0
    for (let n = 0; n < this.nulls; n++) {
      const i = this.nullsAt[n];
      defined[i >>> 3] &= ~(1 << (i & 7));
    }
    return levelBytes;
  }

  private reset(): void {
    this.valuesEnd = 0;
    this.count = 0;
    this.nulls = 0;
    this.minNumber = Infinity;
    this.maxNumber = -Infinity;
    this.minBig = undefined;
    this.maxBig = undefined;
  }

  private statistics(): { min?: Uint8Array; max?: Uint8Array } {
    if (this.count === this.nulls) return {};
    if (this.kind === 'string') return stringStatistics(this.values, this.valuesEnd);
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

  private reserve(bytes: number): void {
    if (this.valuesEnd + bytes > this.values.length) this.grow(this.valuesEnd, this.valuesEnd + bytes);
  }

  /** A larger values buffer holding at least `needed` bytes, with bytes [0, used) kept. */
  private grow(used: number, needed: number): Buffer {
    const grown = Buffer.allocUnsafe(Math.max(2 * this.values.length, needed));
    this.values.copy(grown, 0, 0, used);
    this.values = grown;
    this.view = dataViewOf(grown);
    return grown;
  }
}

/**
 * The smallest and largest of the PLAIN strings in bytes [0, end) of `values` (unsigned byte order,
 * as Parquet orders UTF-8), in one loop over the page: each string's first 8 bytes, as two
 * big-endian words, decide unless they equal the min's or the max's, then a full comparison.
 */
function stringStatistics(values: Buffer, end: number): { min: Uint8Array; max: Uint8Array } {
  const view = dataViewOf(values);
  let minAt = 4;
  let minLength = view.getUint32(0, true);
  let minHigh = leadingWord(values, view, minAt, minLength, 0);
  let minLow = leadingWord(values, view, minAt, minLength, 4);
  let maxAt = minAt;
  let maxLength = minLength;
  let maxHigh = minHigh;
  let maxLow = minLow;
  for (let p = minAt + minLength; p < end;) {
    const length = view.getUint32(p, true);
    const at = p + 4;
    p = at + length;
    const high = leadingWord(values, view, at, length, 0);
    if (high > minHigh && high < maxHigh) continue;
    const low = leadingWord(values, view, at, length, 4);
    if (high < minHigh || (high === minHigh && (low < minLow || (low === minLow && compareBytes(values, at, length, minAt, minLength) < 0)))) {
      minAt = at;
      minLength = length;
      minHigh = high;
      minLow = low;
    } else if (high > maxHigh || (high === maxHigh && (low > maxLow || (low === maxLow && compareBytes(values, at, length, maxAt, maxLength) > 0)))) {
      maxAt = at;
      maxLength = length;
      maxHigh = high;
      maxLow = low;
    }
  }
  return { min: Buffer.from(values.subarray(minAt, minAt + minLength)), max: Buffer.from(values.subarray(maxAt, maxAt + maxLength)) };
}

/** Bytes [from, from + 4) of the string of `length` bytes at `at`, as a big-endian word (bytes past its end as zeros). */
function leadingWord(values: Uint8Array, view: DataView, at: number, length: number, from: number): number {
  return length >= from + 4 ? view.getUint32(at + from, false) : shortWord(values, at, length, from);
}

/** Bytes [from, from + 4) of the string of `length` bytes at `at` as a big-endian word, bytes past its end as zeros. */
function shortWord(values: Uint8Array, at: number, length: number, from: number): number {
  let word = 0;
  for (let i = from; i < from + 4; i++) word = word * 256 + (i < length ? values[at + i] : 0);
  return word;
}

function dataViewOf(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
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
