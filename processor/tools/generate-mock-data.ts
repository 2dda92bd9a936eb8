/**
 * Seeded, deterministic generator of the walkthrough's HR-style CSV (`data/mock_data.csv`).
 *
 * Same seed + same options → same bytes, on any machine (own PRNG, no Math.random, no clock).
 * Rows are streamed to the file in ~1 MB chunks, so memory stays flat for any row count.
 *
 * Shape (header `id,name,age,salary,hire_date,profile,department,bonus`), written as pandas
 * writes it (floats with `.0` when integral, the profile JSON quoted CSV-style):
 *
 *   17,Name_412,77.0,,2019-03-02,"{""address"": ""Street 9, City 4"", ""phone"": ""5551234567"", ""email"": ""email_3@example.com""}",IT,6842.0
 *
 * Missing-value rates (an empty cell; independent per row and column; see MISSING_RATES):
 *   - age         10 %   (present: integer 18–80, written `77.0`)
 *   - salary      10 %   (present: 30,000–120,000; a quarter are round thousands — which hits the
 *                         bins' edges 50,000 / 70,000 / 100,000 — the rest have cents, e.g. 61234.57;
 *                         about 1 in 9 is above 100,000, so it has no salary_category)
 *   - hire_date    5 %   (present: a day in 2010-01-01 … 2024-12-31)
 *   - profile     10 %   (present: JSON object; 2 % of present profiles lack one of the three keys,
 *                         as real exports do, so a missing address also occurs with a profile)
 *   - department  10 %   (present: HR, IT, Finance, Marketing, Sales, Operations; with
 *                         `departments: 'distinct'` a different one on every row, see DISTINCT_DEPARTMENTS)
 *   - bonus       10 %   (present: integer 1,000–10,000, written `6842.0`)
 *   - id, name     0 %   (id counts up from 1; name is `Name_<1..999>`, so names repeat)
 * Duplicates: by default 0.1 % of rows repeat the previous row exactly (a re-sent record), so the
 * quality metric `duplicate_rows` is not trivially 0. `duplicateRate: 0` turns this off.
 * Malformed rows (for demos of rejected rows) are off by default; pandas cannot read a file that
 * has them (a non-numeric age makes the column text), so parity runs never enable them.
 *
 * CLI: node processor/lib/tools/generate-mock-data.js --rows N [--seed S] --out path
 *        [--malformed N] [--duplicate-rate R] [--departments seed|distinct]
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

export const MOCK_HEADER = 'id,name,age,salary,hire_date,profile,department,bonus';

/** Probability that a cell is empty, per column. Documented in the file comment above. */
export const MISSING_RATES = {
  age: 0.1,
  salary: 0.1,
  hire_date: 0.05,
  profile: 0.1,
  department: 0.1,
  bonus: 0.1,
} as const;

/** Share of present profiles that lack one key (address, phone or email). */
export const PARTIAL_PROFILE_RATE = 0.02;
export const DEFAULT_DUPLICATE_RATE = 0.001;
export const DEFAULT_SEED = 42;
/** Bumped whenever the same seed would give other bytes (caches of generated files check it). */
export const MOCK_DATA_VERSION = 2;
const CHUNK_BYTES = 1_048_576;
export const DEPARTMENTS = ['HR', 'IT', 'Finance', 'Marketing', 'Sales', 'Operations'] as const;
/**
 * `departments: 'distinct'` (the high-cardinality case: a department table as large as the input):
 * one of these prefixes, then a number unique to the row (the row number scrambled, so sorting
 * reorders the rows). The prefixes make sorting by code point matter: UTF-16 order would put
 * `ﬀ` (U+FB00) after `𝔇` (U+1D507, a surrogate pair), and one needs CSV quoting (a comma, a quote).
 */
export const DISTINCT_DEPARTMENTS = [
  ['Dept_', ''],
  ['dept_', ''],
  ['Département_', ''],
  ['部門_', ''],
  ['𝔇ept_', ''],
  ['ﬀ_', ''],
  ['"R&D, ""Lab"" ', '"'],
] as const;

/** Which departments rows have: the seed's six, or a distinct one per row. */
export type DepartmentMode = 'seed' | 'distinct';

export interface MockDataOptions {
  /** Number of data rows (header not counted), duplicates and malformed rows included. */
  readonly rows: number;
  /** Output file; parent directories are created. */
  readonly path: string;
  /** PRNG seed (any 32-bit integer). @default 42 */
  readonly seed?: number;
  /** Share of rows that repeat the previous row exactly. @default 0.001 */
  readonly duplicateRate?: number;
  /** Number of malformed rows spread evenly through the file (demos of rejects). @default 0 */
  readonly malformedRows?: number;
  /** The seed's six departments, or a distinct one per row (see DISTINCT_DEPARTMENTS). @default 'seed' */
  readonly departments?: DepartmentMode;
}

export interface MockDataSummary {
  readonly path: string;
  readonly version: number;
  readonly rows: number;
  readonly bytes: number;
  readonly seed: number;
  readonly duplicateRows: number;
  readonly malformedRows: number;
}

/* eslint-disable no-bitwise -- a PRNG is 32-bit integer arithmetic */
/** sfc32 seeded through splitmix32: fast, 128-bit state, identical output on every platform. */
export class SeededRandom {
  /** a, b, c, d. A typed array: uint32 values above 2^30 kept in object fields are boxed as
   * heap numbers, which made every draw allocate (8x slower). */
  private readonly s = new Uint32Array(4);

  public constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = z ^ (z >>> 16);
    }
    for (let i = 0; i < 12; i++) this.uint32(); // discard the first outputs (sfc32 warm-up)
  }

  /** Next unsigned 32-bit integer. */
  public uint32(): number {
    const s = this.s;
    const t = (s[0] + s[1] + s[3]) >>> 0;
    s[3] = s[3] + 1;
    s[0] = s[1] ^ (s[1] >>> 9);
    s[1] = s[2] + (s[2] << 3);
    s[2] = ((s[2] << 21) | (s[2] >>> 11)) + t;
    return t;
  }

  /** Uniform in [0, 1). */
  public float(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [min, max], both inclusive. */
  public int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  public chance(p: number): boolean {
    return this.float() < p;
  }
}
/* eslint-enable no-bitwise */

/** A float as pandas' to_csv prints it: shortest round trip, `.0` on integral values. */
export function pandasFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** Every day from 2010-01-01 to 2024-12-31 as `YYYY-MM-DD`. */
function hireDates(): string[] {
  const days: string[] = [];
  const end = Date.UTC(2024, 11, 31);
  for (let t = Date.UTC(2010, 0, 1); t <= end; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

function table(from: number, to: number, text: (n: number) => string): Buffer[] {
  const out: Buffer[] = [];
  for (let n = from; n <= to; n++) out.push(Buffer.from(text(n)));
  return out;
}

/** Cell bytes precomputed once. Building a string per row and encoding it made number
 * formatting and the GC the main cost; rows are now assembled from these bytes. */
class Tables {
  public readonly dates = hireDates().map((d) => Buffer.from(d));
  public readonly names = table(1, 999, (n) => `Name_${n}`);
  public readonly ages = table(18, 80, pandasFloat);
  public readonly bonuses = table(1000, 10_000, pandasFloat);
  public readonly thousands = table(30, 120, (n) => pandasFloat(n * 1000));
  /** `.5`, `.05`, `.0` …: two decimals with trailing zeros dropped, as repr prints them. */
  public readonly cents = table(0, 99, (c) => '.' + (c === 0 ? '0' : c % 10 === 0 ? String(c / 10) : c < 10 ? `0${c}` : String(c)));
  public readonly departments = DEPARTMENTS.map((d) => Buffer.from(d));
  public readonly distinctDepartments = DISTINCT_DEPARTMENTS.map(([open, close]) => [Buffer.from(open), Buffer.from(close)] as const);
  public readonly addresses = table(0, 100 * 50 - 1, (n) => `""address"": ""Street ${1 + Math.floor(n / 50)}, City ${1 + (n % 50)}""`);
  public readonly emails = table(1, 1000, (n) => `""email"": ""email_${n}@example.com""`);
  public readonly phoneOpen = Buffer.from('""phone"": ""');
  public readonly quotes = Buffer.from('""');
  public readonly separator = Buffer.from(', ');
  public readonly profileOpen = Buffer.from('"{');
  public readonly profileClose = Buffer.from('}"');
}

const COMMA = 0x2c;
const NEWLINE = 0x0a;
/** Longest row the generator writes, with room to spare (a full row is ~150 bytes). */
const MAX_ROW_BYTES = 512;

/** Appends ASCII bytes to a fixed buffer; the caller makes room (MAX_ROW_BYTES) per row. */
class RowWriter {
  public buffer: Buffer;
  public used = 0;

  public constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  public bytes(b: Buffer): void {
    // A plain loop: for runs of a few dozen bytes it beats Buffer.copy and TypedArray.set.
    const buf = this.buffer;
    let at = this.used;
    for (let i = 0; i < b.length; i++) buf[at++] = b[i];
    this.used = at;
  }

  public byte(b: number): void {
    this.buffer[this.used++] = b;
  }

  /** A non-negative integer in decimal. */
  public int(n: number): void {
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    this.digits(n, digits);
  }

  /** Exactly `count` decimal digits of n (zero-padded). */
  public digits(n: number, count: number): void {
    for (let i = this.used + count - 1; i >= this.used; i--) {
      const q = Math.floor(n / 10);
      this.buffer[i] = 0x30 + (n - q * 10);
      n = q;
    }
    this.used += count;
  }

  /** Copies bytes [start, end) of an earlier buffer (the previous row). */
  public slice(from: Buffer, start: number, end: number): void {
    for (let i = start; i < end; i++) this.buffer[this.used++] = from[i];
  }
}

function pick(rng: SeededRandom, from: readonly Buffer[]): Buffer {
  return from[rng.int(0, from.length - 1)];
}

/** Salary in 30,000–120,000: a quarter round thousands, the rest with cents, written as
 * `<units><.cents>`; that equals pandasFloat(cents / 100), because a two-decimal value with at
 * most 15 significant digits prints back (shortest round trip) as exactly those digits. */
function writeSalary(w: RowWriter, rng: SeededRandom, t: Tables): void {
  if (rng.chance(0.25)) return w.bytes(pick(rng, t.thousands));
  const cents = rng.int(3_000_000, 12_000_000);
  w.int(Math.floor(cents / 100));
  w.bytes(t.cents[cents % 100]);
}

/** The profile cell: JSON as Python's json.dumps writes it, CSV-quoted (`"` doubled). */
function writeProfile(w: RowWriter, rng: SeededRandom, t: Tables): void {
  const drop = rng.chance(PARTIAL_PROFILE_RATE) ? rng.int(0, 2) : -1;
  w.bytes(t.profileOpen);
  if (drop !== 0) w.bytes(pick(rng, t.addresses));
  if (drop !== 0 && drop !== 1) w.bytes(t.separator);
  if (drop !== 1) {
    w.bytes(t.phoneOpen);
    // Two 5-digit halves: small integers keep the digit loop off slow float division.
    w.digits(rng.int(10_000, 99_999), 5);
    w.digits(rng.int(0, 99_999), 5);
    w.bytes(t.quotes);
  }
  if (drop !== 2) {
    w.bytes(t.separator);
    w.bytes(pick(rng, t.emails));
  }
  w.bytes(t.profileClose);
}

/* eslint-disable no-bitwise -- a 32-bit multiplicative scramble */
/** A department no other row has: a prefix, then the row number scrambled (a bijection of 32-bit integers). */
function writeDistinctDepartment(w: RowWriter, id: number, rng: SeededRandom, t: Tables): void {
  const [open, close] = t.distinctDepartments[rng.int(0, t.distinctDepartments.length - 1)];
  w.bytes(open);
  w.int(Math.imul(id, 0x9e3779b1) >>> 0);
  w.bytes(close);
}
/* eslint-enable no-bitwise */

/** One well-formed data row (no newline). Each optional cell first draws whether it is missing. */
function writeRow(w: RowWriter, id: number, rng: SeededRandom, t: Tables, departments: DepartmentMode): void {
  w.int(id);
  w.byte(COMMA);
  w.bytes(pick(rng, t.names));
  w.byte(COMMA);
  if (!rng.chance(MISSING_RATES.age)) w.bytes(pick(rng, t.ages));
  w.byte(COMMA);
  if (!rng.chance(MISSING_RATES.salary)) writeSalary(w, rng, t);
  w.byte(COMMA);
  if (!rng.chance(MISSING_RATES.hire_date)) w.bytes(pick(rng, t.dates));
  w.byte(COMMA);
  if (!rng.chance(MISSING_RATES.profile)) writeProfile(w, rng, t);
  w.byte(COMMA);
  if (!rng.chance(MISSING_RATES.department)) {
    if (departments === 'distinct') writeDistinctDepartment(w, id, rng, t);
    else w.bytes(pick(rng, t.departments));
  }
  w.byte(COMMA);
  if (!rng.chance(MISSING_RATES.bonus)) w.bytes(pick(rng, t.bonuses));
}

/** Kinds of broken rows a processor must reject (one of each in turn). */
const MALFORMED = [
  (id: number) => `${id},Name_1,40.0,50000.0,2020-01-01,,IT`, // a field short
  (id: number) => `${id},Name_2,forty,50000.0,2020-01-01,,IT,1000.0`, // non-numeric age
  (id: number) => `${id},Name_3,40.0,lots,2020-01-01,,IT,1000.0`, // non-numeric salary
  (id: number) => `${id},Name_4,40.0,50000.0,2020-01-01,"[""not"", ""an object""]",IT,1000.0`, // profile not an object
  (id: number) => `${id},Name_5,40.0,50000.0,2020-01-01,{broken json,IT,1000.0`, // profile not JSON
  (id: number) => `x${id},Name_6,40.0,50000.0,2020-01-01,,IT,1000.0`, // non-numeric id
];

function malformedAt(rows: number, count: number): Set<number> {
  const at = new Set<number>();
  for (let k = 0; k < count; k++) at.add(Math.floor(((k + 0.5) * rows) / count) + 1);
  return at;
}

function validate(options: MockDataOptions): void {
  if (options.seed !== undefined && !Number.isInteger(options.seed)) throw new Error(`seed must be an integer, got ${options.seed}`);
  if (!Number.isSafeInteger(options.rows) || options.rows < 0) throw new Error(`rows must be a non-negative integer, got ${options.rows}`);
  const dup = options.duplicateRate ?? DEFAULT_DUPLICATE_RATE;
  if (!(dup >= 0 && dup < 1)) throw new Error(`duplicateRate must be in [0, 1), got ${dup}`);
  const bad = options.malformedRows ?? 0;
  if (!Number.isSafeInteger(bad) || bad < 0 || bad > options.rows) throw new Error(`malformedRows must be an integer in [0, rows], got ${bad}`);
  const departments = options.departments ?? 'seed';
  if (departments !== 'seed' && departments !== 'distinct') throw new Error(`departments must be seed or distinct, got ${departments}`);
}

/** Writes `rows` seed-shaped rows to `path`, streaming with backpressure. */
export async function generateMockCsv(options: MockDataOptions): Promise<MockDataSummary> {
  validate(options);
  const seed = options.seed ?? DEFAULT_SEED;
  const duplicateRate = options.duplicateRate ?? DEFAULT_DUPLICATE_RATE;
  const broken = malformedAt(options.rows, options.malformedRows ?? 0);
  const rng = new SeededRandom(seed);
  const tables = new Tables();

  mkdirSync(dirname(options.path), { recursive: true });
  const out = createWriteStream(options.path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  failed.catch(() => undefined); // observed below through Promise.race
  let w = new RowWriter(CHUNK_BYTES);
  const flush = async (): Promise<void> => {
    const full = w.buffer.subarray(0, w.used);
    w = new RowWriter(CHUNK_BYTES); // a fresh buffer: the stream (and `previous`) keep the old one
    if (!out.write(full)) await Promise.race([once(out, 'drain'), failed]);
  };

  w.bytes(Buffer.from(MOCK_HEADER + '\n'));
  // The last well-formed row, for exact duplicates: offsets into the buffer it was written to
  // (a flushed buffer is never reused, so the bytes stay valid).
  let previous: Buffer | undefined;
  let previousStart = 0;
  let previousEnd = 0;
  let duplicates = 0;
  for (let line = 1; line <= options.rows; line++) {
    if (w.used + MAX_ROW_BYTES > CHUNK_BYTES) await flush();
    const start = w.used;
    if (broken.has(line)) {
      w.bytes(Buffer.from(MALFORMED[(line * 7) % MALFORMED.length](line)));
    } else if (previous !== undefined && rng.chance(duplicateRate)) {
      w.slice(previous, previousStart, previousEnd);
      duplicates++;
    } else {
      writeRow(w, line, rng, tables, options.departments ?? 'seed');
    }
    previous = broken.has(line) ? undefined : w.buffer;
    previousStart = start;
    previousEnd = w.used;
    w.byte(NEWLINE);
  }
  await flush();
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
  return {
    path: options.path,
    version: MOCK_DATA_VERSION,
    rows: options.rows,
    bytes: out.bytesWritten,
    seed,
    duplicateRows: duplicates,
    malformedRows: broken.size,
  };
}

function parseCli(argv: string[]): MockDataOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'rows': { type: 'string' },
      'seed': { type: 'string' },
      'out': { type: 'string' },
      'malformed': { type: 'string' },
      'duplicate-rate': { type: 'string' },
      'departments': { type: 'string' },
    },
  });
  if (values.rows === undefined || values.out === undefined) {
    throw new Error('usage: generate-mock-data --rows N [--seed S] --out path [--malformed N] [--duplicate-rate R] [--departments seed|distinct]');
  }
  return {
    rows: Number(values.rows),
    path: values.out,
    seed: values.seed === undefined ? undefined : Number(values.seed),
    malformedRows: values.malformed === undefined ? undefined : Number(values.malformed),
    duplicateRate: values['duplicate-rate'] === undefined ? undefined : Number(values['duplicate-rate']),
    departments: values.departments as DepartmentMode | undefined,
  };
}

if (require.main === module) {
  const started = Date.now();
  generateMockCsv(parseCli(process.argv.slice(2))).then(
    (s) => console.log(`wrote ${s.rows} rows (${s.bytes} bytes, seed ${s.seed}) to ${s.path} in ${((Date.now() - started) / 1000).toFixed(2)} s`),
    (err: Error) => {
      console.error(`generate-mock-data: ${err.message}`);
      process.exitCode = 2;
    },
  );
}
