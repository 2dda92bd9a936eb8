import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** From this length on a native copy beats copyFrom's steps. */
const NATIVE_COPY_BYTES = 256;
/** Written buffers kept for reuse; more than the stream buffers before asking for a drain. */
const MAX_SPARE_BUFFERS = 8;
/** Appended buffers (ranges' outputs) a sink lets queue before its writer waits. */
export const MAX_QUEUED_APPENDS = 3;

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
 * CSV output written straight into a byte buffer.
 *
 * Why not csv-stringify per row: it builds a string per record from an array of strings, which
 * costs more than the rest of the row's processing at 2,000,000 rows. The quoting rule here is
 * csv-stringify's default (and pandas' QUOTE_MINIMAL): quote a field only when it contains `,`,
 * `"`, `\n` or `\r`, doubling embedded quotes; test/processor/transforms/walkthrough/csv.test.ts compares the two.
 * Records end with `\n` as pandas' `to_csv` writes them on Linux.
 *
 * Callers reserve room for a whole record with {@link ensure} first, so a record is always
 * contiguous in {@link buf} (the duplicate detector hashes it in place). A CsvBuffer grows to
 * hold everything written (a worker's output for one input range); {@link CsvSink} hands full
 * buffers to a stream instead.
 */
export class CsvBuffer {
  /** Current buffer; bytes [0, pos) are written. It spans its whole ArrayBuffer (which can be transferred). */
  buf: Buffer;
  /** A DataView of {@link buf}, for binary writes (the spool's record headers). */
  view: DataView;
  pos = 0;
  /** Data records written (the header is not counted). */
  rows = 0;
  /** {@link raw}'s last source, and a DataView of it. */
  private source: Uint8Array | undefined;
  private sourceView: DataView | undefined;

  /** Writes into `initial` (a worker's slot) until it is full, then into buffers of its own. */
  constructor(initial: ArrayBufferLike | number) {
    this.buf = Buffer.from(typeof initial === 'number' ? new ArrayBuffer(initial) : initial);
    this.view = viewOf(this.buf);
  }

  /** Makes sure `n` more bytes fit in `buf`, growing it (the written bytes are kept). */
  ensure(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    const grown = Buffer.from(new ArrayBuffer(Math.max(this.buf.length * 2, this.pos + n)));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    this.view = viewOf(grown);
  }

  /** Writes a field value, quoting it only when needed. Room must have been reserved. */
  field(src: Uint8Array, start: number, end: number): void {
    // Copy optimistically; on the first byte that needs quoting, start over quoted.
    const buf = this.buf;
    let p = this.pos;
    for (let k = start; k < end; k++) {
      const b = src[k];
      if (b === COMMA || b === QUOTE || b === LF || b === CR) {
        this.quoted(src, start, end);
        return;
      }
      buf[p++] = b;
    }
    this.pos = p;
  }

  /**
   * Writes bytes known to need no quoting (numbers, unquoted input fields): eight bytes per step
   * (see {@link copyFrom}) through a DataView of `src`, kept while the source stays the same (a
   * range's fields all come from its input buffer).
   */
  raw(src: Uint8Array, start: number, end: number): void {
    if (end - start > NATIVE_COPY_BYTES) {
      this.buf.set(src.subarray(start, end), this.pos);
      this.pos += end - start;
      return;
    }
    if (src !== this.source) {
      this.source = src;
      this.sourceView = viewOf(src);
    }
    this.copyFrom(this.sourceView!, start, end);
  }

  /**
   * Writes a field value known to hold no quote and no line break (a profile value read by the
   * fast path), quoted when the caller knows it holds a delimiter.
   */
  plainField(src: Uint8Array, start: number, end: number, hasComma: boolean): void {
    if (hasComma) this.buf[this.pos++] = QUOTE;
    this.raw(src, start, end);
    if (hasComma) this.buf[this.pos++] = QUOTE;
  }

  /**
   * Copies `[start, end)` of the buffer behind `src`, eight bytes per step. For row-sized ranges
   * this beats Buffer#copy and TypedArray#set, which allocate a view per call (about 40 ns), and
   * a byte loop (about 1.2 ns a byte against 0.3 here, on this project's machine).
   *
   * Text only (valid UTF-8, as every caller copies): the eight-byte steps go through float64
   * values, and a float64 keeps its bits on the way unless it is a NaN, whose payload an engine
   * may change. No eight bytes of valid UTF-8 are a NaN: that needs a last byte of 0x7F or 0xFF
   * after a byte of 0xF0 or more, and in UTF-8 a byte of 0xF0 or more is either a 4-byte lead,
   * followed by a continuation byte (0x80–0xBF), or never there (test/processor/transforms/walkthrough/csv.test.ts).
   */
  copyFrom(src: DataView, start: number, end: number): void {
    const dst = this.view;
    let p = this.pos;
    let k = start;
    for (; k + 8 <= end; k += 8, p += 8) dst.setFloat64(p, src.getFloat64(k, true), true);
    if (k + 4 <= end) {
      dst.setUint32(p, src.getUint32(k, true), true);
      k += 4;
      p += 4;
    }
    for (; k < end; k++, p++) dst.setUint8(p, src.getUint8(k));
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

/**
 * A {@link CsvBuffer} that hands each full buffer to a stream and continues in another one, so
 * memory stays at a few buffers however much is written.
 */
export class CsvSink extends CsvBuffer {
  private flushedBytes = 0;
  private waitForDrain = false;
  private readonly spare: Buffer[] = [];
  /** Appended buffers the stream has not written yet, and who waits for fewer. */
  private queuedAppends = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly out: Writable, private readonly chunkBytes = DEFAULT_CHUNK_BYTES) {
    super(chunkBytes);
    // A failed write (a full disk) is reported by drain() and close(), not as an unhandled 'error'.
    out.on('error', () => undefined);
  }

  /** Total bytes written so far, pending ones included. */
  get bytes(): number {
    return this.flushedBytes + this.pos;
  }

  /** Makes sure `n` more bytes fit in `buf` without flushing in between. */
  ensure(n: number): void {
    if (this.buf.length - this.pos >= n) return;
    this.flush();
    if (this.buf.length < n) {
      this.buf = Buffer.allocUnsafe(n);
      this.view = viewOf(this.buf);
    }
  }

  /**
   * Writes bytes that are already CSV (a worker's output for one input range) after what is
   * pending, without copying them; `done` runs once the stream has written them. {@link drain}
   * waits while more than MAX_QUEUED_APPENDS are queued, not until the stream is empty, so the
   * disk keeps writing while the caller prepares the next range.
   */
  append(bytes: Buffer, done?: () => void): void {
    this.flush();
    this.queuedAppends++;
    this.out.write(bytes, () => {
      this.queuedAppends--;
      done?.();
      if (this.wake !== undefined && this.queuedAppends <= MAX_QUEUED_APPENDS) {
        const wake = this.wake;
        this.wake = undefined;
        wake();
      }
    });
    this.flushedBytes += bytes.length;
  }

  /**
   * Hands the pending bytes to the output stream and continues in another buffer. Buffers come
   * back for reuse once the stream has written them: allocating a fresh megabyte per flush makes
   * the garbage collector run far more often.
   */
  flush(): void {
    if (this.pos === 0) return;
    const full = this.buf;
    const written = (): void => {
      if (full.length === this.chunkBytes && this.spare.length < MAX_SPARE_BUFFERS) this.spare.push(full);
    };
    if (!this.out.write(full.subarray(0, this.pos), written)) this.waitForDrain = true;
    this.flushedBytes += this.pos;
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(this.chunkBytes);
    this.view = viewOf(this.buf);
    this.pos = 0;
  }

  /** Waits until the output stream has taken what was flushed, and all but a few appended buffers (backpressure). */
  async drain(): Promise<void> {
    if (this.out.errored) throw this.out.errored;
    if (this.queuedAppends > MAX_QUEUED_APPENDS) await new Promise<void>((resolve) => (this.wake = resolve));
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
}

export function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

export const CSV_COMMA = COMMA;
export const CSV_LF = LF;
