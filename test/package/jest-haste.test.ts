/**
 * `npm run synth:example` writes the processor image's asset, a copy of processor/ with its
 * package.json, under cdk.out/. jest's module map must ignore cdk.out, or every later test run
 * warns about a haste module naming collision.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const JEST = require.resolve('jest/bin/jest');
const asset = join(ROOT, 'cdk.out', `asset.jest-haste-test-${process.pid}`);

beforeAll(() => {
  mkdirSync(asset, { recursive: true });
  writeFileSync(join(asset, 'package.json'), readFileSync(join(ROOT, 'processor', 'package.json')));
});
afterAll(() => rmSync(asset, { recursive: true, force: true }));

/** Runs `jest --listTests` (`--no-cache`: a cached module map does not repeat the warning); output is stdout + stderr. */
function listTests(...extraArgs: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [JEST, '--listTests', '--no-cache', ...extraArgs], { cwd: ROOT, encoding: 'utf8' });
  // jest prints the haste map's warning on stdout among the test paths.
  return { status: run.status, output: run.stdout + run.stderr };
}

test('with a synthesized asset in cdk.out/, jest lists the tests without a naming collision', () => {
  const run = listTests();
  expect(run.status).toBe(0);
  expect(run.output).toContain('jest-haste.test.ts');
  expect(run.output).not.toMatch(/naming collision/);
}, 60_000);

test('without the project\'s modulePathIgnorePatterns the same tree collides (what the setting prevents)', () => {
  const run = listTests('--modulePathIgnorePatterns', '<rootDir>/no-such-dir/');
  expect(run.output).toMatch(/Haste module naming collision: cdk-mlops-eks-processor/);
}, 60_000);
