/**
 * The README's command, `npm run preprocess -- --input … --output …`, run as a user runs it: npm
 * must exit with the processor's own code (SPEC §5: 0, 2, 1, 143), and the processor is compiled
 * only when it is missing or stale (scripts/preprocess.js), not on every run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HEADER, RUN_ID, TempDirs } from './helpers';
import { generateMockCsv } from '../../processor/tools/generate-mock-data';

const ROOT = join(__dirname, '..', '..');
const temp = new TempDirs();
afterAll(() => temp.cleanup());

function npmRunPreprocess(args: string[]): { code: number | null; stderr: string } {
  const run = spawnSync('npm', ['run', '--silent', 'preprocess', '--', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: run.status, stderr: run.stderr };
}

function file(content: string): string {
  const path = join(temp.make(), 'input.csv');
  writeFileSync(path, content);
  return path;
}

test('an empty input file: exit code 2, the problem named, no outputs', () => {
  const out = join(temp.make(), 'out');
  const run = npmRunPreprocess(['--input', file(''), '--output', out, '--run-id', RUN_ID]);
  expect(run.stderr).toMatch(/Bad input: input is empty \(0 bytes\)/);
  expect(run.code).toBe(2);
  expect(existsSync(join(out, `manifest_${RUN_ID}.json`))).toBe(false);
}, 120_000);

test('a good input: exit code 0 and the outputs; compiled after a source changed, and only then', () => {
  const input = file(`${HEADER}\n1,A,30,50000,2020-01-01,,IT,1\n`);
  const out = temp.make();
  const now = new Date();
  utimesSync(join(ROOT, 'processor', 'src', 'runtime', 'cli.ts'), now, now); // as an edit would
  const first = npmRunPreprocess(['--input', input, '--output', out, '--run-id', RUN_ID]);
  expect(first.stderr).toMatch(/preprocess: compiling processor\//);
  expect(first.code).toBe(0);
  expect(JSON.parse(readFileSync(join(out, `manifest_${RUN_ID}.json`), 'utf8'))).toMatchObject({ total_rows: 1 });
  const second = npmRunPreprocess(['--input', input, '--output', temp.make(), '--run-id', RUN_ID]);
  expect(second.code).toBe(0);
  expect(second.stderr).not.toMatch(/compiling/);
}, 120_000);

test('an invalid option: exit code 2 with the usage', () => {
  const run = npmRunPreprocess(['--na-values', 'sometimes', '--input', 'x', '--output', 'y']);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/--na-values must be one of default, empty/);
}, 120_000);

test('SIGTERM to npm reaches the processor: exit code 143 and no manifest', async () => {
  const dir = temp.make();
  const input = join(dir, 'large.csv');
  await generateMockCsv({ rows: 500_000, seed: 7, path: input });
  const out = join(dir, 'out');
  const npm = spawn('npm', ['run', '--silent', 'preprocess', '--', '--input', input, '--output', out, '--run-id', RUN_ID], { cwd: ROOT });
  let stderr = '';
  npm.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    // Once the processor reads the input, stop it the way Kubernetes does: SIGTERM to the main process.
    if (stderr.includes('Reading ') && !npm.killed) npm.kill('SIGTERM');
  });
  const code = await new Promise<number | null>((resolve) => npm.on('close', (c) => resolve(c)));
  expect(stderr).toMatch(/Stop requested/);
  expect(code).toBe(143);
  expect(existsSync(join(out, `manifest_${RUN_ID}.json`))).toBe(false);
}, 120_000);
