/**
 * A range of the processor's own CSV output (transformed_data's rows, as a worker thread wrote them
 * in pass 2) → Parquet pages, one per column. Reading the finished CSV bytes keeps the Parquet
 * values equal to the CSV's by construction: a string is the cell's bytes, a number is the cell's
 * text read back (the CSV prints floats as the shortest round-trip decimal, so the double is the
 * same), an empty cell is a null.
 *
 * The bytes are what csv/writer.ts writes: `,` between fields, `\n` after each row, a field
 * quoted only when it holds `,`, `"`, `\r` or `\n`, a quote inside doubled.
 */
import { ColumnEncoder, ColumnKind, EncodedColumn, Page } from './column';
import type { Block } from '../parallel/slots';

const COMMA = 0x2c;
const LF = 0x0a;
const QUOTE = 0x22;
const STRING = 0;
const DOUBLE = 1;
const INT64 = 2;

/** One encoder per column; a worker thread keeps them for a run (their buffers are reused). */
export class CsvColumnEncoders {
  readonly encoders: ColumnEncoder[];
  /** The kinds as small integers (the hot loop compares them per cell). */
  private readonly codes: Int32Array;

  constructor(readonly kinds: readonly ColumnKind[]) {
    this.encoders = kinds.map((kind) => new ColumnEncoder(kind));
    this.codes = Int32Array.from(kinds, (kind) => (kind === 'string' ? STRING : kind === 'double' ? DOUBLE : INT64));
  }

  /**
   * Reads the rows in bytes [start, end) (whole rows, no header) and returns their pages, one per
   * column, packed into slot `slot` (whose memory is `memory`), or into a buffer of their own to
   * transfer when they do not fit.
   */
  encode(csv: Buffer, start: number, end: number, slot: number, memory: ArrayBufferLike): EncodedRange {
    const { codes, encoders } = this;
    const last = codes.length - 1;
    const view = new DataView(csv.buffer, csv.byteOffset, csv.length);
    let p = start;
    let rows = 0;
    while (p < end) {
      for (let c = 0; c <= last; c++) {
        const delimiter = c === last ? LF : COMMA;
        const encoder = encoders[c];
        const first = csv[p];
        if (first === delimiter) {
          encoder.addNull();
        } else if (first === QUOTE) {
          p = quotedCell(encoder, codes[c], csv, view, p + 1, end) + 1;
        } else if (codes[c] === STRING) {
          p = encoder.addField(view, p, end, delimiter);
        } else {
          let e = p + 1;
          while (e < end && csv[e] !== delimiter) e++;
          if (codes[c] === DOUBLE) encoder.addDouble(parseDouble(csv, p, e));
          else addInt64(encoder, csv, p, e);
          p = e;
        }
        if (p >= end || csv[p] !== delimiter) throw new Error(`Parquet: malformed CSV row ${rows + 1} of the range at column ${c + 1}`);
        p++;
      }
      rows++;
    }
    return packPages(rows, encoders.map((e) => e.page()), slot, memory);
  }
}

/**
 * A range's pages, one per column, one after the other in a slot (or a buffer of their own): a
 * slot is reused from range to range, so the main thread, which copies the pages out of it, leaves
 * no garbage behind (a buffer per range held tens of megabytes until the collector ran).
 */
export interface EncodedRange extends Block {
  readonly rows: number;
  readonly columns: ReadonlyArray<Omit<EncodedColumn, 'bytes'> & { readonly offset: number; readonly length: number }>;
}

function packPages(rows: number, pages: Page[], slot: number, memory: ArrayBufferLike): EncodedRange {
  let total = 0;
  for (const page of pages) total += page.header.length + page.data.length;
  const own = total > memory.byteLength ? new ArrayBuffer(total) : undefined;
  const bytes = new Uint8Array(own ?? memory, 0, total);
  let offset = 0;
  const columns = pages.map(({ header, data, ...rest }) => {
    bytes.set(header, offset);
    bytes.set(data, offset + header.length);
    const length = header.length + data.length;
    const column = { ...rest, offset, length };
    offset += length;
    return column;
  });
  return { rows, slot, own, length: total, columns };
}

/** A quoted cell whose content starts at `start`; returns its closing quote's position. */
function quotedCell(encoder: ColumnEncoder, code: number, csv: Buffer, view: DataView, start: number, end: number): number {
  if (csv[start] === QUOTE && csv[start + 1] !== QUOTE) {
    encoder.addNull(); // `""`: an empty cell
    return start;
  }
  if (code === STRING) return encoder.addQuotedField(view, start, end);
  const close = closingQuote(csv, start, end);
  addNumber(encoder, csv.toString('utf8', start, close).replace(/""/g, '"'));
  return close;
}

/** The position of the quote that closes a quoted field whose content starts at `p`. */
function closingQuote(csv: Buffer, p: number, end: number): number {
  for (;;) {
    const q = csv.indexOf(QUOTE, p);
    if (q < 0 || q >= end) throw new Error('Parquet: unterminated quoted CSV field');
    if (csv[q + 1] !== QUOTE) return q;
    p = q + 2;
  }
}

/** Powers of ten that are exact doubles. */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A float cell as the CSV prints it: shortest round-trip decimal, or `inf` / `-inf`. A plain
 * decimal of at most 15 digits is its digits as an integer (exact below 2^53) divided by an exact
 * power of ten: one correctly rounded division, so the same double as Number(text) (Clinger's fast
 * path), without building a string; anything else goes through Number.
 */
function parseDouble(csv: Buffer, start: number, end: number): number {
  let i = start;
  const negative = csv[i] === 0x2d;
  if (negative) i++;
  let mantissa = 0;
  let digits = 0;
  let fraction = -1;
  for (; i < end; i++) {
    const b = csv[i];
    if (b === 0x2e && fraction < 0) {
      fraction = i;
      continue;
    }
    const digit = b - 0x30;
    if (digit < 0 || digit > 9) break;
    mantissa = mantissa * 10 + digit;
    digits++;
  }
  if (i === end && digits > 0 && digits <= 15) {
    const value = fraction < 0 ? mantissa : mantissa / EXACT_POWERS_OF_TEN[end - fraction - 1];
    return negative ? -value : value;
  }
  return parseDoubleText(csv, start, end);
}

function parseDoubleText(csv: Buffer, start: number, end: number): number {
  const text = csv.toString('latin1', start, end);
  const value = Number(text);
  if (value === value) return value;
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  throw new Error(`Parquet: not a float cell: ${JSON.stringify(text)}`);
}

function addNumber(encoder: ColumnEncoder, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  if (encoder.kind === 'double') encoder.addDouble(parseDoubleText(bytes, 0, bytes.length));
  else addInt64(encoder, bytes, 0, bytes.length);
}

/** An integer cell: digits with an optional `-`. */
function addInt64(encoder: ColumnEncoder, csv: Buffer, start: number, end: number): void {
  const negative = csv[start] === 0x2d;
  const first = negative ? start + 1 : start;
  if (end - first <= 15 && end > first) {
    let value = 0;
    for (let i = first; i < end; i++) {
      const digit = csv[i] - 0x30;
      if (digit < 0 || digit > 9) throw new Error(`Parquet: not an integer cell: ${JSON.stringify(csv.toString('latin1', start, end))}`);
      value = value * 10 + digit;
    }
    encoder.addInt64(negative ? -value : value);
    return;
  }
  const value = BigInt(csv.toString('latin1', start, end));
  if (value < -(2n ** 63n) || value >= 2n ** 63n) throw new Error(`Parquet: integer cell out of int64 range: ${value}`);
  encoder.addBigInt64(value);
}
