/**
 * Reads `address`, `phone` and `email` out of the `profile` column, a JSON object.
 *
 * Nearly every profile is written the way Python's `json.dumps` writes it:
 * `{"address": "...", "phone": "...", "email": "..."}` with plain string values. That exact shape
 * is matched on the bytes directly, giving the values as byte ranges without decoding or parsing;
 * any other text (escapes, other key order, extra keys, whitespace, nulls, invalid JSON) goes
 * through `JSON.parse`, so the result is always what a JSON parser would give.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const FIRST_PRINTABLE = 0x20;

const ADDRESS_OPEN = Buffer.from('{"address": "');
const PHONE_OPEN = Buffer.from('", "phone": "');
const EMAIL_OPEN = Buffer.from('", "email": "');
const CLOSE = Buffer.from('"}');
/** The same shape as it stands in the CSV field, quotes doubled. */
const CSV_LITERALS = [ADDRESS_OPEN, PHONE_OPEN, EMAIL_OPEN, CLOSE].map((l) => Buffer.from(l.toString().replace(/"/g, '""')));
const JSON_LITERALS = [ADDRESS_OPEN, PHONE_OPEN, EMAIL_OPEN, CLOSE];

const LONE_SURROGATE = /\p{Surrogate}/u;
const EMPTY = Buffer.alloc(0);

export const PROFILE_KEYS = ['address', 'phone', 'email'] as const;

/** The three values as byte ranges; a missing key, a null or a missing profile gives an empty range. */
export class ProfileFields {
  readonly bufs: Buffer[] = [EMPTY, EMPTY, EMPTY];
  readonly starts = new Int32Array(3);
  readonly ends = new Int32Array(3);

  clear(): void {
    for (let k = 0; k < 3; k++) this.set(k, EMPTY, 0, 0);
  }

  set(k: number, buf: Buffer, start: number, end: number): void {
    this.bufs[k] = buf;
    this.starts[k] = start;
    this.ends[k] = end;
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
  if (matchPythonDumpsShape(buf, start, end, out, JSON_LITERALS)) return undefined;
  return parseProfileJson(buf.toString('utf8', start, end), out);
}

/**
 * The usual shape read straight from the CSV field's escaped bytes (`{""address"": ""...`), so the
 * field need not be unescaped first. The values contain no quotes, so their bytes are the values.
 * False when the field has another shape: then unescape it and call {@link readProfile}.
 */
export function readEscapedProfile(buf: Buffer, start: number, end: number, out: ProfileFields): boolean {
  return matchPythonDumpsShape(buf, start, end, out, CSV_LITERALS);
}

function matchPythonDumpsShape(buf: Buffer, start: number, end: number, out: ProfileFields, literals: readonly Buffer[]): boolean {
  let p = matchLiteral(buf, start, end, literals[0]);
  if (p < 0) return false;
  const addressEnd = plainStringEnd(buf, p, end);
  if (addressEnd < 0) return false;
  const addressStart = p;
  p = matchLiteral(buf, addressEnd, end, literals[1]);
  if (p < 0) return false;
  const phoneEnd = plainStringEnd(buf, p, end);
  if (phoneEnd < 0) return false;
  const phoneStart = p;
  p = matchLiteral(buf, phoneEnd, end, literals[2]);
  if (p < 0) return false;
  const emailEnd = plainStringEnd(buf, p, end);
  if (emailEnd < 0) return false;
  const emailStart = p;
  if (matchLiteral(buf, emailEnd, end, literals[3]) !== end) return false;
  out.set(0, buf, addressStart, addressEnd);
  out.set(1, buf, phoneStart, phoneEnd);
  out.set(2, buf, emailStart, emailEnd);
  return true;
}

function matchLiteral(buf: Buffer, pos: number, end: number, literal: Buffer): number {
  if (end - pos < literal.length) return -1;
  for (let k = 0; k < literal.length; k++) {
    if (buf[pos + k] !== literal[k]) return -1;
  }
  return pos + literal.length;
}

/** Index of the closing quote of a JSON string body with no escapes or control characters, else -1. */
function plainStringEnd(buf: Buffer, pos: number, end: number): number {
  for (let k = pos; k < end; k++) {
    const b = buf[k];
    if (b === QUOTE) return k;
    if (b === BACKSLASH || b < FIRST_PRINTABLE) return -1;
  }
  return -1;
}

function parseProfileJson(text: string, out: ProfileFields): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'profile is not a JSON object (invalid JSON)';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `profile is not a JSON object (found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})`;
  }
  const record = value as Record<string, unknown>;
  for (let k = 0; k < PROFILE_KEYS.length; k++) {
    const key = PROFILE_KEYS[k];
    const v = Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
    if (v === undefined || v === null) {
      out.set(k, EMPTY, 0, 0);
    } else if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return `profile.${key} contains an unpaired UTF-16 surrogate`;
      const bytes = Buffer.from(v, 'utf8');
      out.set(k, bytes, 0, bytes.length);
    } else {
      return `profile.${key} is not a string (found ${Array.isArray(v) ? 'an array' : typeof v})`;
    }
  }
  return undefined;
}

/** Number of Unicode code points in UTF-8 bytes (Python's `len` of the decoded string). */
export function codePointCount(buf: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (let k = start; k < end; k++) {
    if ((buf[k] & 0xc0) !== 0x80) count++;
  }
  return count;
}
