import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RunOutputs,
  compareOutputs,
  csvRecords,
  formatReport,
  numericNote,
  splitCsvRecord,
  splitRawFields,
} from '../../processor/tools/compare-outputs';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'compare-outputs-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const CLEANED = [
  'id,name,age,salary,hire_date,department,bonus,address,phone,email',
  '1,Name_1,30.0,50000.0,2020-01-01,IT,1000.0,"Street 1, City 2",5551234567,email_1@example.com',
  '2,Name_2,40.0,60000.5,,Unknown,,,,',
];
const TRANSFORMED_HEADER = `${CLEANED[0]},address_length,salary_category,age_group`;
const PANDAS_TRANSFORMED = [
  TRANSFORMED_HEADER,
  `${CLEANED[1]},16,low,Early Career`,
  `${CLEANED[2]},3,medium,Mid Career`,
];
const STATISTICS = ['Department,Average Salary,Average Age', 'IT,50000.0,30.0', 'Unknown,60000.5,40.0'];
const PANDAS_METRICS = { total_rows: 2, total_columns: 13, missing_values_count: 5, duplicate_rows: 0, processing_timestamp: '2024-01-01T10:00:00.123456' };
const OURS_METRICS = { ...PANDAS_METRICS, processing_timestamp: '2024-01-01T10:00:01.000Z', input_rows: 2, rejected_rows: 0 };

interface Files {
  cleaned?: string[];
  transformed?: string[];
  statistics?: string[];
  metrics?: Record<string, unknown>;
}

let runs = 0;
function writeRun(files: Files, runId = 'r1'): RunOutputs {
  const dir = join(root, `run-${++runs}`);
  mkdirSync(dir);
  const csv = (name: string, lines?: string[]): void => {
    if (lines) writeFileSync(join(dir, `${name}_${runId}.csv`), lines.map((l) => `${l}\n`).join(''));
  };
  csv('cleaned_data', files.cleaned);
  csv('transformed_data', files.transformed);
  csv('department_statistics', files.statistics);
  if (files.metrics) writeFileSync(join(dir, `quality_metrics_${runId}.json`), JSON.stringify(files.metrics, null, 2));
  return { dir, runId };
}

const pandasRun = (): RunOutputs => writeRun({ cleaned: CLEANED, transformed: PANDAS_TRANSFORMED, statistics: STATISTICS, metrics: PANDAS_METRICS });
const oursTransformed = (): string[] => [TRANSFORMED_HEADER, `${CLEANED[1]},16,low,Early Career`, `${CLEANED[2]},0,medium,Mid Career`];

function oursRun(over: Files = {}): RunOutputs {
  return writeRun({ cleaned: CLEANED, transformed: oursTransformed(), statistics: STATISTICS, metrics: OURS_METRICS, ...over }, 'ours');
}

test('agreeing outputs: ok, the address_length 0 vs 3 counted as the intended difference', async () => {
  const report = await compareOutputs(oursRun(), pandasRun());
  expect(report.ok).toBe(true);
  const transformed = report.files.find((f) => f.file === 'transformed_data.csv')!;
  expect(transformed).toMatchObject({ oursRecords: 3, pandasRecords: 3, identicalRecords: 2, intendedDifferences: 1, mismatchedRecords: 0 });
  expect(report.metrics.compared).toEqual(['total_rows', 'total_columns', 'missing_values_count', 'duplicate_rows']);
  expect(report.metrics.extraFields).toEqual(['input_rows', 'rejected_rows']);
  expect(formatReport(report)).toMatch(/^outputs agree with pandas/);
});

test('copying the seed\'s len(str(NaN)) = 3 is a mismatch', async () => {
  const report = await compareOutputs(oursRun({ transformed: PANDAS_TRANSFORMED }), pandasRun());
  expect(report.ok).toBe(false);
  const transformed = report.files.find((f) => f.file === 'transformed_data.csv')!;
  expect(transformed.mismatchedRecords).toBe(1);
  expect(transformed.samples[0]).toMatchObject({ line: 3, id: '2', column: 'address_length', ours: '3', pandas: '3' });
  expect(transformed.samples[0].note).toMatch(/quirk copied/);
});

test('a differing cell is reported with line, id, column, both values and how far apart', async () => {
  const cleaned = [...CLEANED];
  cleaned[2] = cleaned[2].replace('60000.5', '60000.500000000007');
  const report = await compareOutputs(oursRun({ cleaned }), pandasRun());
  expect(report.ok).toBe(false);
  const file = report.files.find((f) => f.file === 'cleaned_data.csv')!;
  expect(file.mismatchesByColumn).toEqual({ salary: 1 });
  expect(file.samples).toEqual([{ line: 3, id: '2', column: 'salary', ours: '60000.500000000007', pandas: '60000.5', note: '1 ulp apart' }]);
  expect(formatReport(report)).toContain('line 3 (id 2) column salary: ours "60000.500000000007", pandas "60000.5" — 1 ulp apart');
});

test('quoting, line endings, a missing row and a missing final newline are all differences', async () => {
  const statistics = [...STATISTICS];
  statistics[1] = '"IT",50000.0,30.0';
  const cleaned = CLEANED.slice(0, 2);
  const ours = oursRun({ statistics, cleaned });
  writeFileSync(join(ours.dir, 'transformed_data_ours.csv'), oursTransformed().join('\r\n'));
  const report = await compareOutputs(ours, pandasRun());
  const byName = Object.fromEntries(report.files.map((f) => [f.file, f]));
  expect(byName['department_statistics.csv'].samples[0].note).toBe('same value, quoted differently');
  expect(byName['cleaned_data.csv'].mismatchesByColumn).toEqual({ '(row count)': 1 });
  expect(byName['cleaned_data.csv'].samples[0]).toMatchObject({ line: 3, ours: '(no row)' });
  expect(byName['transformed_data.csv'].problems).toEqual([expect.stringMatching(/header differs/), expect.stringMatching(/does not end with a newline/)]);
  expect(report.ok).toBe(false);
});

test('same columns in another order: a header problem, then values compared by column name', async () => {
  const swap = (line: string): string => {
    const f = splitRawFields(line);
    return [f[1], f[0], ...f.slice(2)].join(',');
  };
  const cleaned = CLEANED.map(swap);
  cleaned[2] = cleaned[2].replace('40.0', '41.0');
  const report = await compareOutputs(oursRun({ cleaned }), pandasRun());
  const file = report.files.find((f) => f.file === 'cleaned_data.csv')!;
  expect(file.problems).toEqual([expect.stringMatching(/^header differs/), expect.stringMatching(/compared column by column, by name/)]);
  expect(file.identicalRecords).toBe(1);
  expect(file.samples).toEqual([{ line: 3, id: '2', column: 'age', ours: '41.0', pandas: '40.0', note: 'differs by 1' }]);
});

test('quality metrics: a differing field, a bad timestamp and a broken row balance are reported', async () => {
  const metrics = { ...OURS_METRICS, duplicate_rows: 1, processing_timestamp: 'yesterday', input_rows: 5 };
  const report = await compareOutputs(oursRun({ metrics }), pandasRun());
  expect(report.ok).toBe(false);
  expect(report.metrics.differences).toEqual([{ field: 'duplicate_rows', ours: 1, pandas: 0 }]);
  expect(report.metrics.problems).toEqual([
    expect.stringMatching(/processing_timestamp is not ISO 8601/),
    expect.stringMatching(/input_rows 5 ≠ total_rows 2 \+ rejected_rows 0/),
  ]);
});

test('a missing output file is a problem, not a crash', async () => {
  const report = await compareOutputs(oursRun({ statistics: undefined }), pandasRun());
  expect(report.ok).toBe(false);
  expect(report.files.find((f) => f.file === 'department_statistics.csv')!.problems).toEqual([expect.stringMatching(/^missing: .*department_statistics_ours\.csv$/)]);
});

describe('CSV helpers', () => {
  test('records span lines inside quoted fields; lines split on \\n only', async () => {
    const path = join(root, 'records.csv');
    writeFileSync(path, 'a,b\n1,"x\ny"\n2,"say ""hi"""\r\n3,z');
    const records = [];
    for await (const r of csvRecords(path)) records.push(r);
    expect(records).toEqual([
      { text: 'a,b', line: 1 },
      { text: '1,"x\ny"', line: 2 },
      { text: '2,"say ""hi"""\r', line: 4 },
      { text: '3,z', line: 5 },
    ]);
  });

  test('fields split raw (quotes kept) or as values', () => {
    expect(splitRawFields('1,"a, b","say ""hi""",')).toEqual(['1', '"a, b"', '"say ""hi"""', '']);
    expect(splitCsvRecord('1,"a, b","say ""hi""",')).toEqual(['1', 'a, b', 'say "hi"', '']);
  });

  test('numeric notes', () => {
    expect(numericNote('1e+16', '10000000000000000.0')).toBe('same number, written differently');
    expect(numericNote('0.30000000000000004', '0.3')).toBe('1 ulp apart');
    expect(numericNote('2.0', '3.0')).toBe('differs by -1');
    expect(numericNote('low', 'medium')).toBeUndefined();
  });
});
