/** Column statistics with pandas' numerics: rank selection for the median (spill.ts) and compensated group means. */

/**
 * A float64 column (a range's valid ages or salaries, before they spill to disk): written into
 * `initial` (part of a shared slot); when full, it grows by doubling into arrays of its own.
 */
export class Float64Column {
  length = 0;
  /** Whether the values outgrew the initial array (they are in an array of their own). */
  grown = false;
  private data: Float64Array;

  constructor(initial: Float64Array) {
    this.data = initial;
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(Math.max(16, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
      this.grown = true;
    }
    this.data[this.length++] = value;
  }

  /** The values pushed so far (a view). */
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** Puts the k-th smallest value at index k (smaller ones before it) and returns it. */
export function selectInPlace(values: Float64Array, k: number): number {
  let left = 0;
  let right = values.length - 1;
  // Fixed-seed pseudo-random pivots: no input ordering can force quadratic time in practice.
  let seed = 0x2545f491;
  while (left < right) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const pivot = values[left + ((seed >>> 0) % (right - left + 1))];
    // Three-way partition: [left, lt) < pivot, [lt, i) == pivot, (gt, right] > pivot.
    let lt = left;
    let gt = right;
    let i = left;
    while (i <= gt) {
      const v = values[i];
      if (v < pivot) {
        values[i] = values[lt];
        values[lt] = v;
        lt++;
        i++;
      } else if (v > pivot) {
        values[i] = values[gt];
        values[gt] = v;
        gt--;
      } else {
        i++;
      }
    }
    if (k < lt) right = lt - 1;
    else if (k > gt) left = gt + 1;
    else return pivot;
  }
  return values[k];
}

/**
 * Running mean with Kahan compensation, step for step as pandas' `group_mean` (groupby `mean`),
 * so the averages print the same digits as the seed's pandas output. NaN values are skipped.
 */
export class CompensatedMean {
  private sum = 0;
  private compensation = 0;
  private count = 0;

  add(value: number): void {
    if (value !== value) return;
    this.count++;
    const y = value - this.compensation;
    const t = this.sum + y;
    this.compensation = t - this.sum - y;
    // An infinite value makes the compensation NaN; pandas resets it so the sum stays infinite.
    if (this.compensation !== this.compensation) this.compensation = 0;
    this.sum = t;
  }

  /** The mean, NaN when no value was added. */
  value(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }
}

/**
 * Department ids for pass 1, keyed by the department's bytes. A few recent departments are
 * matched byte for byte first, so the usual handful of departments costs no string per row.
 *
 * At most `limit` departments get an id, so memory stays bounded however many distinct
 * departments the input has: a department met after that gets {@link NO_DEPARTMENT_ID}, its row
 * carries the department's bytes instead, and the run spills the department table
 * (department-spill.ts).
 */
export class DepartmentIds {
  /** Keys by id: the UTF-8 bytes read as latin1, so sorting them sorts by the bytes. */
  readonly keys: string[] = [];
  /** Whether some department got no id (the table was full). */
  overflowed = false;
  private readonly ids = new Map<string, number>();
  private readonly recentBytes: Buffer[] = [];
  private readonly recentIds: number[] = [];

  constructor(private readonly limit = DEPARTMENT_IDS_LIMIT) {}

  idOf(buf: Buffer, start: number, end: number): number {
    const length = end - start;
    const recent = this.recentBytes;
    for (let r = 0; r < recent.length; r++) {
      const candidate = recent[r];
      if (candidate.length !== length) continue;
      let k = 0;
      while (k < length && candidate[k] === buf[start + k]) k++;
      if (k === length) return this.recentIds[r];
    }
    const key = buf.toString('latin1', start, end);
    let id = this.ids.get(key);
    if (id === undefined) {
      if (this.keys.length >= this.limit) {
        this.overflowed = true;
        return NO_DEPARTMENT_ID;
      }
      id = this.keys.length;
      this.keys.push(key);
      this.ids.set(key, id);
    }
    if (recent.length < MAX_RECENT_DEPARTMENTS) {
      recent.push(Buffer.from(buf.subarray(start, end)));
      this.recentIds.push(id);
    }
    return id;
  }
}

/** The id of a department that got none (DepartmentIds was full): its row carries its bytes. */
export const NO_DEPARTMENT_ID = -1;
/**
 * Departments one thread numbers at most (a few MiB of keys and means): more distinct ones than
 * that, and the department table is spilled instead of kept in memory.
 */
export const DEPARTMENT_IDS_LIMIT = 1 << 14;
const MAX_RECENT_DEPARTMENTS = 16;

export interface DepartmentRow {
  readonly department: string;
  readonly averageSalary: number;
  readonly averageAge: number;
}

/**
 * One numbering of the departments across threads. Each thread numbers the departments it meets
 * in pass 1 (DepartmentIds) and reports new keys with each range; spool records carry the
 * thread's ids, which {@link idsOf} maps to these.
 */
export class DepartmentTable {
  /** Keys by id, as DepartmentIds keeps them. */
  readonly keys: string[] = [];
  /** Whether some thread met more departments than it numbers: then the department table is spilled. */
  overflowed = false;
  private readonly ids = new Map<string, number>();
  private readonly byThread: number[][] = [];
  private readonly keyBuffers: Buffer[] = [];

  /** Thread `thread` numbered `keys` from `base` on. */
  register(thread: number, base: number, keys: readonly string[]): void {
    const ids = (this.byThread[thread] ??= []);
    for (let i = 0; i < keys.length; i++) {
      let id = this.ids.get(keys[i]);
      if (id === undefined) {
        id = this.keys.length;
        this.keys.push(keys[i]);
        this.ids.set(keys[i], id);
      }
      ids[base + i] = id;
    }
  }

  /** This table's id for each of a thread's ids. */
  idsOf(thread: number): readonly number[] {
    return this.byThread[thread] ?? [];
  }

  /** The UTF-8 bytes of department `id` (kept once asked for). */
  keyBytes(id: number): Buffer {
    return (this.keyBuffers[id] ??= Buffer.from(this.keys[id], 'latin1'));
  }
}

/**
 * Per-department salary and age means over the filled values, in row order (pass 2). Only
 * departments that some row counted in appear (a department met only in a range that was parsed
 * again after a missed cut has none).
 */
export class DepartmentStatistics {
  private readonly salary: CompensatedMean[];
  private readonly age: CompensatedMean[];
  private readonly rowCounts: number[];

  constructor(private readonly keys: readonly string[]) {
    this.salary = keys.map(() => new CompensatedMean());
    this.age = keys.map(() => new CompensatedMean());
    this.rowCounts = keys.map(() => 0);
  }

  add(id: number, salary: number, age: number): void {
    this.salary[id].add(salary);
    this.age[id].add(age);
    this.rowCounts[id]++;
  }

  /** Rows sorted by department like pandas' groupby: code point order, which is the UTF-8 bytes' order. */
  rows(): DepartmentRow[] {
    return this.keys
      .map((key, id) => ({ key, id }))
      .filter(({ id }) => this.rowCounts[id] > 0)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ key, id }) => ({
        department: Buffer.from(key, 'latin1').toString('utf8'),
        averageSalary: this.salary[id].value(),
        averageAge: this.age[id].value(),
      }));
  }
}
