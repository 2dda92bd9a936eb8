import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  DEPARTMENTS,
  DISTINCT_DEPARTMENTS,
  MISSING_RATES,
  MOCK_HEADER,
  SeededRandom,
  generateMockCsv,
  pandasFloat,
} from '../../processor/tools/generate-mock-data';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mock-data-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COLUMNS = MOCK_HEADER.split(',');

function rowsOf(path: string): Record<string, string>[] {
  return parse(readFileSync(path), { columns: true }) as Record<string, string>[];
}

describe('generateMockCsv', () => {
  test('same seed gives the same bytes; another seed gives other bytes', async () => {
    const a = await generateMockCsv({ rows: 3000, seed: 7, path: join(dir, 'a.csv') });
    const b = await generateMockCsv({ rows: 3000, seed: 7, path: join(dir, 'b.csv') });
    const c = await generateMockCsv({ rows: 3000, seed: 8, path: join(dir, 'c.csv') });
    expect(readFileSync(a.path).equals(readFileSync(b.path))).toBe(true);
    expect(readFileSync(a.path).equals(readFileSync(c.path))).toBe(false);
    expect(a.bytes).toBe(readFileSync(a.path).length);
  });

  test('writes the header and exactly the requested rows, 8 fields each, ids counting up', async () => {
    const { path } = await generateMockCsv({ rows: 2500, path: join(dir, 'shape.csv'), duplicateRate: 0 });
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')[0]).toBe(MOCK_HEADER);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2500 + 2); // header + rows + '' after the final newline
    const rows = parse(text, { relaxColumnCount: false }) as string[][];
    expect(rows).toHaveLength(2501);
    expect(rows.every((r) => r.length === COLUMNS.length)).toBe(true);
    expect(rows.slice(1).map((r) => Number(r[0]))).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
  });

  test('zero rows gives the header alone', async () => {
    const { path } = await generateMockCsv({ rows: 0, path: join(dir, 'empty.csv') });
    expect(readFileSync(path, 'utf8')).toBe(`${MOCK_HEADER}\n`);
  });

  describe('20,000 rows with the default options', () => {
    let rows: Record<string, string>[];
    let duplicates: number;
    beforeAll(async () => {
      const summary = await generateMockCsv({ rows: 20_000, path: join(dir, 'rates.csv') });
      rows = rowsOf(summary.path);
      duplicates = summary.duplicateRows;
    });

    test.each(Object.entries(MISSING_RATES))('%s is missing at about its documented rate (%f)', (column, rate) => {
      const missing = rows.filter((r) => r[column] === '').length / rows.length;
      expect(Math.abs(missing - rate)).toBeLessThan(0.015); // > 6 standard deviations at 20,000 rows
    });

    test('id and name are never missing', () => {
      expect(rows.every((r) => r.id !== '' && /^Name_\d{1,3}$/.test(r.name))).toBe(true);
    });

    test('values are in the documented ranges, floats written as pandas writes them', () => {
      const present = (column: string): string[] => rows.map((r) => r[column]).filter((v) => v !== '');
      expect(present('age').every((v) => /^\d+\.0$/.test(v) && Number(v) >= 18 && Number(v) <= 80)).toBe(true);
      expect(present('bonus').every((v) => /^\d+\.0$/.test(v) && Number(v) >= 1000 && Number(v) <= 10_000)).toBe(true);
      const salaries = present('salary');
      expect(salaries.every((v) => v === pandasFloat(Number(v)) && Number(v) >= 30_000 && Number(v) <= 120_000)).toBe(true);
      expect(salaries.some((v) => !v.endsWith('.0'))).toBe(true); // fractional values exist
      expect(salaries.filter((v) => ['50000.0', '70000.0', '100000.0'].includes(v)).length).toBeGreaterThan(0); // bin edges
      expect(salaries.some((v) => Number(v) > 100_000)).toBe(true); // outside every salary bin
      expect(present('hire_date').every((v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && v >= '2010-01-01' && v <= '2024-12-31')).toBe(true);
      expect(new Set(present('department'))).toEqual(new Set(DEPARTMENTS));
    });

    test('profiles are JSON objects with the walkthrough\'s keys, a few lacking one', () => {
      const profiles = rows.map((r) => r.profile).filter((v) => v !== '').map((v) => JSON.parse(v) as Record<string, string>);
      const wrong = profiles.filter((p) => !(
        Object.keys(p).every((k) => ['address', 'phone', 'email'].includes(k))
        && (p.address === undefined || /^Street \d+, City \d+$/.test(p.address))
        && (p.phone === undefined || /^[1-9]\d{9}$/.test(p.phone))
        && (p.email === undefined || /^email_\d+@example\.com$/.test(p.email))));
      expect(wrong).toEqual([]);
      const partial = profiles.filter((p) => Object.keys(p).length === 2).length / profiles.length;
      expect(partial).toBeGreaterThan(0.005);
      expect(partial).toBeLessThan(0.04);
    });

    test('about 0.1 % of rows repeat the previous row exactly', () => {
      const repeats = rows.filter((r, i) => i > 0 && JSON.stringify(r) === JSON.stringify(rows[i - 1])).length;
      expect(repeats).toBe(duplicates);
      expect(repeats).toBeGreaterThan(3);
      expect(repeats).toBeLessThan(60);
    });
  });

  test('malformedRows injects that many unreadable rows', async () => {
    const { path, malformedRows } = await generateMockCsv({ rows: 1000, malformedRows: 12, path: join(dir, 'bad.csv') });
    expect(malformedRows).toBe(12);
    const rows = parse(readFileSync(path), { relaxColumnCount: true, fromLine: 2 }) as string[][];
    expect(rows).toHaveLength(1000);
    const broken = rows.filter((r) => {
      if (r.length !== 8 || !/^\d+$/.test(r[0])) return true;
      if (r[2] !== '' && Number.isNaN(Number(r[2]))) return true;
      if (r[3] !== '' && Number.isNaN(Number(r[3]))) return true;
      if (r[5] === '') return false;
      try {
        const p: unknown = JSON.parse(r[5]);
        return typeof p !== 'object' || p === null || Array.isArray(p);
      } catch {
        return true;
      }
    });
    expect(broken).toHaveLength(12);
  });

  test('departments: distinct gives every row that is not a repeat its own department (the high-cardinality case)', async () => {
    const { path, duplicateRows } = await generateMockCsv({ rows: 5000, departments: 'distinct', path: join(dir, 'distinct.csv') });
    const present = rowsOf(path).map((r) => r.department).filter((d) => d !== '');
    expect(present.length).toBeGreaterThan(4000);
    // Only the repeated rows (exact copies of the row before) repeat a department.
    expect(present.length - new Set(present).size).toBeLessThanOrEqual(duplicateRows);
    const prefixes = new Set(present.map((d) => d.replace(/\d+$/, '')));
    expect([...prefixes].sort()).toEqual(DISTINCT_DEPARTMENTS.map(([open]) => open.replace(/""/g, '"').replace(/^"/, '')).sort());
    // The default stays the seed's six, the same bytes as before the option existed.
    const seedRows = rowsOf((await generateMockCsv({ rows: 2000, path: join(dir, 'six.csv') })).path);
    expect(new Set(seedRows.map((r) => r.department).filter((d) => d !== ''))).toEqual(new Set(DEPARTMENTS));
  });

  test('rejects bad options with a message naming the option', async () => {
    await expect(generateMockCsv({ rows: -1, path: join(dir, 'x.csv') })).rejects.toThrow(/rows/);
    await expect(generateMockCsv({ rows: 10, duplicateRate: 1, path: join(dir, 'x.csv') })).rejects.toThrow(/duplicateRate/);
    await expect(generateMockCsv({ rows: 10, malformedRows: 11, path: join(dir, 'x.csv') })).rejects.toThrow(/malformedRows/);
    await expect(generateMockCsv({ rows: 10, seed: 1.5, path: join(dir, 'x.csv') })).rejects.toThrow(/seed/);
    await expect(generateMockCsv({ rows: 10, departments: 'many' as never, path: join(dir, 'x.csv') })).rejects.toThrow(/departments/);
  });
});

describe('helpers', () => {
  test('pandasFloat prints like pandas: .0 on integral values, shortest round trip otherwise', () => {
    expect(pandasFloat(77)).toBe('77.0');
    expect(pandasFloat(60000)).toBe('60000.0');
    expect(pandasFloat(61234.57)).toBe('61234.57');
    expect(pandasFloat(0.1 + 0.2)).toBe('0.30000000000000004');
  });

  test('SeededRandom.int stays within bounds and is uniform enough', () => {
    const rng = new SeededRandom(1);
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 60_000; i++) counts[rng.int(0, 5)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
});
