import { isUtf8 } from 'node:buffer';
import { CsvScanner, FIELD_QUOTED, MalformedKind } from './csv/scanner';
import { IntegerParse, latin1, parseDecimal, parseInfinity, parseInteger, parsedDecimal, trimNumberSpaces } from './format';
import { MissingValues } from './missing';
import { PROFILE_KEYS, ProfileFields, ProfileShapeReader, codePointCount, readEscapedProfile, readProfile } from './profile';
import { BadInputError } from '../../runtime/errors';

/** Columns the input must have, in the seed's order (the input may order them differently). */
export const INPUT_COLUMNS = ['id', 'name', 'age', 'salary', 'hire_date', 'profile', 'department', 'bonus'] as const;
/** cleaned_data columns; input columns that are not in INPUT_COLUMNS follow them, in input order. */
export const CLEANED_COLUMNS = ['id', 'name', 'age', 'salary', 'hire_date', 'department', 'bonus', ...PROFILE_KEYS] as const;
/** Added by transformed_data after the cleaned columns (and after any extra columns). */
export const DERIVED_COLUMNS = ['address_length', 'salary_category', 'age_group'] as const;
/** department_statistics columns. */
export const DEPARTMENT_STATISTICS_COLUMNS = ['Department', 'Average Salary', 'Average Age'] as const;
/** Department of rows whose department is missing. */
export const UNKNOWN_DEPARTMENT = 'Unknown';

/** Where each known column sits in the input, and which input columns are carried through as extras. */
export interface ColumnLayout {
  readonly id: number;
  readonly name: number;
  readonly age: number;
  readonly salary: number;
  readonly hireDate: number;
  readonly profile: number;
  readonly department: number;
  readonly bonus: number;
  /** Input positions of the extra columns, in input order. */
  readonly extras: readonly number[];
  readonly inputNames: readonly string[];
  readonly cleanedNames: readonly string[];
  readonly transformedNames: readonly string[];
}

/**
 * Resolves the header row. Throws BadInputError when a required column is missing, a name
 * repeats, or an extra column would collide with an output column.
 */
export function resolveColumns(names: readonly string[]): ColumnLayout {
  const positions = new Map<string, number>();
  names.forEach((name, i) => {
    if (positions.has(name)) throw new BadInputError(`input header repeats column '${name}'`);
    positions.set(name, i);
  });
  const missing = INPUT_COLUMNS.filter((c) => !positions.has(c));
  if (missing.length > 0) {
    throw new BadInputError(
      `input is missing required column(s) ${missing.map((c) => `'${c}'`).join(', ')}; `
      + `expected a CSV header with ${INPUT_COLUMNS.join(',')} (found: ${describeHeader(names)})`,
    );
  }
  const known = new Set<string>(INPUT_COLUMNS);
  const extras = names.map((_, i) => i).filter((i) => !known.has(names[i]));
  const outputNames = new Set<string>([...CLEANED_COLUMNS, ...DERIVED_COLUMNS]);
  for (const i of extras) {
    if (outputNames.has(names[i])) {
      throw new BadInputError(`input column '${names[i]}' collides with the output column of the same name`);
    }
  }
  const extraNames = extras.map((i) => names[i]);
  const at = (c: string): number => positions.get(c)!;
  return {
    id: at('id'),
    name: at('name'),
    age: at('age'),
    salary: at('salary'),
    hireDate: at('hire_date'),
    profile: at('profile'),
    department: at('department'),
    bonus: at('bonus'),
    extras,
    inputNames: names,
    cleanedNames: [...CLEANED_COLUMNS, ...extraNames],
    transformedNames: [...CLEANED_COLUMNS, ...extraNames, ...DERIVED_COLUMNS],
  };
}

function describeHeader(names: readonly string[]): string {
  const text = names.join(',');
  return JSON.stringify(text.length > 120 ? text.slice(0, 120) + '...' : text);
}

/** Reads the header record's names; the header must be well-formed UTF-8 CSV. */
export function readHeader(scanner: CsvScanner, buf: Buffer): string[] {
  if (scanner.nonAscii && !isUtf8(buf.subarray(scanner.recordStart, scanner.recordEnd))) {
    throw new BadInputError('input header is not UTF-8 text; expected a CSV file');
  }
  if (scanner.malformed !== undefined) {
    throw new BadInputError(`input header is not valid CSV: ${malformedReason(scanner.malformed, scanner.malformedField)}`);
  }
  const names: string[] = [];
  for (let f = 0; f < scanner.fieldCount; f++) {
    names.push(scanner.bufferOf(f, buf).toString('utf8', scanner.starts[f], scanner.ends[f]));
  }
  return names;
}

/** salary_category labels; index 0 (empty) for salaries outside [0, 100000]. */
export const SALARY_CATEGORIES = ['', 'low', 'medium', 'high'] as const;
/** age_group labels; index 0 (empty) for negative or missing ages. */
export const AGE_GROUPS = ['', 'Young', 'Early Career', 'Mid Career', 'Senior', 'Experienced'] as const;

/** salary_category: [0, 50000] low, (50000, 70000] medium, (70000, 100000] high, else empty. */
export function salaryCategoryIndex(salary: number): number {
  if (salary >= 0 && salary <= 50000) return 1;
  if (salary > 50000 && salary <= 70000) return 2;
  if (salary > 70000 && salary <= 100000) return 3;
  return 0;
}

/** age_group: [0, 25] Young, (25, 35] Early Career, (35, 45] Mid Career, (45, 55] Senior, > 55 Experienced. */
export function ageGroupIndex(age: number): number {
  if (age >= 0 && age <= 25) return 1;
  if (age > 25 && age <= 35) return 2;
  if (age > 35 && age <= 45) return 3;
  if (age > 45 && age <= 55) return 4;
  if (age > 55) return 5;
  return 0;
}

export function salaryCategory(salary: number): string {
  return SALARY_CATEGORIES[salaryCategoryIndex(salary)];
}

export function ageGroup(age: number): string {
  return AGE_GROUPS[ageGroupIndex(age)];
}

function malformedReason(kind: MalformedKind, field: number): string {
  switch (kind) {
    case 'stray-quote':
      return `field ${field + 1} has a quote character inside an unquoted value`;
    case 'text-after-closing-quote':
      return `field ${field + 1} has text after its closing quote`;
    case 'unterminated-quote':
      return `field ${field + 1} has an unterminated quoted value`;
  }
}

/** Whether input field `f` was quoted: only then can its value need quoting when written. */
export function wasQuoted(scanner: CsvScanner, f: number): boolean {
  return (scanner.flags[f] & FIELD_QUOTED) !== 0;
}

const MAX_QUOTED_VALUE_CHARS = 40;

/** What the row cleaner needs besides the column layout. */
export interface RowCleanerOptions {
  /** Which cells are missing values (SPEC §5: empty, and pandas' tokens unless `--na-values empty`). */
  readonly missing: MissingValues;
}

/**
 * Validates one data record and extracts what the outputs need. After {@link check} returns
 * false, {@link reason} says why the row is rejected; after true, the numeric fields hold the
 * parsed values (NaN for a missing value) and {@link profile} the address/phone/email ranges.
 *
 * The usual cells take the fast paths (a plain decimal, the `json.dumps` profile shape, a text
 * cell that cannot be a missing-value token by its length and first byte); what pandas also
 * reads — spaces around numbers, `inf`, missing-value tokens, other JSON — is handled only when
 * a fast path fails.
 */
export class RowCleaner {
  reason = '';
  age = NaN;
  salary = NaN;
  bonus = NaN;
  /** Whether the input text of age / salary / bonus is already how it prints (see parsedDecimal). */
  ageIsCanonical = false;
  salaryIsCanonical = false;
  bonusIsCanonical = false;
  /** The id as pandas prints it when the input's bytes are not already that text. */
  idCanonical: string | undefined;
  readonly profile = new ProfileFields();
  /** Give it to the scanner (CsvScanner.quotedValueReader): it reads the usual profiles into {@link profile} during the scan. */
  readonly profileReader: ProfileShapeReader;
  addressLength = 0;
  private readonly missing: MissingValues;

  constructor(readonly layout: ColumnLayout, options: RowCleanerOptions) {
    this.missing = options.missing;
    this.profileReader = new ProfileShapeReader(layout.profile, this.profile);
  }

  check(scanner: CsvScanner, buf: Buffer): boolean {
    const layout = this.layout;
    if (scanner.malformed !== undefined) return this.reject(malformedReason(scanner.malformed, scanner.malformedField));
    if (scanner.nonAscii && !isUtf8(buf.subarray(scanner.recordStart, scanner.recordEnd))) {
      return this.reject('row is not valid UTF-8 text');
    }
    if (scanner.fieldCount !== layout.inputNames.length) {
      return this.reject(`expected ${layout.inputNames.length} fields, found ${scanner.fieldCount}`);
    }

    if (!this.readId(scanner, buf)) return false;
    this.age = this.readNumber(scanner, buf, layout.age, 'age');
    if (this.reason) return false;
    this.ageIsCanonical = parsedDecimal.canonical;
    this.salary = this.readNumber(scanner, buf, layout.salary, 'salary');
    if (this.reason) return false;
    this.salaryIsCanonical = parsedDecimal.canonical;
    this.bonus = this.readNumber(scanner, buf, layout.bonus, 'bonus');
    if (this.reason) return false;
    this.bonusIsCanonical = parsedDecimal.canonical;

    const p = layout.profile;
    const profileStart = scanner.starts[p];
    const profileEnd = scanner.ends[p];
    // A token has no quote, so a field with `""` escapes is never one (and stays escaped for the fast path).
    if (profileStart === profileEnd || (!scanner.isEscaped(p) && this.missing.isToken(buf, profileStart, profileEnd))) {
      this.profile.clear();
      this.addressLength = 0;
    } else {
      // A field the scanner's ProfileShapeReader read is in `profile` already.
      if (!scanner.wasRead(p) && (!scanner.isEscaped(p) || !readEscapedProfile(buf, profileStart, profileEnd, this.profile))) {
        const src = scanner.bufferOf(p, buf);
        const problem = readProfile(src, scanner.starts[p], scanner.ends[p], this.profile);
        if (problem !== undefined) return this.reject(problem);
      }
      const profile = this.profile;
      // In ASCII text every byte is a character; decoded JSON may hold what the row spelled `\u00e9`.
      this.addressLength = scanner.nonAscii || profile.decoded
        ? codePointCount(profile.bufs[0], profile.starts[0], profile.ends[0])
        : profile.ends[0] - profile.starts[0];
    }
    this.reason = '';
    return true;
  }

  /** Reads the id (required, an int64); sets {@link idCanonical} or rejects. */
  private readId(scanner: CsvScanner, buf: Buffer): boolean {
    const f = this.layout.id;
    const src = scanner.bufferOf(f, buf);
    const start = scanner.starts[f];
    const end = scanner.ends[f];
    if (start === end) return this.reject('id is missing');
    const id = parseInteger(src, start, end);
    if (id.ok) {
      this.idCanonical = id.canonical;
      return true;
    }
    return this.readUnusualId(src, start, end, id);
  }

  /** The forms pandas also reads as an id (spaces around it), or the reason the row is rejected. */
  private readUnusualId(src: Buffer, start: number, end: number, failed: IntegerParse): boolean {
    if (this.missing.isToken(src, start, end)) return this.reject(`id is missing (${quoteValue(src, start, end)} is a missing value)`);
    const id = parseSpacedInteger(src, start, end) ?? failed;
    if (id.ok) {
      this.idCanonical = id.canonical;
      return true;
    }
    const problem = id.reason === 'out-of-range' ? 'is outside the 64-bit integer range' : 'is not an integer';
    return this.reject(`id ${problem}: ${quoteValue(src, start, end)}`);
  }

  /**
   * Parses a float column: NaN for a missing value; sets {@link reason} when it is not a number.
   * Afterwards `parsedDecimal.canonical` tells whether the text can be copied as is.
   */
  private readNumber(scanner: CsvScanner, buf: Buffer, f: number, column: string): number {
    this.reason = '';
    parsedDecimal.canonical = false;
    const src = scanner.bufferOf(f, buf);
    const start = scanner.starts[f];
    const end = scanner.ends[f];
    if (start === end) return NaN;
    const value = parseDecimal(src, start, end);
    if (value === value) return value;
    return this.readUnusualNumber(src, start, end, column);
  }

  /** The forms pandas also reads as floats: missing-value tokens, spaces around a number, `inf`. */
  private readUnusualNumber(src: Buffer, start: number, end: number, column: string): number {
    parsedDecimal.canonical = false;
    if (this.missing.isToken(src, start, end)) return NaN;
    const [s, e] = trimNumberSpaces(src, start, end);
    if (s < e && (s > start || e < end)) {
      const value = parseDecimal(src, s, e);
      parsedDecimal.canonical = false;
      if (value === value) return value;
    }
    const infinity = parseInfinity(src, start, end);
    if (infinity === infinity) return infinity;
    this.reason = `${column} is not a number: ${quoteValue(src, start, end)}`;
    return NaN;
  }

  private reject(reason: string): false {
    this.reason = reason;
    return false;
  }
}

/** An integer with spaces around it (` 7 `), as pandas reads it; undefined when there are none. */
function parseSpacedInteger(src: Buffer, start: number, end: number): IntegerParse | undefined {
  const [s, e] = trimNumberSpaces(src, start, end);
  if (s === e || (s === start && e === end)) return undefined;
  const id = parseInteger(src, s, e);
  // The bytes written are the field's, spaces included, unless a canonical text is given.
  return id.ok ? { ok: true, canonical: id.canonical ?? latin1(src, s, e) } : id;
}

/** Columns of a cleaned/transformed row whose `-0.0` is compared as `0.0`. */
const FLOAT_COLUMNS = (['age', 'salary', 'bonus'] as const).map((c) => CLEANED_COLUMNS.indexOf(c));
const NEGATIVE_ZERO = Buffer.from('-0.0');

/**
 * The written row `row[start, end)` with `-0.0` as `0.0` in the float columns, for duplicate
 * counting: pandas compares values, and -0.0 equals 0.0 (the row itself keeps `-0.0`, as pandas
 * prints it). Only rows that hold a -0.0 come here, so this may be slow.
 */
export function withPositiveZeros(row: Buffer, start: number, end: number): Buffer {
  const scanner = new CsvScanner();
  scanner.scan(row, start, end, true);
  const parts: Buffer[] = [];
  let from = start;
  for (const f of FLOAT_COLUMNS) {
    const s = scanner.starts[f];
    if (scanner.ends[f] - s === NEGATIVE_ZERO.length && row.subarray(s, s + NEGATIVE_ZERO.length).equals(NEGATIVE_ZERO)) {
      parts.push(row.subarray(from, s));
      from = s + 1; // drop the sign
    }
  }
  parts.push(row.subarray(from, end));
  return Buffer.concat(parts);
}

/** A field value for a reject reason: JSON-quoted, shortened. */
function quoteValue(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, end);
  return JSON.stringify(text.length > MAX_QUOTED_VALUE_CHARS ? text.slice(0, MAX_QUOTED_VALUE_CHARS) + '...' : text);
}
