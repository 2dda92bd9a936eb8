/**
 * Reads `address`, `phone` and `email` out of the `profile` column, a JSON object.
 *
 * Nearly every profile is written the way Python's `json.dumps` writes it:
 * `{"address": "...", "phone": "...", "email": "..."}` with plain string values, sometimes without
 * one of the keys. That shape is matched on the bytes directly, giving the values as byte ranges
 * without decoding or parsing; any other text (escapes, other key order, extra keys, whitespace, nulls, numbers, invalid JSON)
 * goes through python-json.ts, so the result is what the walkthrough's `json.loads` and `str()`
 * give: `5551234567`, `True`; a null or NaN value is missing; a list or an object rejects the row.
 */
import type { QuotedValueReader } from './csv/scanner';
import { PyValue, PythonJsonError, parsePythonJson, pythonStr } from './python-json';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const FIRST_PRINTABLE = 0x20;

/** A literal of the shape, and its whole 32-bit words (little-endian) for comparing four bytes at a time. */
interface Literal {
  readonly bytes: Buffer;
  readonly words: Int32Array;
}

function literalOf(text: string): Literal {
  const bytes = Buffer.from(text);
  return { bytes, words: Int32Array.from({ length: bytes.length >> 2 }, (_, w) => bytes.readInt32LE(4 * w)) };
}

const SHAPE = ['{"address": "', '", "phone": "', '", "email": "', '"}'];
const JSON_LITERALS = SHAPE.map(literalOf);
/** The same shape as it stands in the CSV field, quotes doubled. */
const CSV_LITERALS = SHAPE.map(csvEscaped).map(literalOf);

/** The literals of the same shape with keys left out: each key's opening as the first and as a later key. */
interface PartialShape {
  readonly first: readonly Literal[];
  readonly later: readonly Literal[];
  readonly close: Literal;
}
const KEY_NAMES = ['address', 'phone', 'email'];
const PARTIAL_FIRST = KEY_NAMES.map((k) => `{"${k}": "`);
const PARTIAL_LATER = KEY_NAMES.map((k) => `", "${k}": "`);
const JSON_PARTIAL: PartialShape = {
  first: PARTIAL_FIRST.map(literalOf),
  later: PARTIAL_LATER.map(literalOf),
  close: JSON_LITERALS[3],
};
const CSV_PARTIAL: PartialShape = {
  first: PARTIAL_FIRST.map(csvEscaped).map(literalOf),
  later: PARTIAL_LATER.map(csvEscaped).map(literalOf),
  close: CSV_LITERALS[3],
};

const LONE_SURROGATE = /\p{Surrogate}/u;
const EMPTY = Buffer.alloc(0);

export const PROFILE_KEYS = ['address', 'phone', 'email'] as const;

/** The three values as byte ranges; a missing key, a null or a missing profile gives an empty range. */
export class ProfileFields {
  readonly bufs: Buffer[] = [EMPTY, EMPTY, EMPTY];
  readonly starts = new Int32Array(3);
  readonly ends = new Int32Array(3);
  /**
   * Whether the values were decoded from JSON (escapes, numbers) rather than copied from the
   * input: then they may hold non-ASCII characters that the input row spelled in ASCII (`\u00e9`).
   */
  decoded = false;
  /** Whether the values hold no quote and no line break (read by a fast path), so only a delimiter makes one need quoting. */
  plain = false;
  /** For plain values: 1 where the value holds a comma (it is written quoted). */
  readonly commas = new Uint8Array(3);

  clear(): void {
    for (let k = 0; k < 3; k++) this.set(k, EMPTY, 0, 0);
    this.decoded = false;
    this.plain = true;
  }

  set(k: number, buf: Buffer, start: number, end: number, comma = false): void {
    // Row after row the buffer is the same (a range's input): a read is cheaper than a store.
    if (this.bufs[k] !== buf) this.bufs[k] = buf;
    this.starts[k] = start;
    this.ends[k] = end;
    this.commas[k] = comma ? 1 : 0;
  }

  isEmpty(k: number): boolean {
    return this.ends[k] === this.starts[k];
  }
}

/**
 * Fills `out` from the profile JSON in `buf[start, end)`. Returns undefined on success or the
 * reason the row must be rejected. The bytes are known to be valid UTF-8.
 */
export function readProfile(buf: Buffer, start: number, end: number, out: ProfileFields): string | undefined {
  if (matchPythonDumpsShape(buf, start, end, out, JSON_LITERALS) || matchPartialShape(buf, start, end, out, JSON_PARTIAL)) return undefined;
  return parseProfileJson(buf.toString('utf8', start, end), out);
}

/**
 * The usual shape read straight from the CSV field's escaped bytes (`{""address"": ""...`), so the
 * field need not be unescaped first. The values contain no quotes, so their bytes are the values.
 * False when the field has another shape: then unescape it and call {@link readProfile}.
 */
export function readEscapedProfile(buf: Buffer, start: number, end: number, out: ProfileFields): boolean {
  return matchPythonDumpsShape(buf, start, end, out, CSV_LITERALS) || matchPartialShape(buf, start, end, out, CSV_PARTIAL);
}

function matchPythonDumpsShape(buf: Buffer, start: number, end: number, out: ProfileFields, literals: readonly Literal[]): boolean {
  return matchShapeFrom(buf, start, end, out, literals, false) === end;
}

/**
 * The full shape from `start` on: the offset after its closing literal, else -1. `valueEnd` finds
 * the end of each value. Fills `out` when the shape matches.
 */
function matchShapeFrom(
  buf: Buffer, start: number, end: number, out: ProfileFields, literals: readonly Literal[], asciiOnly: boolean,
): number {
  let p = matchLiteral(buf, start, end, literals[0]);
  if (p < 0) return -1;
  const addressEnd = (asciiOnly ? asciiStringEnd(buf, p, end) : plainStringEnd(buf, p, end));
  if (addressEnd < 0) return -1;
  const addressStart = p;
  const addressComma = stringHasComma;
  p = matchLiteral(buf, addressEnd, end, literals[1]);
  if (p < 0) return -1;
  const phoneEnd = (asciiOnly ? asciiStringEnd(buf, p, end) : plainStringEnd(buf, p, end));
  if (phoneEnd < 0) return -1;
  const phoneStart = p;
  const phoneComma = stringHasComma;
  p = matchLiteral(buf, phoneEnd, end, literals[2]);
  if (p < 0) return -1;
  const emailEnd = (asciiOnly ? asciiStringEnd(buf, p, end) : plainStringEnd(buf, p, end));
  if (emailEnd < 0) return -1;
  const emailStart = p;
  const emailComma = stringHasComma;
  p = matchLiteral(buf, emailEnd, end, literals[3]);
  if (p < 0) return -1;
  out.decoded = false;
  out.plain = true;
  out.set(0, buf, addressStart, addressEnd, addressComma);
  out.set(1, buf, phoneStart, phoneEnd, phoneComma);
  out.set(2, buf, emailStart, emailEnd, emailComma);
  return p;
}

/**
 * Reads the profile column's usual shape (all three keys, ASCII values without escapes) while the
 * scanner scans the record, from the CSV field's escaped bytes into `out` (csv/scanner.ts
 * QuotedValueReader). Any other profile is scanned by the byte loop and read by RowCleaner's
 * usual path (readEscapedProfile, readProfile).
 */
export class ProfileShapeReader implements QuotedValueReader {
  constructor(readonly field: number, private readonly out: ProfileFields) {}

  read(buf: Buffer, start: number, end: number): number {
    const closingQuote = matchShapeFrom(buf, start, end, this.out, CSV_LITERALS, true);
    if (closingQuote < 0 || closingQuote + 1 >= end || buf[closingQuote] !== QUOTE || buf[closingQuote + 1] === QUOTE) return -1;
    return closingQuote;
  }
}

/**
 * The shape with one or two of the keys left out (the others in the same order). Writes `out`
 * as it goes; when it returns false the caller's slow path rewrites every value.
 */
function matchPartialShape(buf: Buffer, start: number, end: number, out: ProfileFields, shape: PartialShape): boolean {
  let p = start;
  let found = 0;
  for (let k = 0; k < 3; k++) {
    const valueStart = matchLiteral(buf, p, end, found === 0 ? shape.first[k] : shape.later[k]);
    if (valueStart < 0) {
      out.set(k, EMPTY, 0, 0);
      continue;
    }
    const valueEnd = plainStringEnd(buf, valueStart, end);
    if (valueEnd < 0) return false;
    out.set(k, buf, valueStart, valueEnd, stringHasComma);
    p = valueEnd;
    found++;
  }
  if (found === 0 || matchLiteral(buf, p, end, shape.close) !== end) return false;
  out.decoded = false;
  out.plain = true;
  return true;
}

function csvEscaped(text: string): string {
  return text.replace(/"/g, '""');
}

/** The buffer matchLiteral last read and a DataView of it (a range's profiles are all in its input buffer). */
let viewed: Buffer | undefined;
let view: DataView | undefined;

/** The offset after `literal` when `buf[pos, end)` starts with it, else -1; compares four bytes per step. */
function matchLiteral(buf: Buffer, pos: number, end: number, literal: Literal): number {
  const bytes = literal.bytes;
  if (end - pos < bytes.length) return -1;
  if (buf !== viewed) {
    viewed = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const words = literal.words;
  for (let w = 0; w < words.length; w++) {
    if (view!.getInt32(pos + 4 * w, true) !== words[w]) return -1;
  }
  for (let k = 4 * words.length; k < bytes.length; k++) {
    if (buf[pos + k] !== bytes[k]) return -1;
  }
  return pos + bytes.length;
}

/** Set by asciiStringEnd and plainStringEnd: whether the string it read holds a comma (so its CSV cell must be quoted). */
let stringHasComma = false;

/**
 * Index of the closing quote of a JSON string body of printable ASCII without escapes, else -1;
 * notes {@link stringHasComma}. A copy of plainStringEnd with the ASCII test on purpose: one
 * function with a flag for it made pass 1 measurably slower (the scanner's reader calls this).
 */
function asciiStringEnd(buf: Buffer, pos: number, end: number): number {
  let comma = false;
  for (let k = pos; k < end; k++) {
    const b = buf[k];
    if (b === QUOTE) {
      stringHasComma = comma;
      return k;
    }
    if (b === COMMA) comma = true;
    else if (b === BACKSLASH || b < FIRST_PRINTABLE || b >= 0x80) return -1;
  }
  return -1;
}

/** Index of the closing quote of a JSON string body with no escapes or control characters, else -1; notes {@link stringHasComma}. */
function plainStringEnd(buf: Buffer, pos: number, end: number): number {
  let comma = false;
  for (let k = pos; k < end; k++) {
    const b = buf[k];
    if (b === QUOTE) {
      stringHasComma = comma;
      return k;
    }
    if (b === COMMA) comma = true;
    else if (b === BACKSLASH || b < FIRST_PRINTABLE) return -1;
  }
  return -1;
}

function parseProfileJson(text: string, out: ProfileFields): string | undefined {
  let value: PyValue;
  try {
    value = parsePythonJson(text);
  } catch (error) {
    if (error instanceof PythonJsonError) return `profile is not a JSON object (invalid JSON: ${error.message})`;
    throw error;
  }
  if (!(value instanceof Map)) return `profile is not a JSON object (found ${describe(value)})`;
  for (let k = 0; k < PROFILE_KEYS.length; k++) {
    const key = PROFILE_KEYS[k];
    const v = value.get(key);
    // pandas writes None and NaN as empty cells: missing values.
    if (v === undefined || v === null || v !== v) {
      out.set(k, EMPTY, 0, 0);
      continue;
    }
    // pandas' duplicated() cannot hash a list or a dict, and the walkthrough's script fails on it
    // (SPEC §5); the other keys of the profile are not read, whatever their values.
    if (Array.isArray(v) || v instanceof Map) return `profile.${key} is a JSON ${Array.isArray(v) ? 'list' : 'object'}, not a value`;
    // A lone surrogate cannot be written as UTF-8 (pandas fails on it).
    if (typeof v === 'string' && LONE_SURROGATE.test(v)) return `profile.${key} contains an unpaired UTF-16 surrogate`;
    const bytes = Buffer.from(pythonStr(v), 'utf8');
    out.set(k, bytes, 0, bytes.length);
  }
  out.decoded = true;
  out.plain = false;
  return undefined;
}

function describe(value: PyValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'bigint' ? 'number' : typeof value;
}

/** Number of Unicode code points in UTF-8 bytes (Python's `len` of the decoded string). */
export function codePointCount(buf: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (let k = start; k < end; k++) {
    if ((buf[k] & 0xc0) !== 0x80) count++;
  }
  return count;
}
