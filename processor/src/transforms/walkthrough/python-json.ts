/**
 * The walkthrough reads each profile with Python's `json.loads` and writes its values with
 * `str()` (pandas' to_csv). JavaScript's JSON.parse differs from `json.loads` in what it accepts
 * (`NaN`, `Infinity`, `-Infinity`), in numbers (Python keeps integers exact at any size and tells
 * `5` from `5.0`) and in key order (integer-like keys move first in a JS object). So the profile's
 * slow path (any profile that is not the plain `json.dumps` shape, see profile.ts) parses with
 * this module and prints values as Python does. It runs on rare rows only; clarity over speed.
 */
import { formatFloat } from './format';

/**
 * A JSON value as Python's json module returns it: str → string, int → bigint, float → number,
 * bool → boolean, None → null, list → array, dict → Map (insertion order; a repeated key keeps
 * its first position and its last value, as a Python dict).
 */
export type PyValue = string | bigint | number | boolean | null | PyValue[] | PyDict;
export interface PyDict extends Map<string, PyValue> {}

/** The input is not JSON that `json.loads` accepts. */
export class PythonJsonError extends Error {}

/**
 * Python refuses to convert integers of more digits than this from text (sys.int_info, since
 * 3.11), so `json.loads` fails on them.
 */
export const MAX_INT_DIGITS = 4300;
/** Deeper nesting is refused instead of exhausting the stack (Python's limit is about 1000). */
export const MAX_DEPTH = 512;

const WHITESPACE = ' \t\n\r';
const QUOTE_CODE = 0x22;
const BACKSLASH_CODE = 0x5c;
const FIRST_PRINTABLE_CODE = 0x20;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t' };
const CONSTANTS: ReadonlyArray<[string, PyValue]> = [
  ['null', null], ['true', true], ['false', false], ['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity],
];

/** `json.loads(text)`; throws PythonJsonError where Python raises. */
export function parsePythonJson(text: string): PyValue {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.value(0);
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail('extra data');
  return value;
}

class Parser {
  pos = 0;

  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new PythonJsonError(`${what} at character ${this.pos}`);
  }

  skipWhitespace(): void {
    while (this.pos < this.text.length && WHITESPACE.includes(this.text[this.pos])) this.pos++;
  }

  value(depth: number): PyValue {
    const c = this.text[this.pos];
    if (c === '"') return this.string();
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
      return c === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = this.pos;
      const match = NUMBER.exec(this.text);
      if (match) {
        this.pos += match[0].length;
        return match[1] === undefined && match[2] === undefined ? integer(match[0], this) : Number(match[0]);
      }
    }
    for (const [word, value] of CONSTANTS) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail('expecting value');
  }

  private string(): string {
    const text = this.text;
    let out = '';
    // Runs of plain characters are copied as slices, not character by character.
    let runStart = ++this.pos;
    for (;;) {
      if (this.pos >= text.length) this.fail('unterminated string');
      const code = text.charCodeAt(this.pos);
      if (code === QUOTE_CODE) {
        out += text.slice(runStart, this.pos++);
        return out;
      }
      if (code < FIRST_PRINTABLE_CODE) this.fail('invalid control character');
      if (code !== BACKSLASH_CODE) {
        this.pos++;
        continue;
      }
      out += text.slice(runStart, this.pos);
      const e = text[this.pos + 1];
      if (e === 'u') {
        const digits = text.slice(this.pos + 2, this.pos + 6);
        if (!HEX4.test(digits)) this.fail('invalid \\uXXXX escape');
        // Escaped surrogate pairs become one code point in both languages: JS strings are UTF-16.
        out += String.fromCharCode(parseInt(digits, 16));
        this.pos += 6;
      } else if (e !== undefined && Object.prototype.hasOwnProperty.call(SIMPLE_ESCAPES, e)) {
        out += SIMPLE_ESCAPES[e];
        this.pos += 2;
      } else {
        this.fail('invalid escape');
      }
      runStart = this.pos;
    }
  }

  private object(depth: number): PyDict {
    const dict: PyDict = new Map();
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return dict;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('expecting property name enclosed in double quotes');
      const key = this.string();
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail('expecting \':\' delimiter');
      this.pos++;
      this.skipWhitespace();
      dict.set(key, this.value(depth));
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === '}') return dict;
      if (c !== ',') this.fail('expecting \',\' delimiter');
      this.skipWhitespace();
    }
  }

  private array(depth: number): PyValue[] {
    const list: PyValue[] = [];
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return list;
    }
    for (;;) {
      list.push(this.value(depth));
      this.skipWhitespace();
      const c = this.text[this.pos++];
      if (c === ']') return list;
      if (c !== ',') this.fail('expecting \',\' delimiter');
      this.skipWhitespace();
    }
  }
}

function integer(text: string, parser: Parser): bigint {
  const digits = text.length - (text[0] === '-' ? 1 : 0);
  if (digits > MAX_INT_DIGITS) parser.fail(`an integer of more than ${MAX_INT_DIGITS} digits`);
  return BigInt(text);
}

/** Python's `str(value)`: a string as is, anything else as {@link pythonRepr}. */
export function pythonStr(value: PyValue): string {
  return typeof value === 'string' ? value : pythonRepr(value);
}

/** Python's `repr(value)`: `None`, `True`, `12`, `1.5`, `nan`, `'text'`, `[1, 2]`, `{'k': 'v'}`. */
export function pythonRepr(value: PyValue): string {
  if (value === null) return 'None';
  switch (typeof value) {
    case 'boolean':
      return value ? 'True' : 'False';
    case 'bigint':
      return value.toString();
    case 'number':
      return value !== value ? 'nan' : formatFloat(value);
    case 'string':
      return pythonStringRepr(value);
  }
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  return `{${[...value].map(([k, v]) => `${pythonStringRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
}

/**
 * Characters Python's `str.isprintable()` rejects: categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs
 * (the space aside, handled before). The Unicode versions may differ slightly (Python 3.11 has
 * Unicode 14, Node its ICU's), which matters only for characters assigned since.
 */
const NOT_PRINTABLE = /^[\p{C}\p{Z}]$/u;

/** CPython's unicode_repr: quotes, backslash escapes, `\xNN` / `\uNNNN` / `\UNNNNNNNN`. */
export function pythonStringRepr(text: string): string {
  const quote = text.includes('\'') && !text.includes('"') ? '"' : '\'';
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + hex(code, 2);
    else if (code < 0x7f || !NOT_PRINTABLE.test(ch)) out += ch;
    else if (code <= 0xff) out += '\\x' + hex(code, 2);
    else if (code <= 0xffff) out += '\\u' + hex(code, 4);
    else out += '\\U' + hex(code, 8);
  }
  return out + quote;
}

function hex(code: number, digits: number): string {
  return code.toString(16).padStart(digits, '0');
}
