/**
 * Number parsing and formatting that reproduce the seed's pandas output byte for byte.
 *
 * pandas writes float64 values with Python's `repr`: the shortest decimal that round-trips,
 * `.0` on integral values, and exponent notation below 1e-4 or from 1e16 up (`1e-05`, `1e+16`).
 * JavaScript's `Number#toString` also gives the shortest round-trip digits but switches notation
 * at other thresholds (1e-7, 1e21), so only the notation is adapted here.
 */

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** Powers of ten that are exact in float64 (Clinger's fast path). */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => 10 ** i);
/** Significant digits that always fit exactly in a float64 mantissa. */
const MAX_EXACT_DIGITS = 15;

/**
 * Set by {@link parseDecimal}: whether the text it parsed is already what {@link formatFloat}
 * prints for the value, so the bytes can be copied instead of formatted (formatting a
 * non-integral float costs more than the rest of the number's handling). True for plain decimals
 * such as `105202.35` or `77.0`: no sign other than `-`, no leading zeros, a fraction without
 * trailing zeros (or exactly `.0`), no exponent, a value in [1e-4, 1e16), and at most 15
 * significant digits. Any decimal of at most 15 significant digits maps to a different float64
 * than every other such decimal, so it is the shortest text that round-trips: Python's repr.
 */
export const parsedDecimal = { canonical: false };

/**
 * Parses a decimal number (`12`, `-3.5`, `.5`, `5.`, `1e3`, `+7`) from `buf[start, end)`.
 * Returns NaN when the text is not a number in that grammar (no whitespace, no `inf`/`nan`,
 * no hex: the callers handle those rare forms); the result is ±Infinity when the exponent
 * overflows (`1e400`), as in current pandas.
 * Short inputs (≤ 15 significant digits, small exponent) are computed exactly with one
 * multiplication or division, which is correctly rounded; anything else goes to `Number()`,
 * which V8 also rounds correctly.
 */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number {
  // The usual cell (`105202.35`, `-3.0`): an optional minus, an integer part without a leading
  // zero, a fraction, at most 15 digits in all. One pass, the same value as below (the digits
  // make an exact integer, divided once by an exact power of ten), canonical unless the fraction
  // has a trailing zero. Anything else is read again by the general grammar.
  let i = start;
  const negative = i < end && buf[i] === MINUS;
  if (negative) i++;
  const integerStart = i;
  let mantissa = 0;
  for (; i < end; i++) {
    const d = buf[i] - DIGIT_0;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
  }
  const integerDigits = i - integerStart;
  if (integerDigits > 0 && integerDigits < MAX_EXACT_DIGITS && buf[integerStart] !== DIGIT_0 && i < end && buf[i] === DOT) {
    const fractionStart = ++i;
    for (; i < end; i++) {
      const d = buf[i] - DIGIT_0;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
    }
    const fractionDigits = i - fractionStart;
    if (i === end && fractionDigits > 0 && integerDigits + fractionDigits <= MAX_EXACT_DIGITS) {
      parsedDecimal.canonical = fractionDigits === 1 || buf[end - 1] !== DIGIT_0;
      const magnitude = mantissa / EXACT_POWERS_OF_TEN[fractionDigits];
      return negative ? -magnitude : magnitude;
    }
  }
  return parseDecimalGrammar(buf, start, end);
}

/** {@link parseDecimal} for any text of its grammar. */
function parseDecimalGrammar(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  let canonical = true;
  if (i < end && (buf[i] === MINUS || buf[i] === PLUS)) {
    negative = buf[i] === MINUS;
    canonical = negative;
    i++;
  }
  let mantissa = 0;
  let significantDigits = 0;
  let decimalExponent = 0;
  const integerStart = i;
  for (; i < end; i++) {
    const d = buf[i] - DIGIT_0;
    if (d < 0 || d > 9) break;
    if (significantDigits > 0 || d !== 0) {
      if (significantDigits < MAX_EXACT_DIGITS) mantissa = mantissa * 10 + d;
      else decimalExponent++;
      significantDigits++;
    }
  }
  const integerDigits = i - integerStart;
  // Python prints 0.5 for .5, 7.0 for 007.0, and switches to exponent notation from 1e16.
  if (integerDigits === 0 || integerDigits > 16 || (integerDigits > 1 && buf[integerStart] === DIGIT_0)) canonical = false;
  let fractionDigits = 0;
  let fractionLeadingZeros = 0;
  if (i < end && buf[i] === DOT) {
    for (i++; i < end; i++) {
      const d = buf[i] - DIGIT_0;
      if (d < 0 || d > 9) break;
      fractionDigits++;
      if (significantDigits > 0 || d !== 0) {
        if (significantDigits < MAX_EXACT_DIGITS) {
          mantissa = mantissa * 10 + d;
          decimalExponent--;
        }
        significantDigits++;
      } else {
        decimalExponent--;
        fractionLeadingZeros++;
      }
    }
    // A fraction must be `.0` or end in a non-zero digit (`5.` and `2.50` are not Python's text).
    if (fractionDigits === 0 || (fractionDigits > 1 && buf[i - 1] === DIGIT_0)) canonical = false;
  } else {
    canonical = false;
  }
  if (integerDigits + fractionDigits === 0) return NaN;
  if (i < end && (buf[i] === LOWER_E || buf[i] === UPPER_E)) {
    canonical = false;
    i++;
    let exponentNegative = false;
    if (i < end && (buf[i] === MINUS || buf[i] === PLUS)) {
      exponentNegative = buf[i] === MINUS;
      i++;
    }
    const exponentStart = i;
    let exponent = 0;
    for (; i < end; i++) {
      const d = buf[i] - DIGIT_0;
      if (d < 0 || d > 9) break;
      if (exponent < 100000) exponent = exponent * 10 + d;
    }
    if (i === exponentStart) return NaN;
    decimalExponent += exponentNegative ? -exponent : exponent;
  }
  if (i !== end) return NaN;
  // Below 1e-4 (0.0000x) Python uses exponent notation; zero itself is 0.0.
  const belowOneTenThousandth = significantDigits > 0 && integerDigits === 1 && buf[integerStart] === DIGIT_0 && fractionLeadingZeros > 3;
  if (significantDigits > MAX_EXACT_DIGITS || belowOneTenThousandth) canonical = false;
  parsedDecimal.canonical = canonical;
  if (significantDigits > MAX_EXACT_DIGITS || decimalExponent > 22 || decimalExponent < -22) {
    return Number(latin1(buf, start, end));
  }
  const magnitude = decimalExponent >= 0
    ? mantissa * EXACT_POWERS_OF_TEN[decimalExponent]
    : mantissa / EXACT_POWERS_OF_TEN[-decimalExponent];
  return negative ? -magnitude : magnitude;
}

/**
 * Whether `b` is a space that pandas' number parsers skip around a number (` 30.0`, `60000\t`):
 * its tokenizer's isspace_ascii, so space, \t, \n, \v, \f, \r.
 */
export function isNumberSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

/** `[start, end)` without the number spaces (isNumberSpace) around it: the cell's rare spaced forms (` 30.0`). */
export function trimNumberSpaces(buf: Uint8Array, start: number, end: number): [number, number] {
  let s = start;
  let e = end;
  while (s < e && isNumberSpace(buf[s])) s++;
  while (e > s && isNumberSpace(buf[e - 1])) e--;
  return [s, e];
}

const INFINITY_WORDS = ['inf', '+inf', 'infinity', '+infinity'];
const NEGATIVE_INFINITY_WORDS = ['-inf', '-infinity'];

/**
 * The words pandas reads as infinite floats, whole cell, any case, no surrounding spaces:
 * `inf`, `+inf`, `Infinity`, `+Infinity` (and `INF`, …) → Infinity; `-inf`, `-Infinity` → -Infinity.
 * NaN for any other text.
 */
export function parseInfinity(buf: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length < 3 || length > 9) return NaN;
  // ASCII lower case; other bytes cannot match the words anyway.
  const word = latin1(buf, start, end).toLowerCase();
  if (INFINITY_WORDS.includes(word)) return Infinity;
  if (NEGATIVE_INFINITY_WORDS.includes(word)) return -Infinity;
  return NaN;
}

/** Result of {@link parseInteger}: the canonical decimal text, or a reason it is not an integer. */
export type IntegerParse = { ok: true; canonical: string | undefined } | { ok: false; reason: 'not-integer' | 'out-of-range' };

const INT64_MAX = '9223372036854775807';
/** The usual result, shared: one object per row would keep the garbage collector busy. */
const ALREADY_CANONICAL: IntegerParse = Object.freeze({ ok: true, canonical: undefined });
const INT64_MIN_MAGNITUDE = '9223372036854775808';

/**
 * Validates an integer id in `buf[start, end)` (`17`, `-3`, `+007`) within the int64 range that
 * pandas reads into an integer column. `canonical` is undefined when the bytes are already the
 * canonical form pandas would print (the common case, so callers copy the bytes); otherwise it
 * holds that form (`+007` → `7`, `-0` → `0`).
 */
export function parseInteger(buf: Uint8Array, start: number, end: number): IntegerParse {
  let i = start;
  const sign = i < end ? buf[i] : 0;
  if (sign === MINUS || sign === PLUS) i++;
  if (i === end) return { ok: false, reason: 'not-integer' };
  let firstSignificant = -1;
  for (let j = i; j < end; j++) {
    const b = buf[j];
    if (b < DIGIT_0 || b > DIGIT_9) return { ok: false, reason: 'not-integer' };
    if (firstSignificant < 0 && b !== DIGIT_0) firstSignificant = j;
  }
  if (firstSignificant < 0) {
    // All zeros: pandas prints 0 whatever the sign or padding.
    return { ok: true, canonical: end - start === 1 ? undefined : '0' };
  }
  const digits = end - firstSignificant;
  if (digits > 19) return { ok: false, reason: 'out-of-range' };
  const negative = sign === MINUS;
  if (digits === 19) {
    const text = latin1(buf, firstSignificant, end);
    if (text > (negative ? INT64_MIN_MAGNITUDE : INT64_MAX)) return { ok: false, reason: 'out-of-range' };
  }
  const alreadyCanonical = sign !== PLUS && firstSignificant === i;
  if (alreadyCanonical) return ALREADY_CANONICAL;
  return { ok: true, canonical: (negative ? '-' : '') + latin1(buf, firstSignificant, end) };
}

/**
 * Formats a finite float64 the way Python's `repr` (and so pandas' `to_csv`) does.
 * NaN formats as the empty string: pandas writes missing values as empty cells.
 */
export function formatFloat(value: number): string {
  if (value !== value) return '';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = value < 0 ? -value : value;
  if (magnitude >= 1e16 || magnitude < 1e-4) return pythonExponentForm(value);
  const text = String(value);
  // Within [1e-4, 1e16) JavaScript never uses exponent notation.
  return text.includes('.') ? text : text + '.0';
}

/** `1.5e-5` → `1.5e-05`, `1e+16` stays: Python prints at least two exponent digits. */
function pythonExponentForm(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const text = value.toExponential();
  const e = text.indexOf('e');
  const mantissa = text.slice(0, e);
  const sign = text[e + 1];
  const digits = text.slice(e + 2);
  return `${mantissa}e${sign}${digits.length < 2 ? '0' + digits : digits}`;
}

/**
 * Writes {@link formatFloat}(value) into `buf` at `pos` and returns the new position. Small
 * integral values (ages, whole salaries: most of the data) are written digit by digit without
 * creating a string.
 */
export function writeFloat(buf: Uint8Array, pos: number, value: number): number {
  if (value > 0 && value < 2147483648 && (value | 0) === value) {
    pos = writeUnsignedInt(buf, pos, value);
    buf[pos] = DOT;
    buf[pos + 1] = DIGIT_0;
    return pos + 2;
  }
  return writeAscii(buf, pos, formatFloat(value));
}

/** Writes a non-negative int32 in decimal and returns the new position. */
export function writeUnsignedInt(buf: Uint8Array, pos: number, value: number): number {
  let digits = 1;
  for (let v = value; v >= 10; v = (v / 10) | 0) digits++;
  let p = pos + digits - 1;
  let v = value;
  do {
    const q = (v / 10) | 0;
    buf[p--] = DIGIT_0 + (v - q * 10);
    v = q;
  } while (v > 0);
  return pos + digits;
}

/** Writes an ASCII string and returns the new position. */
export function writeAscii(buf: Uint8Array, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[pos + i] = text.charCodeAt(i);
  return pos + text.length;
}

/** Decodes bytes as latin1 (one char per byte): cheap, and enough for ASCII number text. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}
