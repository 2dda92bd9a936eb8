/**
 * Benchmark: our processor against the walkthrough's pandas logic (processor/tools/seed_preprocess.py)
 * on seed-shaped data (generate-mock-data.ts), side by side, local files (SPEC §7).
 *
 *   npm run bench [-- --rows 50000,2000000,10000000] [--pandas-max-rows 2000000] [--skip-pandas]
 *                    [--seed 42] [--verify-max-rows 50000] [--distinct-rows 1000000] [--dir .bench]
 *                    [--formats csv,parquet,both]
 *
 * --formats: the output formats our processor runs with on each input (its --output-format, SPEC
 * §15); pandas runs and outputs are compared only with csv (the first listed), and each other
 * format's wall time is also given relative to the csv run's on the same input.
 *
 * Each program runs under `/usr/bin/time -v` (wall time, maximum resident set size). Prints a
 * markdown table with the 1-minute load average before each run (the machine is shared: read
 * figures taken under load with care), the memory growth per extra row between consecutive sizes,
 * and whether the outputs agree with pandas (compare-outputs.ts) for row counts up to
 * --verify-max-rows. pandas is not run above --pandas-max-rows (at 10,000,000 rows it would need
 * about 11 GB). Then the high-cardinality case: --distinct-rows rows whose departments are all
 * distinct (generate-mock-data.ts `departments: 'distinct'`), so department_statistics has a row
 * per input row; its outputs are always compared with pandas' (0 skips the case). Our processor uses its default thread count (the CPUs it may use).
 * Inputs, outputs and our scratch directory are under --dir (default .bench/ at the repo root,
 * gitignored); inputs are kept and reused (10,000,000 rows take about 10 s to generate), outputs of
 * runs larger than --verify-max-rows are deleted after measuring.
 *
 * MB in the table means MiB (2^20 bytes), as /usr/bin/time's kbytes are KiB.
 * Needs /usr/bin/time (Debian package `time`) and, unless --skip-pandas, /usr/bin/python3 with
 * pandas (Debian package `python3-pandas`). Figures only; nothing here asserts timings.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareOutputs, formatReport } from './compare-outputs';
import { DepartmentMode, MOCK_DATA_VERSION, generateMockCsv } from './generate-mock-data';
import { PYTHON, REPO_ROOT, SEED_SCRIPT } from './paths';
import { NODE_FLAGS } from '../src/runtime/config';
import { defaultThreadCount } from '../src/transforms/walkthrough/parallel/threads';
import { OUTPUT_FORMATS, OutputFormat } from '../src/transforms/walkthrough/parquet/layout';

export const TIME = '/usr/bin/time';
export const PROCESSOR_CLI = join(REPO_ROOT, 'processor', 'lib', 'src', 'runtime', 'cli.js');

export interface Measurement {
  readonly wallSeconds: number;
  readonly maxRssBytes: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  readonly exitCode: number;
  /** 1-minute load average just before the run. */
  readonly loadBefore: number;
  /** The program's own stderr (time's report removed), for failures. */
  readonly stderr: string;
}

/** Parses GNU time's `-v` report. `Elapsed` is `h:mm:ss` or `m:ss.ss`. */
export function parseTimeReport(report: string): Omit<Measurement, 'loadBefore' | 'stderr'> {
  const field = (label: string): string => {
    const m = new RegExp(`^\\s*${label.replace(/[()]/g, '\\$&')}: (.+)$`, 'm').exec(report);
    if (!m) throw new Error(`/usr/bin/time report lacks "${label}"`);
    return m[1].trim();
  };
  const wall = field('Elapsed (wall clock) time (h:mm:ss or m:ss)').split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  return {
    wallSeconds: wall,
    maxRssBytes: Number(field('Maximum resident set size (kbytes)')) * 1024,
    userSeconds: Number(field('User time (seconds)')),
    systemSeconds: Number(field('System time (seconds)')),
    exitCode: Number(field('Exit status')),
  };
}

/** Runs a command under /usr/bin/time -v; time's report goes to a file so it never mixes with
 * the program's own stderr. */
export async function measure(command: string, args: string[], reportFile: string): Promise<Measurement> {
  const loadBefore = loadavg()[0];
  const child = spawn(TIME, ['-v', '-o', reportFile, command, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  await new Promise<void>((done, fail) => {
    child.once('error', fail);
    child.once('close', () => done());
  });
  return { ...parseTimeReport(readFileSync(reportFile, 'utf8')), loadBefore, stderr };
}

interface BenchOptions {
  readonly rows: number[];
  readonly skipPandas: boolean;
  readonly pandasMaxRows: number;
  readonly seed: number;
  readonly verifyMaxRows: number;
  /** Rows of the high-cardinality case (0: none). */
  readonly distinctRows: number;
  readonly dir: string;
  readonly formats: OutputFormat[];
}

interface BenchRow {
  readonly rows: number;
  /** Our processor's --output-format. */
  readonly format: OutputFormat;
  /** The csv run's wall time on the same input (for the ratio), when there is one. */
  readonly csvWallSeconds?: number;
  /** What the departments are: the seed's six, or distinct on every row. */
  readonly departments: DepartmentMode;
  readonly inputBytes: number;
  readonly pandas?: Measurement;
  readonly ours: Measurement;
  readonly agree?: boolean;
}

/** Generates (once) the seed-shaped input for a row count; a sidecar file records what it holds. */
export async function inputFor(dir: string, rows: number, seed: number, departments: DepartmentMode): Promise<string> {
  const path = join(dir, `mock_data_${rows}_seed${seed}${departments === 'seed' ? '' : `_${departments}`}.csv`);
  const sidecar = `${path}.json`;
  if (existsSync(path) && existsSync(sidecar)) {
    const meta = JSON.parse(readFileSync(sidecar, 'utf8'));
    if (meta.version === MOCK_DATA_VERSION && meta.rows === rows && meta.seed === seed && meta.bytes === statSync(path).size) return path;
  }
  const summary = await generateMockCsv({ rows, seed, path, departments });
  writeFileSync(sidecar, JSON.stringify(summary));
  return path;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

function seconds(m: Measurement): string {
  return m.wallSeconds.toFixed(2);
}

function failed(who: string, m: Measurement): string | undefined {
  return m.exitCode === 0 ? undefined : `${who} exited ${m.exitCode}: ${m.stderr.trim().split('\n').slice(-5).join(' | ')}`;
}

/** The markdown table SPEC §7 asks for, with the load beside each figure. */
export function formatTable(rows: BenchRow[]): string {
  const out = [
    '| rows | format | input MB | pandas wall s | pandas peak RSS MB | ours wall s | ours CPU s (user + sys) | ours peak RSS MB | wall ratio (ours/pandas) '
      + '| RSS ratio | wall × csv | load 1m (pandas / ours) | outputs agree |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
  ];
  for (const r of rows) {
    const p = r.pandas;
    const label = r.departments === 'seed' ? r.rows.toLocaleString('en-US') : `${r.rows.toLocaleString('en-US')}, all departments distinct`;
    const csvRatio = r.csvWallSeconds === undefined || r.format === 'csv' ? '–' : (r.ours.wallSeconds / r.csvWallSeconds).toFixed(2);
    out.push(`| ${label} | ${r.format} | ${mb(r.inputBytes)} | ${p ? seconds(p) : '–'} | ${p ? mb(p.maxRssBytes) : '–'} | `
      + `${seconds(r.ours)} | ${(r.ours.userSeconds + r.ours.systemSeconds).toFixed(2)} | ${mb(r.ours.maxRssBytes)} | `
      + `${p ? (r.ours.wallSeconds / p.wallSeconds).toFixed(3) : '–'} | `
      + `${p ? (r.ours.maxRssBytes / p.maxRssBytes).toFixed(3) : '–'} | ${csvRatio} | ${p ? p.loadBefore.toFixed(2) : '–'} / ${r.ours.loadBefore.toFixed(2)} | `
      + `${r.agree === undefined ? 'not checked' : r.agree ? 'yes' : 'NO'} |`);
  }
  return out.join('\n');
}

/** Memory growth between consecutive sizes: extra peak RSS per extra row, and the ratio of the peaks. */
export function formatGrowth(rows: BenchRow[]): string[] {
  const lines: string[] = [];
  const line = (who: string, a: BenchRow, b: BenchRow, x: Measurement, y: Measurement): string =>
    `${who}: peak RSS ${mb(x.maxRssBytes)} MB at ${a.rows.toLocaleString('en-US')} rows → ${mb(y.maxRssBytes)} MB at `
    + `${b.rows.toLocaleString('en-US')} rows (×${(y.maxRssBytes / x.maxRssBytes).toFixed(2)}): `
    + `${((y.maxRssBytes - x.maxRssBytes) / (b.rows - a.rows)).toFixed(1)} bytes per extra row`;
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1], rows[i]];
    lines.push(line('ours', a, b, a.ours, b.ours));
    if (a.pandas && b.pandas) lines.push(line('pandas', a, b, a.pandas, b.pandas));
  }
  return lines;
}

/** Our processor (and pandas, with format csv) on one input, in each of options.formats. */
async function benchInput(dir: string, rows: number, options: BenchOptions, departments: DepartmentMode = 'seed'): Promise<BenchRow[]> {
  const results: BenchRow[] = [];
  let csvWallSeconds: number | undefined;
  for (const format of options.formats) {
    if (options.formats.length > 1) console.error(`  --output-format ${format}:`);
    const row = await benchOne(dir, rows, { ...options, skipPandas: options.skipPandas || format !== 'csv' }, departments, format);
    if (format === 'csv') csvWallSeconds = row.ours.wallSeconds;
    results.push({ ...row, csvWallSeconds });
  }
  return results;
}

async function benchOne(dir: string, rows: number, options: BenchOptions, departments: DepartmentMode, format: OutputFormat): Promise<BenchRow> {
  const input = await inputFor(dir, rows, options.seed, departments);
  const runId = departments === 'seed' ? `bench-${rows}` : `bench-${rows}-${departments}`;
  // The high-cardinality case is always checked: its point is department_statistics, a row per input row.
  const verify = rows <= options.verifyMaxRows || departments !== 'seed';
  const oursDir = join(dir, `ours-${runId}`);
  const pandasDir = join(dir, `pandas-${runId}`);
  rmSync(oursDir, { recursive: true, force: true });
  rmSync(pandasDir, { recursive: true, force: true });
  const problems: string[] = [];

  let pandas: Measurement | undefined;
  if (!options.skipPandas && (rows <= options.pandasMaxRows || departments !== 'seed')) {
    console.error(`  pandas reference on ${rows} rows…`);
    pandas = await measure(PYTHON, [SEED_SCRIPT, input, pandasDir, runId], join(dir, `time-pandas-${runId}.txt`));
    const why = failed('pandas', pandas);
    if (why) problems.push(why);
  }
  console.error(`  our processor on ${rows} rows…`);
  const scratch = join(dir, 'scratch');
  const ours = await measure(process.execPath,
    [...NODE_FLAGS, PROCESSOR_CLI, '--input', input, '--output', oursDir, '--run-id', runId, '--scratch-dir', scratch, '--output-format', format],
    join(dir, `time-ours-${runId}-${format}.txt`));
  const why = failed('ours', ours);
  if (why) problems.push(why);

  let agree: boolean | undefined;
  if (pandas && problems.length === 0 && verify) {
    const report = await compareOutputs({ dir: oursDir, runId }, { dir: pandasDir, runId });
    agree = report.ok;
    console.error(formatReport(report).replace(/^/gm, '  '));
  }
  if (rows > options.verifyMaxRows) {
    rmSync(oursDir, { recursive: true, force: true }); // hundreds of MB at 2M rows
    rmSync(pandasDir, { recursive: true, force: true });
  }
  for (const p of problems) console.error(`  ! ${p}`);
  if (format !== 'csv') rmSync(oursDir, { recursive: true, force: true });
  return { rows, format, departments, inputBytes: statSync(input).size, pandas, ours, agree: problems.length > 0 ? false : agree };
}

function parseCli(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'rows': { type: 'string', default: '50000,2000000,10000000' },
      'skip-pandas': { type: 'boolean', default: false },
      'pandas-max-rows': { type: 'string', default: '2000000' },
      'seed': { type: 'string', default: '42' },
      'verify-max-rows': { type: 'string', default: '50000' },
      'distinct-rows': { type: 'string', default: '1000000' },
      'dir': { type: 'string', default: join(REPO_ROOT, '.bench') },
      'formats': { type: 'string', default: 'csv,parquet,both' },
    },
  });
  const formats = values.formats.split(',') as OutputFormat[];
  const unknown = formats.filter((f) => !OUTPUT_FORMATS.includes(f));
  if (unknown.length > 0 || formats.length === 0) throw new Error(`--formats takes ${OUTPUT_FORMATS.join(', ')} separated by commas, got ${values.formats}`);
  // csv first: the other formats' wall times are given relative to it.
  formats.sort((a, b) => OUTPUT_FORMATS.indexOf(a) - OUTPUT_FORMATS.indexOf(b));
  const rows = values.rows.split(',').map((r) => Number(r.replace(/_/g, '')));
  if (rows.some((r) => !Number.isSafeInteger(r) || r <= 0)) throw new Error(`--rows must be positive integers, got ${values.rows}`);
  const distinctRows = Number(values['distinct-rows'].replace(/_/g, ''));
  if (!Number.isSafeInteger(distinctRows) || distinctRows < 0) throw new Error(`--distinct-rows must be a whole number, got ${values['distinct-rows']}`);
  return {
    rows: rows.sort((a, b) => a - b),
    skipPandas: values['skip-pandas'],
    pandasMaxRows: Number(values['pandas-max-rows']),
    seed: Number(values.seed),
    verifyMaxRows: Number(values['verify-max-rows']),
    distinctRows,
    dir: resolve(values.dir),
    formats,
  };
}

function checkTools(options: BenchOptions): void {
  if (!existsSync(TIME)) throw new Error(`${TIME} not found: install Debian package "time"`);
  if (!existsSync(PROCESSOR_CLI)) throw new Error(`${PROCESSOR_CLI} not found: run "npx tsc -p processor/tsconfig.tools.json" (npm run bench does)`);
  if (options.skipPandas) return;
  try {
    execFileSync(PYTHON, ['-c', 'import pandas'], { stdio: 'pipe' });
  } catch {
    throw new Error(`${PYTHON} cannot import pandas: install Debian package "python3-pandas", or pass --skip-pandas`);
  }
}

export async function main(argv: string[]): Promise<number> {
  // `npm run bench -- --command`: the runtime's own overhead for a command transform (bench-command.ts).
  if (argv.includes('--command')) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { benchCommand } = require('./bench-command') as typeof import('./bench-command');
    return benchCommand(argv.filter((a) => a !== '--command'));
  }
  const options = parseCli(argv);
  checkTools(options);
  const dir = options.dir;
  mkdirSync(dir, { recursive: true });
  console.error(`threads: ${defaultThreadCount()} (the CPUs this process may use); node ${process.version}`);
  const results: BenchRow[] = [];
  for (const rows of options.rows) {
    console.error(`${rows.toLocaleString('en-US')} rows (load ${loadavg().map((l) => l.toFixed(2)).join(' ')}):`);
    results.push(...await benchInput(dir, rows, options));
  }
  const growth = formatGrowth(results.filter((r) => r.format === options.formats[0]));
  if (options.distinctRows > 0) {
    console.error(`${options.distinctRows.toLocaleString('en-US')} rows, all departments distinct (load ${loadavg().map((l) => l.toFixed(2)).join(' ')}):`);
    results.push(...await benchInput(dir, options.distinctRows, options, 'distinct'));
  }
  console.log('');
  console.log(formatTable(results));
  console.log('');
  for (const line of growth) console.log(line);
  const ok = results.every((r) => r.agree !== false);
  if (!ok) console.log('FAILED: a run failed or outputs disagree with pandas (details above)');
  return ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      console.error(`bench: ${err.message}`);
      process.exitCode = 2;
    },
  );
}
