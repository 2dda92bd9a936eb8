import { join } from 'node:path';
import { DepartmentSpill } from '../../../../processor/src/transforms/walkthrough/department-spill';
import { CompensatedMean } from '../../../../processor/src/transforms/walkthrough/stats';
import { TempDirs } from '../../helpers';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

interface Row {
  readonly department: string;
  readonly salary: number;
  readonly age: number;
}

interface Department {
  readonly department: string;
  readonly averageSalary: number;
  readonly averageAge: number;
}

/** The in-memory reference: means in row order, departments sorted by their UTF-8 bytes (pandas' code point order). */
function reference(rows: readonly Row[]): Department[] {
  const groups = new Map<string, { salary: CompensatedMean; age: CompensatedMean }>();
  for (const row of rows) {
    let group = groups.get(row.department);
    if (group === undefined) groups.set(row.department, (group = { salary: new CompensatedMean(), age: new CompensatedMean() }));
    group.salary.add(row.salary);
    group.age.add(row.age);
  }
  return [...groups]
    .sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(([department, g]) => ({ department, averageSalary: g.salary.value(), averageAge: g.age.value() }));
}

interface Spilled {
  readonly departments: Department[];
  readonly count: number;
  readonly pauses: number;
  readonly mergePasses: number;
}

async function spilled(rows: readonly Row[], runBytes?: number, fanIn?: number): Promise<Spilled> {
  const spill = await DepartmentSpill.create(join(temp.make(), 'departments.spill'), runBytes, fanIn);
  try {
    for (const row of rows) {
      // The key inside a larger buffer, as the pass-2 results carry it.
      const key = Buffer.concat([Buffer.from('xx'), Buffer.from(row.department), Buffer.from('yy')]);
      spill.add(key, 2, key.length - 2, row.salary, row.age);
      await spill.drain();
    }
    const departments: Department[] = [];
    let pauses = 0;
    const count = await spill.forEachDepartment((key, start, end, averageSalary, averageAge) => {
      departments.push({ department: key.toString('utf8', start, end), averageSalary, averageAge });
    }, async () => {
      pauses++;
    });
    return { departments, count, pauses, mergePasses: spill.mergePasses };
  } finally {
    await spill.remove();
  }
}

/** A deterministic pseudo-random sequence (Park and Miller's minimal standard generator). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 48271) % 2147483647;
    return x / 2147483647;
  };
}

/** Departments whose order differs between code points and UTF-16 (ﬀ U+FB00 < 𝔇 U+1D507), prefixes of each other, a comma and quotes, an empty one. */
const TRICKY = ['ﬀ', '𝔇', 'Dept', 'Dept_1', 'Dept_10', 'Dept_2', 'dept', 'Ärzte', 'R&D, "Lab"', '', 'Unknown', 'a\nb', 'x'.repeat(300)];

function rowsOf(count: number, departments: (i: number, next: () => number) => string, seed = 7): Row[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => ({
    department: departments(i, next),
    // Magnitudes far apart, so the compensated sums depend on the order the values are added in.
    salary: next() < 0.1 ? NaN : (next() - 0.5) * 10 ** Math.floor(next() * 20),
    age: next() < 0.1 ? NaN : 18 + Math.floor(next() * 60) + next() / 3,
  }));
}

// The multi-pass merges write and read back hundreds of small runs: seconds, not milliseconds.
jest.setTimeout(30_000);

describe('DepartmentSpill: the department means spilled, sorted and merged', () => {
  test('one run: departments in code point order, means in row order, NaN when a department has no value', async () => {
    const rows = rowsOf(500, (_i, next) => TRICKY[Math.floor(next() * TRICKY.length)]);
    rows.push({ department: 'only NaN', salary: NaN, age: NaN });
    const { departments, count } = await spilled(rows);
    expect(departments.map((d) => d.department).slice(0, 3)).toEqual(['', 'Dept', 'Dept_1']);
    expect(departments.findIndex((d) => d.department === 'ﬀ')).toBeLessThan(departments.findIndex((d) => d.department === '𝔇'));
    expect(departments).toEqual(reference(rows));
    expect(count).toBe(departments.length);
  });

  test('many runs (small run buffers): the same result, each department\'s rows merged in row order across runs', async () => {
    const rows = rowsOf(3000, (i, next) => (next() < 0.5 ? TRICKY[i % TRICKY.length] : `Dept_${Math.floor(next() * 400)}`), 11);
    for (const runBytes of [64, 1000, 4096]) {
      const { departments } = await spilled(rows, runBytes);
      expect(departments).toEqual(reference(rows));
    }
  });

  test('more runs than the merge fan-in: merged in several passes (bounded read blocks), the same result, ties still in row order', async () => {
    const rows = rowsOf(3000, (i, next) => (next() < 0.5 ? TRICKY[i % TRICKY.length] : `Dept_${Math.floor(next() * 400)}`), 11);
    rows.push({ department: 'y'.repeat(3000), salary: 5, age: 6 });
    // Runs of 256 bytes give hundreds of runs; fan-ins of 2 and 7 need several passes (7: uneven groups).
    for (const fanIn of [2, 7]) {
      const { departments, mergePasses } = await spilled(rows, 256, fanIn);
      expect(mergePasses).toBeGreaterThan(1);
      expect(departments).toEqual(reference(rows));
    }
    // Larger runs (64 KiB) are few enough for one merge at the default fan-in.
    expect((await spilled(rows, 64 * 1024)).mergePasses).toBe(0);
  });

  test('all-distinct departments, a department larger than a run, and none at all', async () => {
    const rows = rowsOf(10_000, (i) => `D${((i * 2654435761) % 4294967296).toString(36)}`, 3);
    rows.push({ department: 'z'.repeat(5000), salary: 1, age: 2 }, { department: 'z'.repeat(5000), salary: 3, age: 4 });
    const { departments, count, pauses } = await spilled(rows, 2048);
    expect(count).toBe(10_001);
    expect(departments).toEqual(reference(rows));
    expect(pauses).toBe(2); // every 4,096 departments the caller may wait for its output
    expect(await spilled([])).toEqual({ departments: [], count: 0, pauses: 0, mergePasses: 0 });
  });
});
