import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/** True when a CSV field with this value must be quoted: it holds a delimiter, a quote or a line break. */
export function needsQuotes(src: Uint8Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) {
    const b = src[k];
    if (b === COMMA || b === QUOTE || b === LF || b === CR) return true;
  }
  return false;
}

/** Worst-case encoded size of a field of `length` bytes (every byte a quote, plus the two outer quotes). */
export function maxEncodedLength(length: number): number {
  return 2 * length + 2;
}

/**
 * Buffered CSV output written straight into byte buffers.
 *
 * Why not csv-stringify per row: it builds a string per record from an array of strings, which
 * costs more than the rest of the row's processing at 2,000,000 rows. The quoting rule here is
 * csv-stringify's default (and pandas' QUOTE_MINIMAL): quote a field only when it contains `,`,
 * `"`, `\n` or `\r`, doubling embedded quotes; test/processor/csv.test.ts compares the two.
 * Records end with `\n` as pandas' `to_csv` writes them on Linux.
 *
 * Callers reserve room for a whole record with {@link ensure} first, so a record is always
 * contiguous in {@link buf} (the duplicate detector hashes it in place).
 */
export class CsvSink {
  /** Current buffer; bytes [0, pos) are pending. */
  buf: Buffer;
  pos = 0;
  /** Data records written (the header is not counted). */
  rows = 0;
  private flushedBytes = 0;
  private waitForDrain = false;

  constructor(private readonly out: Writable, private readonly chunkBytes = DEFAULT_CHUNK_BYTES) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Total bytes written so far, pending ones included. */
  get bytes(): number {
    return this.flushedBytes + this.pos;
  }

  /** Makes sure `n` more bytes fit in `buf` without flushing in between. */
  ensure(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    this.flush();
    if (this.buf.length < n) this.buf = Buffer.allocUnsafe(n);
  }

  /** Writes a field value, quoting it only when needed. Room must have been reserved. */
  field(src: Uint8Array, start: number, end: number): void {
    if (needsQuotes(src, start, end)) {
      this.quoted(src, start, end);
      return;
    }
    const buf = this.buf;
    let p = this.pos;
    for (let k = start; k < end; k++) buf[p++] = src[k];
    this.pos = p;
  }

  /** Writes bytes known to need no quoting (numbers, fixed labels, unquoted input fields). */
  raw(src: Uint8Array, start: number, end: number): void {
    const buf = this.buf;
    let p = this.pos;
    for (let k = start; k < end; k++) buf[p++] = src[k];
    this.pos = p;
  }

  /** Writes one byte (a delimiter or a line break). */
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** Writes a whole record of strings (headers, small tables), reserving room itself. */
  record(values: readonly string[]): void {
    const encoded = values.map((v) => Buffer.from(v, 'utf8'));
    this.ensure(encoded.reduce((sum, b) => sum + maxEncodedLength(b.length) + 1, 1));
    encoded.forEach((b, i) => {
      if (i > 0) this.byte(COMMA);
      this.field(b, 0, b.length);
    });
    this.byte(LF);
  }

  /** Hands the pending bytes to the output stream and starts a fresh buffer. */
  flush(): void {
    if (this.pos === 0) return;
    if (!this.out.write(this.buf.subarray(0, this.pos))) this.waitForDrain = true;
    this.flushedBytes += this.pos;
    this.buf = Buffer.allocUnsafe(this.chunkBytes);
    this.pos = 0;
  }

  /** Waits until the output stream has taken what was flushed (backpressure). */
  async drain(): Promise<void> {
    if (this.out.errored) throw this.out.errored;
    if (!this.waitForDrain) return;
    this.waitForDrain = false;
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }

  /** Flushes everything and closes the output stream. */
  async close(): Promise<void> {
    this.flush();
    this.out.end();
    await finished(this.out);
  }

  /** Abandons the output (after a failure). */
  destroy(): void {
    this.out.destroy();
  }

  private quoted(src: Uint8Array, start: number, end: number): void {
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = QUOTE;
    for (let k = start; k < end; k++) {
      const b = src[k];
      buf[p++] = b;
      if (b === QUOTE) buf[p++] = QUOTE;
    }
    buf[p++] = QUOTE;
    this.pos = p;
  }
}

export const CSV_COMMA = COMMA;
export const CSV_LF = LF;
