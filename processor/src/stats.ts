/** Column statistics with pandas' numerics: median of valid values and compensated group means. */

/**
 * A float64 column that grows by doubling: 8 bytes per value, up to 16 while it grows. This is
 * the only per-row memory the median needs (SPEC §5 allows a growing Float64Array per column).
 */
export class Float64Column {
  private values: Float64Array;
  length = 0;

  constructor(initialCapacity = 1 << 16) {
    this.values = new Float64Array(initialCapacity);
  }

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  /** pandas' `Series.median()`: the middle value, or the mean of the two middle values; NaN when empty. */
  median(): number {
    return medianInPlace(this.values.subarray(0, this.length));
  }

  /** Bytes held, for the memory report. */
  get capacityBytes(): number {
    return this.values.byteLength;
  }
}

/** Median of `values` (which it sorts). numpy computes the even case as (a + b) / 2 as well. */
export function medianInPlace(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  values.sort();
  const mid = n >>> 1;
  return n % 2 === 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
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

/** Per-department salary and age means, keyed by the department's bytes. */
export class DepartmentStatistics {
  private readonly groups = new Map<string, { salary: CompensatedMean; age: CompensatedMean }>();

  /** `key` is the department's UTF-8 bytes read as latin1, so its sort order is the bytes' order. */
  add(key: string, salary: number, age: number): void {
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { salary: new CompensatedMean(), age: new CompensatedMean() };
      // Copy the key so the Map does not keep a slice of a large input buffer alive.
      this.groups.set(Buffer.from(key, 'latin1').toString('latin1'), group);
    }
    group.salary.add(salary);
    group.age.add(age);
  }

  /**
   * Rows sorted by department like pandas' groupby (code point order, which is the order of the
   * UTF-8 bytes): department (decoded), average salary, average age.
   */
  rows(): Array<{ department: string; averageSalary: number; averageAge: number }> {
    return [...this.groups.keys()]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((key) => {
        const group = this.groups.get(key)!;
        return {
          department: Buffer.from(key, 'latin1').toString('utf8'),
          averageSalary: group.salary.value(),
          averageAge: group.age.value(),
        };
      });
  }

  get size(): number {
    return this.groups.size;
  }
}
