import { isUtf8 } from 'node:buffer';
import { CsvScanner, FIELD_QUOTED, MalformedKind } from './csv/scanner';
import { BadInputError } from './errors';
import { parseDecimal, parseInteger, parsedDecimal } from './format';
import { PROFILE_KEYS, ProfileFields, codePointCount, readEscapedProfile, readProfile } from './profile';

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

/**
 * Validates one data record and extracts what the outputs need. After {@link check} returns
 * false, {@link reason} says why the row is rejected; after true, the numeric fields hold the
 * parsed values (NaN for an empty cell) and {@link profile} the address/phone/email ranges.
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
  addressLength = 0;

  constructor(readonly layout: ColumnLayout) {}

  check(scanner: CsvScanner, buf: Buffer): boolean {
    const layout = this.layout;
    if (scanner.malformed !== undefined) return this.reject(malformedReason(scanner.malformed, scanner.malformedField));
    if (scanner.nonAscii && !isUtf8(buf.subarray(scanner.recordStart, scanner.recordEnd))) {
      return this.reject('row is not valid UTF-8 text');
    }
    if (scanner.fieldCount !== layout.inputNames.length) {
      return this.reject(`expected ${layout.inputNames.length} fields, found ${scanner.fieldCount}`);
    }

    const idBuf = scanner.bufferOf(layout.id, buf);
    const idStart = scanner.starts[layout.id];
    const idEnd = scanner.ends[layout.id];
    if (idStart === idEnd) return this.reject('id is missing');
    const id = parseInteger(idBuf, idStart, idEnd);
    if (!id.ok) {
      const problem = id.reason === 'out-of-range' ? 'is outside the 64-bit integer range' : 'is not an integer';
      return this.reject(`id ${problem}: ${quoteValue(idBuf, idStart, idEnd)}`);
    }
    this.idCanonical = id.canonical;

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
    if (scanner.starts[p] === scanner.ends[p]) {
      this.profile.clear();
      this.addressLength = 0;
    } else {
      if (!scanner.isEscaped(p) || !readEscapedProfile(buf, scanner.starts[p], scanner.ends[p], this.profile)) {
        const src = scanner.bufferOf(p, buf);
        const problem = readProfile(src, scanner.starts[p], scanner.ends[p], this.profile);
        if (problem !== undefined) return this.reject(problem);
      }
      const profile = this.profile;
      // In ASCII text every byte is a character.
      this.addressLength = scanner.nonAscii
        ? codePointCount(profile.bufs[0], profile.starts[0], profile.ends[0])
        : profile.ends[0] - profile.starts[0];
    }
    this.reason = '';
    return true;
  }

  /**
   * Parses a float column: NaN for an empty cell; sets {@link reason} when it is not a finite
   * number. Afterwards `parsedDecimal.canonical` tells whether the text can be copied as is.
   */
  private readNumber(scanner: CsvScanner, buf: Buffer, f: number, column: string): number {
    this.reason = '';
    parsedDecimal.canonical = false;
    const src = scanner.bufferOf(f, buf);
    const start = scanner.starts[f];
    const end = scanner.ends[f];
    if (start === end) return NaN;
    const value = parseDecimal(src, start, end);
    if (value !== value) {
      this.reason = `${column} is not a number: ${quoteValue(src, start, end)}`;
    } else if (value === Infinity || value === -Infinity) {
      this.reason = `${column} is not a finite number: ${quoteValue(src, start, end)}`;
    }
    return value;
  }

  private reject(reason: string): false {
    this.reason = reason;
    return false;
  }
}

/** A field value for a reject reason: JSON-quoted, shortened. */
function quoteValue(buf: Buffer, start: number, end: number): string {
  const text = buf.toString('utf8', start, end);
  return JSON.stringify(text.length > MAX_QUOTED_VALUE_CHARS ? text.slice(0, MAX_QUOTED_VALUE_CHARS) + '...' : text);
}
