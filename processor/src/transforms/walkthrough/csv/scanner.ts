/**
 * A byte-level RFC 4180 record scanner.
 *
 * Why not csv-parse: on this project's 2-core machine csv-parse alone needs 16–20 s for the
 * 2,000,000-row (300 MB) benchmark file, more than the whole run's budget (SPEC §7: under half of
 * pandas' 34 s). This scanner reads bytes, creates no string per field and no array per record
 * (field offsets go into reused typed arrays), and handles the same grammar: `,` delimiter, `"`
 * quotes with `""` escapes, line breaks inside quoted fields, `\n`, `\r\n` and `\r` record
 * delimiters. test/processor/transforms/walkthrough/csv.test.ts checks it against csv-parse on tricky inputs, split at
 * every byte offset.
 *
 * Nothing is relaxed silently: a stray quote inside an unquoted field, characters after a
 * closing quote and an unterminated quoted field mark the record malformed (the caller rejects
 * it with the reason), and scanning resumes at the next record delimiter.
 */

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** Field flag: the field was quoted in the input (its value may contain any byte). */
export const FIELD_QUOTED = 1;
/** Field flag: the quoted field contains `""` escapes; {@link CsvScanner.bufferOf} unescapes it on first use. */
export const FIELD_ESCAPED = 2;
/** Field flag: the escaped field's value has been copied, unescaped, to `unescaped`. */
export const FIELD_UNESCAPED = 4;
/** Field flag: the quoted field was read by the scanner's {@link QuotedValueReader}, which holds what it found in it. */
export const FIELD_READ = 8;

/**
 * Reads one column's quoted values in the same pass as the scan when they have a shape it knows,
 * instead of the byte loop and then a second reading of the value by whoever uses it: for the
 * profile JSON, two thirds of a seed row, that saves about a third of the scan's time (profile.ts).
 */
export interface QuotedValueReader {
  /** The field (0-based) whose quoted values it reads. */
  readonly field: number;
  /**
   * Given the bytes after the opening quote, the index of the closing quote when `buf[start, end)`
   * holds the whole value in the reader's shape: ASCII with `""` escapes and no line break, and
   * after the closing quote a byte that is not a quote. Else -1, and the byte loop reads the value.
   */
  read(buf: Uint8Array, start: number, end: number): number;
}

export type MalformedKind = 'stray-quote' | 'text-after-closing-quote' | 'unterminated-quote';

/** Returned by {@link CsvScanner.scan} when `buf` ends inside a record and more input is needed. */
export const NEED_MORE_INPUT = -1;

export class CsvScanner {
  /**
   * Start offset of each field's value: in the input buffer, or in `unescaped` once a field with
   * escapes has been unescaped. Call {@link bufferOf} before reading the offsets of such a field.
   */
  starts = new Int32Array(64);
  /** End offset (exclusive) of each field's value. */
  ends = new Int32Array(64);
  /** FIELD_* flags of each field. */
  flags = new Uint8Array(64);
  /** Number of fields in the last record. */
  fieldCount = 0;
  /** Byte range of the last record's raw text, without its line break. */
  recordStart = 0;
  recordEnd = 0;
  /** 1-based line number on which the last record starts. */
  line = 0;
  /** Whether the last record contains bytes ≥ 0x80 (so it needs a UTF-8 validity check). */
  nonAscii = false;
  /** Why the last record is malformed, if it is, and in which field (0-based). */
  malformed: MalformedKind | undefined;
  malformedField = 0;
  /** Holds the unescaped values of fields that had `""` escapes (the input buffer stays untouched). */
  unescaped = Buffer.allocUnsafe(4096);
  /** Reads one column's usual quoted values (FIELD_READ), if set. */
  quotedValueReader: QuotedValueReader | undefined;
  private unescapedLength = 0;

  private nextLine = 1;

  /** Line on which the next record (or the unfinished one) starts, blank lines included. */
  get nextRecordLine(): number {
    return this.nextLine;
  }

  /** Starts counting lines afresh: the next record's line is `line` (an input range starts at its own line 1). */
  resetLines(line = 1): void {
    this.nextLine = line;
  }

  /**
   * Scans one record from `buf[pos, end)`, skipping blank lines before it. Returns the offset after
   * the record (and its line break), or NEED_MORE_INPUT when the record may continue past `end`
   * and `eof` is false; in that case nothing is consumed and the call must be repeated with more
   * bytes. When only blank lines remain (at `eof`, or ending with LF), returns `end` with
   * `fieldCount` 0.
   */
  scan(buf: Uint8Array, pos: number, end: number, eof: boolean): number {
    let i = pos;
    let lines = 0;
    // Blank lines are not records (pandas skips them as well).
    while (i < end) {
      const b = buf[i];
      if (b === LF) {
        i++;
      } else if (b === CR) {
        if (i + 1 >= end && !eof) return NEED_MORE_INPUT;
        i += i + 1 < end && buf[i + 1] === LF ? 2 : 1;
      } else {
        break;
      }
      lines++;
    }
    if (i >= end) {
      // Blank lines that end with LF are complete (a CR could still be the first half of CRLF).
      if (!eof && (lines === 0 || buf[end - 1] !== LF)) return NEED_MORE_INPUT;
      this.nextLine += lines;
      this.fieldCount = 0;
      return end;
    }

    const recordStart = i;
    const startLine = this.nextLine + lines;
    let recordEnd = end;
    let n = 0;
    let high = 0;
    let malformed: MalformedKind | undefined;
    let malformedField = 0;
    const reader = this.quotedValueReader;
    const readerField = reader === undefined ? -1 : reader.field;

    for (;;) {
      if (n === this.starts.length) this.growFields();
      if (i < end && buf[i] === QUOTE) {
        const valueStart = i + 1;
        const closingQuote = n === readerField ? reader!.read(buf, valueStart, end) : -1;
        if (closingQuote >= 0) {
          this.starts[n] = valueStart;
          this.ends[n] = closingQuote;
          this.flags[n] = FIELD_QUOTED | FIELD_ESCAPED | FIELD_READ;
          i = closingQuote + 1;
        } else {
          let j = valueStart;
          let escaped = false;
          let valueEnd: number;
          for (;;) {
            if (j >= end) {
              if (!eof) return NEED_MORE_INPUT;
              if (malformed === undefined) {
                malformed = 'unterminated-quote';
                malformedField = n;
              }
              valueEnd = end;
              i = end;
              break;
            }
            const b = buf[j];
            // Most bytes are printable ASCII after the quote character: one range test.
            if (b > QUOTE && b < 0x80) {
              j++;
              continue;
            }
            if (b === QUOTE) {
              if (j + 1 >= end && !eof) return NEED_MORE_INPUT;
              if (j + 1 < end && buf[j + 1] === QUOTE) {
                escaped = true;
                j += 2;
                continue;
              }
              valueEnd = j;
              i = j + 1;
              break;
            }
            if (b >= 0x80) high = 0x80;
            else if (b === LF || (b === CR && (j + 1 >= end || buf[j + 1] !== LF))) lines++;
            j++;
          }
          // Unescaping waits until the value is used: the profile's usual shape is read escaped.
          this.starts[n] = valueStart;
          this.ends[n] = valueEnd;
          this.flags[n] = escaped ? FIELD_QUOTED | FIELD_ESCAPED : FIELD_QUOTED;
        }
        // After the closing quote only a delimiter or a line break may follow.
        if (i < end) {
          const b = buf[i];
          if (b !== COMMA && b !== LF && b !== CR) {
            if (malformed === undefined) {
              malformed = 'text-after-closing-quote';
              malformedField = n;
            }
            while (i < end) {
              const c = buf[i];
              if (c === COMMA || c === LF || c === CR) break;
              if (c >= 0x80) high = 0x80;
              i++;
            }
            if (i >= end && !eof) return NEED_MORE_INPUT;
          }
        }
      } else {
        let j = i;
        while (j < end) {
          const b = buf[j];
          // Letters, digits and most punctuation sort after the comma: one range test.
          if (b > COMMA && b < 0x80) {
            j++;
            continue;
          }
          if (b === COMMA || b === LF || b === CR) break;
          if (b >= 0x80) {
            high = 0x80;
          } else if (b === QUOTE && malformed === undefined) {
            malformed = 'stray-quote';
            malformedField = n;
          }
          j++;
        }
        if (j >= end && !eof) return NEED_MORE_INPUT;
        this.starts[n] = i;
        this.ends[n] = j;
        this.flags[n] = 0;
        i = j;
      }
      n++;

      if (i >= end) {
        recordEnd = end;
        break;
      }
      const b = buf[i];
      if (b === COMMA) {
        i++;
        continue;
      }
      recordEnd = i;
      if (b === CR) {
        if (i + 1 >= end && !eof) return NEED_MORE_INPUT;
        i += i + 1 < end && buf[i + 1] === LF ? 2 : 1;
      } else {
        i++;
      }
      lines++;
      break;
    }

    this.fieldCount = n;
    this.unescapedLength = 0;
    this.recordStart = recordStart;
    this.recordEnd = recordEnd;
    this.line = startLine;
    this.nextLine += lines;
    this.nonAscii = high !== 0;
    this.malformed = malformed;
    this.malformedField = malformedField;
    return i;
  }

  /**
   * The buffer holding field `f`'s value, `input` or `unescaped`; a field with `""` escapes is
   * unescaped on the first call, which updates its offsets. So: call this, then read
   * `starts[f]` and `ends[f]`.
   */
  bufferOf(f: number, input: Buffer): Buffer {
    const flags = this.flags[f];
    if ((flags & FIELD_ESCAPED) === 0) return input;
    if ((flags & FIELD_UNESCAPED) === 0) {
      const start = this.unescapedLength;
      this.unescapedLength = this.unescapeInto(input, this.starts[f], this.ends[f], start);
      this.starts[f] = start;
      this.ends[f] = this.unescapedLength;
      this.flags[f] = flags | FIELD_UNESCAPED;
    }
    return this.unescaped;
  }

  /** Whether field `f` was read by the {@link quotedValueReader} (which then holds what it found). */
  wasRead(f: number): boolean {
    return (this.flags[f] & FIELD_READ) !== 0;
  }

  /** Whether field `f` still holds `""` escapes in the input buffer (not unescaped yet). */
  isEscaped(f: number): boolean {
    return (this.flags[f] & (FIELD_ESCAPED | FIELD_UNESCAPED)) === FIELD_ESCAPED;
  }

  /** Copies `buf[start, end)` with every `""` turned into `"` to `unescaped` at `at`; returns the new length. */
  private unescapeInto(buf: Uint8Array, start: number, end: number, at: number): number {
    if (at + (end - start) > this.unescaped.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.unescaped.length * 2, at + (end - start)));
      this.unescaped.copy(grown, 0, 0, at);
      this.unescaped = grown;
    }
    const out = this.unescaped;
    let w = at;
    for (let r = start; r < end; r++) {
      const b = buf[r];
      out[w++] = b;
      if (b === QUOTE) r++; // skip the second quote of the pair
    }
    return w;
  }

  private growFields(): void {
    const size = this.starts.length * 2;
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    const flags = new Uint8Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    flags.set(this.flags);
    this.starts = starts;
    this.ends = ends;
    this.flags = flags;
  }
}
