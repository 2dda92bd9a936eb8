/**
 * Parity with the walkthrough's pandas logic, against the committed pandas outputs in
 * test/tools/pandas-fixtures/ (made by processor/tools/pandas-fixtures.ts from Debian's pandas):
 * no pandas needed here. `npx projen parity:pandas` re-runs live pandas and checks that the
 * fixtures are still what it writes; `npx projen parity:fixtures` regenerates them.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ComparisonReport, compareOutputs, formatReport } from '../../processor/tools/compare-outputs';
import {
  CASES, FIXTURE_RUN_ID, ParityCase, REGENERATE_COMMAND, committedInputHash, fixtureOutputs, materializeInput, runOurs, sha256,
} from '../../processor/tools/pandas-fixtures';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pandas-parity-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function caseNamed(name: string): ParityCase {
  return CASES.find((c) => c.name === name)!;
}

/** A committed pandas output as rows of values (header first). */
function pandasRows(c: ParityCase, output: string): string[][] {
  return parse(readFileSync(join(fixtureOutputs(c).dir, `${output}_${FIXTURE_RUN_ID}.csv`))) as string[][];
}

function pandasColumn(c: ParityCase, output: string, name: string): string[] {
  const [header, ...rows] = pandasRows(c, output);
  return rows.map((row) => row[header.indexOf(name)]);
}

function pandasMetrics(c: ParityCase): Record<string, unknown> {
  return JSON.parse(readFileSync(join(fixtureOutputs(c).dir, `quality_metrics_${FIXTURE_RUN_ID}.json`), 'utf8'));
}

const reports = new Map<string, ComparisonReport>();

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (name, parityCase) => {
  beforeAll(async () => {
    const input = await materializeInput(parityCase, root);
    if (parityCase.mock) {
      // Generated input: it must be the one the fixtures were made from.
      expect({ input: sha256(input), regenerate: REGENERATE_COMMAND })
        .toEqual({ input: committedInputHash(parityCase), regenerate: REGENERATE_COMMAND });
    }
    const ours = join(root, `ours-${name}`);
    await runOurs(parityCase, input, ours, FIXTURE_RUN_ID);
    reports.set(name, await compareOutputs({ dir: ours, runId: FIXTURE_RUN_ID }, fixtureOutputs(parityCase), { maxSamples: 20 }));
  }, 60_000);

  test('every output agrees with pandas\' but for the intended address_length difference', () => {
    const report = reports.get(name)!;
    if (!report.ok) throw new Error(formatReport(report));
    const byFile = Object.fromEntries(report.files.map((f) => [f.file, f]));
    // The comparison saw every row: pandas rejects nothing, so neither may we.
    expect(byFile['cleaned_data.csv'].oursRecords).toBe(pandasRows(parityCase, 'cleaned_data').length);
    expect(report.metrics.compared).toEqual(['total_rows', 'total_columns', 'missing_values_count', 'duplicate_rows']);
  });
});

/** What the fixtures hold for each rule: pandas' own outputs, checked against SPEC §5. */
describe('the pandas fixtures show SPEC §5', () => {
  test('generated data: all rows, every department and Unknown, duplicates, the intended difference', () => {
    const mock = caseNamed('mock-data');
    expect(pandasMetrics(mock)).toMatchObject({ total_rows: 1000, total_columns: 13 });
    expect(pandasMetrics(mock).duplicate_rows).toBeGreaterThan(0);
    expect(pandasColumn(mock, 'department_statistics', 'Department')).toEqual(['Finance', 'HR', 'IT', 'Marketing', 'Operations', 'Sales', 'Unknown']);
    expect(reports.get('mock-data')!.files.find((f) => f.file === 'transformed_data.csv')!.intendedDifferences).toBeGreaterThan(50);
  });

  test('edges: medians of an even count, bins at their edges, the seed\'s address_length 3', () => {
    const edges = caseNamed('edges');
    expect(pandasRows(edges, 'transformed_data').slice(1).map((r) => r.slice(2, 4).concat(r.slice(-3)))).toEqual([
      ['20.0', '50000.0', '16', 'low', 'Young'],
      ['25.0', '70000.0', '3', 'medium', 'Young'],
      ['30.0', '100000.0', '3', 'high', 'Early Career'], // age: median of 20, 25, 35, 56
      ['56.0', '100000.01', '16', '', 'Experienced'],
      ['35.0', '85000.0', '1', 'high', 'Early Career'], // salary: median of 4
    ]);
    expect(reports.get('edges')!.files.find((f) => f.file === 'transformed_data.csv')!.intendedDifferences).toBe(2);
  });

  test('\\u escapes: address_length counts characters (Café 😀 is 6)', () => {
    const c = caseNamed('unicode-escapes');
    expect(pandasColumn(c, 'transformed_data', 'address').slice(0, 4)).toEqual(['Café 😀', 'Tab\there "q" \\ / end', 'über 中', 'Ünïcödé 🚀']);
    expect(pandasColumn(c, 'transformed_data', 'address_length').slice(0, 4)).toEqual(['6', '20', '6', '9']);
  });

  test('spaces around numbers are read; text keeps them', () => {
    const c = caseNamed('number-spaces');
    expect(pandasRows(c, 'cleaned_data').slice(1).map((r) => r.slice(0, 7))).toEqual([
      ['1', 'A', '30.0', '60000.0', '2020-01-01', 'IT', '5.0'],
      ['2', 'B', '40.5', '70000.5', '2020-01-02', 'HR', '6.0'],
      ['3', ' C ', '25.0', '50000.0', ' 2020-01-03 ', 'IT', '7.0'],
      ['4', 'D', '35.0', '1000.0', '2020-01-04', ' HR ', '8.0'],
    ]);
  });

  test('inf, Infinity, INF and overflow are infinite floats, without a salary category', () => {
    const c = caseNamed('infinite-floats');
    expect(pandasColumn(c, 'cleaned_data', 'salary')).toEqual(['50000.0', '60000.0', 'inf', '55000.0', '-inf', 'inf', '57500.0']);
    expect(pandasColumn(c, 'cleaned_data', 'bonus')).toEqual(['1.0', '-inf', 'inf', 'inf', 'inf', '-inf', 'inf']);
    expect(pandasColumn(c, 'transformed_data', 'salary_category')).toEqual(['low', 'medium', '', 'medium', '', '', 'medium']);
    expect(pandasColumn(c, 'transformed_data', 'age_group')[1]).toBe('Experienced'); // age inf
  });

  test('profile values that are not strings are written as str() writes them; null and NaN are missing; other keys are ignored', () => {
    const c = caseNamed('profile-values');
    const rows = pandasRows(c, 'cleaned_data').slice(1).map((r) => r.slice(7));
    expect(rows.slice(0, 4)).toEqual([
      ['Street 1', '5551234567', 'a@example.com'],
      ['123456789012345678901234567890', '0', 'True'],
      ['1.5', '100000.0', 'False'],
      ['', '', 'inf'],
    ]);
    // Row 7 repeats address: the last value counts, the list before it is not read.
    expect(rows[6]).toEqual(['3', 'x', '-0.0']);
  });

  test('-0.0 and 0.0 rows are duplicates', () => {
    const c = caseNamed('negative-zero');
    expect(pandasMetrics(c).duplicate_rows).toBe(4);
    expect(pandasColumn(c, 'cleaned_data', 'age').slice(0, 2)).toEqual(['0.0', '-0.0']);
  });

  test('missing-value tokens are missing in every column; near misses are text', () => {
    const c = caseNamed('na-tokens');
    expect(pandasColumn(c, 'cleaned_data', 'name')).toEqual(['', '', '', '', 'na', 'NA ']);
    expect(pandasColumn(c, 'cleaned_data', 'department')).toEqual(['Unknown', 'IT', 'HR', 'Unknown', 'HR', 'nan ']);
    expect(pandasColumn(c, 'cleaned_data', 'bonus')).toEqual(['', '', '', '', '', '1.0']);
    expect(pandasColumn(c, 'cleaned_data', 'address')).toEqual(['Street 1', '', '', '', '', '']);
  });

  test('--na-values empty: tokens in text columns are text', () => {
    const c = caseNamed('na-values-empty');
    expect(pandasColumn(c, 'cleaned_data', 'name')).toEqual(['NA', 'None', 'n/a', 'B', 'nan']);
    expect(pandasColumn(c, 'cleaned_data', 'department')).toEqual(['N/A', 'IT', 'NULL', 'Unknown', 'N/A']);
  });
});
