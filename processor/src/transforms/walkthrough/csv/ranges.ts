/**
 * The input as ranges of whole records, parsed in parallel and merged in input order.
 *
 * Finding record boundaries exactly needs the quote state from the start of the input (a line
 * break inside a quoted field is not a boundary), which only a sequential pass knows. Instead
 * ranges are cut speculatively after the last line break of each block and parsed at once, in
 * parallel, as if they started at a record boundary. The results are taken in input order, and
 * each range's own parse verifies the next range's start: the first range starts at a true
 * boundary; when a range's last record ends exactly at the cut, the next range starts at a true
 * boundary too. When it does not (the cut fell inside a quoted field), the next range's
 * speculative result is dropped and the unfinished record is parsed again together with that
 * range. So the records, their line numbers and everything derived from them are those of one
 * sequential scan, at the cost of parsing a range twice where a cut missed; a quoted line break
 * near every cut at worst doubles the work.
 */
import { CsvScanner, NEED_MORE_INPUT } from './scanner';
import { BadInputError } from '../../../runtime/errors';
import type { ByteSource } from '../../../runtime/io/source';
import { Block, Slots } from '../parallel/slots';

/** Largest record accepted; a bigger one is almost always an unterminated quote swallowing the file. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const LF = 0x0a;
const CR = 0x0d;

/** Called per record; the scanner's offsets point into `buf` and are valid only during the call. */
export type RecordHandler = (scanner: CsvScanner, buf: Buffer) => void;

/** Whole records, if the cut before the range was right (see the file comment). */
export interface InputRange {
  readonly input: Block;
  /** The range ends at the end of the input, so its last record needs no line break. */
  readonly last: boolean;
}

/** What the driver needs back from a range's parse. */
export interface RangeResult {
  /** The range's bytes, given back by the parser (the unfinished record of a missed cut is parsed again). */
  readonly input: Block;
  /** Bytes of whole records (and blank lines) from the range's start; less than its length when it ends inside a record. */
  readonly consumed: number;
  /** Line breaks within the consumed bytes. */
  readonly lines: number;
}

/**
 * Scans the records of `buf[0, end)`, a range that starts at a record boundary, numbering lines
 * from 1. Returns the bytes consumed and the lines they hold; what is left ends inside a record.
 */
export function scanRange(
  scanner: CsvScanner,
  buf: Buffer,
  end: number,
  last: boolean,
  onRecord: RecordHandler,
): { consumed: number; lines: number } {
  scanner.resetLines(1);
  let pos = 0;
  while (pos < end) {
    const next = scanner.scan(buf, pos, end, last);
    if (next === NEED_MORE_INPUT) break;
    pos = next;
    if (scanner.fieldCount > 0) onRecord(scanner, buf);
  }
  return { consumed: pos, lines: scanner.nextRecordLine - 1 };
}

/**
 * Cuts a source into ranges of about `rangeBytes`, each ending after a line break where there is
 * one. Ranges are read into slots (a range that does not fit one gets a buffer of its own).
 */
export class RangeChunker {
  /** Bytes read from the source so far. */
  bytesRead = 0;
  private carry = Buffer.alloc(0);
  private carryLength = 0;
  private ended = false;

  constructor(private readonly source: ByteSource, private readonly rangeBytes: number, readonly slots: Slots) {}

  /**
   * Reads the first record (the header), skipping a UTF-8 byte order mark and blank lines.
   * Returns the lines it took (0 when the input holds no record).
   */
  async readFirstRecord(onRecord: RecordHandler, maxRecordBytes: number): Promise<number> {
    let buf = Buffer.allocUnsafe(Math.max(this.rangeBytes, UTF8_BOM.length));
    let n = await this.fill(buf, 0, buf.length);
    const scanner = new CsvScanner();
    let pos = n >= 3 && buf[0] === UTF8_BOM[0] && buf[1] === UTF8_BOM[1] && buf[2] === UTF8_BOM[2] ? 3 : 0;
    for (;;) {
      const next = scanner.scan(buf, pos, n, this.ended);
      if (next !== NEED_MORE_INPUT && (scanner.fieldCount > 0 || this.ended)) {
        if (scanner.fieldCount > 0) onRecord(scanner, buf);
        this.keep(buf, next, n);
        return scanner.fieldCount > 0 ? scanner.nextRecordLine - 1 : 0;
      }
      if (next !== NEED_MORE_INPUT) {
        pos = next; // blank lines only so far
        if (pos === n) {
          pos = 0;
          n = await this.fill(buf, 0, buf.length);
        }
        continue;
      }
      if (n - pos > maxRecordBytes) throw recordTooLong(scanner.nextRecordLine, maxRecordBytes);
      if (n === buf.length) {
        const larger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(larger, 0, 0, n);
        buf = larger;
      }
      n = await this.fill(buf, n, buf.length);
    }
  }

  /** The next range, or undefined after the last. */
  async next(): Promise<InputRange | undefined> {
    if (this.ended && this.carryLength === 0) return undefined;
    // About rangeBytes, the bytes carried over from the last cut included.
    const target = Math.max(this.carryLength, this.rangeBytes);
    const { slot, memory } = await this.blockFor(target);
    const buf = Buffer.from(memory);
    this.carry.copy(buf, 0, 0, this.carryLength);
    const n = await this.fill(buf, this.carryLength, target);
    this.carryLength = 0;
    if (this.ended) {
      if (n > 0) return { input: block(slot, memory, n), last: true };
      this.slots.release(slot);
      return undefined;
    }
    const cut = lastBoundary(buf, n);
    this.keep(buf, cut, n);
    return { input: block(slot, memory, cut), last: false };
  }

  /** A range of `tail` (the unfinished record of a missed cut) followed by the range after it. */
  async merge(tail: Buffer, following: InputRange | undefined): Promise<InputRange> {
    const length = tail.length + (following?.input.length ?? 0);
    const { slot, memory } = await this.blockFor(length);
    const buf = Buffer.from(memory);
    tail.copy(buf, 0);
    if (following) this.slots.bytesOf(following.input).copy(buf, tail.length);
    return { input: block(slot, memory, length), last: following?.last ?? true };
  }

  /** Frees a range's slot. */
  release(input: Block): void {
    this.slots.release(input.slot);
  }

  /** A slot, or a buffer of its own when `bytes` do not fit one. */
  private async blockFor(bytes: number): Promise<{ slot: number; memory: ArrayBufferLike }> {
    if (bytes > this.slots.bytes) return { slot: -1, memory: new ArrayBuffer(bytes) };
    const slot = await this.slots.acquire();
    return { slot, memory: this.slots.buffers[slot] };
  }

  /** Reads into `buf` from `n` until it holds `target` bytes or the source ends; returns the new length. */
  private async fill(buf: Buffer, n: number, target: number): Promise<number> {
    while (n < target && !this.ended) {
      const read = await this.source.read(buf, n, target - n);
      if (read === 0) this.ended = true;
      n += read;
      this.bytesRead += read;
    }
    return n;
  }

  /** Keeps `buf[start, end)` to start the next range with. */
  private keep(buf: Buffer, start: number, end: number): void {
    const length = end - start;
    if (this.carry.length < length) this.carry = Buffer.allocUnsafe(Math.max(length, 2 * this.carry.length));
    buf.copy(this.carry, 0, start, end);
    this.carryLength = length;
  }
}

function block(slot: number, memory: ArrayBufferLike, length: number): Block {
  return { slot, length, own: slot < 0 ? (memory as ArrayBuffer) : undefined };
}

/** Offset after the last line break in `buf[0, n)` (a CR only when it cannot be half of CRLF), or n. */
function lastBoundary(buf: Buffer, n: number): number {
  if (n === 0) return 0;
  const lf = buf.lastIndexOf(LF, n - 1);
  if (lf >= 0) return lf + 1;
  const cr = n >= 2 ? buf.lastIndexOf(CR, n - 2) : -1;
  return cr >= 0 ? cr + 1 : n;
}

function recordTooLong(line: number, maxRecordBytes: number): BadInputError {
  return new BadInputError(`the record starting near line ${line} is longer than ${maxRecordBytes} bytes (unterminated quoted field?)`);
}

export interface ReadRangesOptions<R extends RangeResult> {
  /** Parses a range (in a worker, or on this thread). */
  readonly parse: (range: InputRange) => Promise<R>;
  /** Takes a verified result, in input order; `firstLine` is the input line its first byte is on. */
  readonly accept: (result: R, firstLine: number) => Promise<void> | void;
  /** Frees the buffers of a result that is dropped (parsed from a start inside a record); inputs are freed here. */
  readonly drop: (result: R) => void;
  /** Line of the first range's first byte (after the header). */
  readonly firstLine: number;
  /** Ranges parsed ahead of the one being taken. */
  readonly maxInFlight: number;
  readonly maxRecordBytes: number;
  readonly signal?: AbortSignal;
}

interface Pending<R> {
  readonly range: InputRange;
  readonly result: Promise<R>;
}

/** Parses the chunker's ranges `maxInFlight` at a time and hands the results over in input order (see the file comment). */
export async function readRanges<R extends RangeResult>(chunker: RangeChunker, options: ReadRangesOptions<R>): Promise<void> {
  const pending: Array<Pending<R>> = [];
  const start = (range: InputRange): Pending<R> => {
    const result = options.parse(range);
    result.catch(() => undefined); // awaited in order below; a failure after another one is not unhandled
    return { range, result };
  };
  // The next range is read while the current ones are parsed.
  let upcoming = chunker.next();
  upcoming.catch(() => undefined);
  const nextRange = async (): Promise<InputRange | undefined> => {
    const range = await upcoming;
    if (range !== undefined) {
      upcoming = chunker.next();
      upcoming.catch(() => undefined);
    }
    return range;
  };
  let line = options.firstLine;
  try {
    for (;;) {
      while (pending.length < options.maxInFlight) {
        const range = await nextRange();
        if (range === undefined) break;
        pending.push(start(range));
      }
      const head = pending.shift();
      if (head === undefined) return;
      const result = await head.result;
      options.signal?.throwIfAborted();
      await options.accept(result, line);
      line += result.lines;
      if (result.consumed < result.input.length) {
        const tail = chunker.slots.bytesOf(result.input).subarray(result.consumed);
        if (tail.length > options.maxRecordBytes) throw recordTooLong(line, options.maxRecordBytes);
        // The next range's start was inside this record: parse it again from the record's start.
        // (Its bytes come back with its result: a worker may have been given them.)
        let following: InputRange | undefined;
        const queued = pending.shift();
        if (queued) {
          const dropped = await queued.result;
          options.drop(dropped);
          following = { input: dropped.input, last: queued.range.last };
        } else {
          following = await nextRange();
        }
        pending.unshift(start(await chunker.merge(tail, following)));
        if (following) chunker.release(following.input);
      }
      chunker.release(result.input);
    }
  } finally {
    // Let ranges still being read or parsed finish (their buffers are not needed any more).
    await Promise.all([upcoming.catch(() => undefined), ...pending.map((p) => p.result.catch(() => undefined))]);
  }
}
