/**
 * Parity with the walkthrough's pandas logic (processor/tools/seed_preprocess.py, run by Debian's
 * python3-pandas at /usr/bin/python3). Requires that package: without it these tests FAIL, on
 * purpose (CI installs it: `apt-get install -y python3-pandas`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline } from '../../processor/src/pipeline';
import { ComparisonReport, compareOutputs, formatReport } from '../../processor/tools/compare-outputs';
import { generateMockCsv } from '../../processor/tools/generate-mock-data';

const PYTHON = '/usr/bin/python3';
const SEED_SCRIPT = join(__dirname, '..', '..', 'processor', 'tools', 'seed_preprocess.py');
const INSTALL_HINT = 'install Debian\'s python3-pandas (apt-get install -y python3-pandas); this test does not skip without it';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pandas-parity-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the pandas reference; throws with its stderr (and the install hint) when it fails. */
function runPandas(input: string, outDir: string, runId: string): void {
  const run = spawnSync(PYTHON, [SEED_SCRIPT, input, outDir, runId], { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new Error(`pandas reference failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr}\n${INSTALL_HINT}`);
  }
}

async function runOurs(input: string, outDir: string, runId: string): Promise<void> {
  await runPipeline({ input, output: outDir, runId });
}

/** Runs both on one input; the report's text is the failure message when they disagree. */
async function parity(input: string, name: string): Promise<ComparisonReport> {
  const runId = `parity-${name}`;
  runPandas(input, join(root, `pandas-${name}`), runId);
  await runOurs(input, join(root, `ours-${name}`), runId);
  return compareOutputs({ dir: join(root, `ours-${name}`), runId }, { dir: join(root, `pandas-${name}`), runId }, { maxSamples: 20 });
}

function expectAgreement(report: ComparisonReport): void {
  if (!report.ok) throw new Error(formatReport(report));
}

test(`${PYTHON} has pandas`, () => {
  const probe = spawnSync(PYTHON, ['-c', 'import pandas; print(pandas.__version__)'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(`${PYTHON} cannot import pandas: ${probe.error?.message ?? probe.stderr}\n${INSTALL_HINT}`);
  expect(probe.stdout.trim()).toMatch(/^\d+\.\d+/);
});

/**
 * Edge cases on purpose: an even count of valid ages and salaries (median = mean of the middle
 * two), values on every bin edge, a salary above the last bin, a profile without an address, no
 * profile, a missing department.
 */
const EDGE_INPUT = `id,name,age,salary,hire_date,profile,department,bonus
1,A,20.0,50000.0,2020-01-01,"{""address"": ""Street 1, City 1"", ""phone"": ""5550000001"", ""email"": ""a@example.com""}",IT,100.0
2,B,25.0,70000.0,2020-01-02,,HR,
3,C,,100000.0,,"{""phone"": ""5550000003""}",,300.0
4,D,56.0,100000.01,2020-01-04,"{""address"": ""Street 4, City 4"", ""phone"": ""5550000004"", ""email"": ""d@example.com""}",IT,400.0
5,E,35.0,,2020-01-05,"{""address"": ""x"", ""phone"": ""5550000005"", ""email"": ""e@example.com""}",HR,500.0
`;

describe('hand-made edge cases', () => {
  let input: string;
  beforeAll(() => {
    input = join(root, 'edges.csv');
    writeFileSync(input, EDGE_INPUT);
  });

  test('the pandas reference follows SPEC §5 (and keeps the seed\'s address_length 3)', () => {
    runPandas(input, join(root, 'pandas-reference'), 'ref');
    const read = (name: string): string => readFileSync(join(root, 'pandas-reference', `${name}_ref.csv`), 'utf8');
    expect(read('transformed_data')).toBe([
      'id,name,age,salary,hire_date,department,bonus,address,phone,email,address_length,salary_category,age_group',
      '1,A,20.0,50000.0,2020-01-01,IT,100.0,"Street 1, City 1",5550000001,a@example.com,16,low,Young',
      '2,B,25.0,70000.0,2020-01-02,HR,,,,,3,medium,Young',
      '3,C,30.0,100000.0,,Unknown,300.0,,5550000003,,3,high,Early Career', // age: median of 20, 25, 35, 56
      '4,D,56.0,100000.01,2020-01-04,IT,400.0,"Street 4, City 4",5550000004,d@example.com,16,,Experienced',
      '5,E,35.0,85000.0,2020-01-05,HR,500.0,x,5550000005,e@example.com,1,high,Early Career', // salary: median of 4
      '',
    ].join('\n'));
    expect(read('department_statistics')).toBe('Department,Average Salary,Average Age\nHR,77500.0,30.0\nIT,75000.005,38.0\nUnknown,100000.0,30.0\n');
    const metrics = JSON.parse(readFileSync(join(root, 'pandas-reference', 'quality_metrics_ref.json'), 'utf8'));
    expect(metrics).toMatchObject({ total_rows: 5, total_columns: 13, missing_values_count: 8, duplicate_rows: 0 });
  });

  test('our processor agrees with pandas on them', async () => {
    const report = await parity(input, 'edges');
    expectAgreement(report);
    expect(report.files.find((f) => f.file === 'transformed_data.csv')!.intendedDifferences).toBe(2);
  });
});

describe('5,000 seed-shaped rows', () => {
  let report: ComparisonReport;
  beforeAll(async () => {
    const input = join(root, 'mock_5000.csv');
    await generateMockCsv({ rows: 5000, seed: 20241221, path: input });
    report = await parity(input, 'mock5k');
  }, 120_000);

  test('every output agrees with pandas but for the intended address_length difference', () => {
    expectAgreement(report);
  });

  test('the comparison covered all rows, the intended difference and the quality metrics', () => {
    const byName = Object.fromEntries(report.files.map((f) => [f.file, f]));
    expect(byName['cleaned_data.csv']).toMatchObject({ oursRecords: 5001, pandasRecords: 5001 });
    expect(byName['transformed_data.csv'].intendedDifferences).toBeGreaterThan(300); // ~10 % of rows lack an address
    expect(byName['department_statistics.csv'].oursRecords).toBe(8); // header, six departments, Unknown
    expect(report.metrics.compared).toEqual(['total_rows', 'total_columns', 'missing_values_count', 'duplicate_rows']);
  });
});
