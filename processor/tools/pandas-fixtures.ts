/**
 * The pandas parity fixtures: what the walkthrough's pandas logic (seed_preprocess.py) writes for a
 * set of inputs, committed under test/tools/pandas-fixtures/ so that `npm test` proves parity on a
 * machine without pandas (test/tools/pandas-parity.test.ts compares our outputs with them).
 *
 *   node processor/lib/tools/pandas-fixtures.js write   regenerate them   (npx projen parity:fixtures)
 *   node processor/lib/tools/pandas-fixtures.js check   re-run live pandas: the fixtures must be what
 *                                                       it writes now, and our outputs must agree with
 *                                                       it                (npx projen parity:pandas)
 *
 * Both need /usr/bin/python3 with pandas (Debian's python3-pandas, 1.5.3). The walkthrough installs
 * the current pandas; where 1.5.3 differs from it (SPEC §5), a case lists the edit made to 1.5.3's
 * input or output and why, and the edit must apply exactly once, or generation fails.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CSV_OUTPUTS, RunOutputs, compareOutputs, formatReport, outputFile } from './compare-outputs';
import { generateMockCsv } from './generate-mock-data';
import { PYTHON, REPO_ROOT, SEED_SCRIPT } from './paths';
import { runPipeline } from '../src/runtime/run';
import type { NaValuesMode } from '../src/runtime/transform';

export const FIXTURES_DIR = join(REPO_ROOT, 'test', 'tools', 'pandas-fixtures');
/** The fixtures' outputs are named `<output>_pandas.<ext>`. */
export const FIXTURE_RUN_ID = 'pandas';
/** pandas writes the wall clock; the fixtures hold this instead (the timestamp is not compared). */
export const FIXTURE_TIMESTAMP = 'not compared';
export const REGENERATE_COMMAND = 'npx projen parity:fixtures';

/** A text replacement in pandas 1.5.3's input or output, with the reason. */
export interface Edit {
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

export interface ParityCase {
  /** Folder name under test/tools/pandas-fixtures/. */
  readonly name: string;
  /** What the case covers. */
  readonly about: string;
  /** Generated seed-shaped rows instead of a committed input.csv (the input's SHA-256 is committed). */
  readonly mock?: { readonly rows: number; readonly seed: number; readonly duplicateRate: number };
  /** @default 'default' */
  readonly naValues?: NaValuesMode;
  /** Edits to the input that pandas 1.5.3 reads. */
  readonly pandasInputEdits?: readonly Edit[];
  /** Edits to pandas 1.5.3's CSV outputs. */
  readonly pandasOutputEdits?: ReadonlyArray<{ readonly output: (typeof CSV_OUTPUTS)[number]; readonly edits: readonly Edit[] }>;
}

export const CASES: readonly ParityCase[] = [
  {
    name: 'mock-data',
    about: '1,000 generated seed-shaped rows (processor/tools/generate-mock-data.ts, seed 20241221): missing values in '
      + 'every column, partial profiles, 1 % duplicate rows.',
    mock: { rows: 1000, seed: 20241221, duplicateRate: 0.01 },
  },
  {
    name: 'edges',
    about: 'An even count of valid ages and salaries (median of the middle two), values on every bin edge, a salary above '
      + 'the last bin, a profile without an address, no profile, a missing department.',
  },
  {
    name: 'unicode-escapes',
    about: 'Profiles whose JSON spells characters as \\u escapes (what json.dumps writes), a surrogate pair, other escapes, '
      + 'raw non-ASCII text, another key order and spacing: address_length counts characters.',
  },
  {
    name: 'number-spaces',
    about: 'Spaces and tabs around numbers in the float columns and the id; text columns keep theirs.',
  },
  {
    name: 'infinite-floats',
    about: 'inf, -inf, +inf, Infinity, INF in any case and overflow (1e400) in age, salary and bonus: infinite floats, '
      + 'printed inf / -inf, in medians, bins and department means.',
    pandasInputEdits: [
      { from: ',1e400,', to: ',inf,', why: 'pandas 1.5.3 reads 1e400 as text; current pandas reads it as inf (SPEC §5)' },
      { from: ',-1e400\n', to: ',-inf\n', why: 'the same for -1e400' },
    ],
    pandasOutputEdits: [{
      output: 'department_statistics',
      edits: [{
        from: 'IT,inf,\n',
        to: 'IT,inf,inf\n',
        why: 'pandas 1.5.3\'s group mean turns NaN when values follow an infinite one (IT\'s ages: 30, inf, 40); '
          + 'current pandas resets the compensation and keeps inf (GH#50367, SPEC §5)',
      }],
    }],
  },
  {
    name: 'profile-values',
    about: 'Profile values that are not strings, as str() writes them: integers of any size, floats, booleans, Infinity; '
      + 'null and NaN are missing; other keys are ignored whatever their values (lists, objects), a repeated key\'s last value counts. '
      + '(An address, phone or email that is a list or an object rejects the row, SPEC §5: no pandas parity there.)',
  },
  {
    name: 'negative-zero',
    about: 'Rows that differ only by -0.0 against 0.0 in age, salary or bonus are duplicates; each prints its own sign.',
  },
  {
    name: 'na-tokens',
    about: 'pandas\' missing-value tokens (NA, null, NaN, None, N/A, …) in every column but the id, quoted or not; '
      + 'near misses (na, Nan, NA with a space) are text.',
  },
  {
    name: 'na-values-empty',
    naValues: 'empty',
    about: 'With --na-values empty only an empty cell is missing: tokens in text columns stay text.',
  },
];

/** Where a case's committed files are. */
export function caseDir(c: ParityCase): string {
  return join(FIXTURES_DIR, c.name);
}

/** The committed pandas outputs of a case, for compare-outputs. */
export function fixtureOutputs(c: ParityCase): RunOutputs {
  return { dir: caseDir(c), runId: FIXTURE_RUN_ID };
}

/** Writes the case's input to `dir/<case>.csv` (generating mock data, or copying the committed file) and returns the path. */
export async function materializeInput(c: ParityCase, dir: string): Promise<string> {
  const path = join(dir, `${c.name}.csv`);
  if (c.mock) await generateMockCsv({ ...c.mock, path });
  else copyFileSync(join(caseDir(c), 'input.csv'), path);
  return path;
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The committed SHA-256 of a generated input (undefined for committed inputs). */
export function committedInputHash(c: ParityCase): string | undefined {
  return c.mock ? readFileSync(join(caseDir(c), 'input.sha256'), 'utf8').trim() : undefined;
}

/** Runs our processor on the case's input into `outDir`. */
export async function runOurs(c: ParityCase, input: string, outDir: string, runId: string): Promise<void> {
  await runPipeline({ input, output: outDir, runId, naValues: c.naValues ?? 'default', scratchDir: outDir + '-scratch' });
  rmSync(outDir + '-scratch', { recursive: true, force: true });
}

/** Runs pandas 1.5.3 on the case's input, applies the case's edits, and writes the outputs as fixtures are written. */
export function runPandas(c: ParityCase, input: string, outDir: string): void {
  const work = mkdtempSync(join(tmpdir(), `pandas-${c.name}-`));
  try {
    const pandasInput = join(work, 'input.csv');
    writeFileSync(pandasInput, applyEdits(readFileSync(input, 'utf8'), c.pandasInputEdits ?? [], `${c.name} input`));
    const run = spawnSync(PYTHON, [SEED_SCRIPT, pandasInput, work, FIXTURE_RUN_ID, '--na-values', c.naValues ?? 'default'], { encoding: 'utf8' });
    if (run.error || run.status !== 0) {
      throw new Error(`pandas failed on ${c.name} (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr}\n`
        + 'It needs /usr/bin/python3 with pandas: apt-get install -y python3-pandas');
    }
    mkdirSync(outDir, { recursive: true });
    for (const output of CSV_OUTPUTS) {
      const edits = c.pandasOutputEdits?.find((e) => e.output === output)?.edits ?? [];
      const text = readFileSync(outputFile({ dir: work, runId: FIXTURE_RUN_ID }, output, 'csv'), 'utf8');
      writeFileSync(outputFile({ dir: outDir, runId: FIXTURE_RUN_ID }, output, 'csv'), applyEdits(text, edits, `${c.name} ${output}`));
    }
    const metricsPath = outputFile({ dir: work, runId: FIXTURE_RUN_ID }, 'quality_metrics', 'json');
    const metrics = JSON.parse(readFileSync(metricsPath, 'utf8'));
    metrics.processing_timestamp = FIXTURE_TIMESTAMP;
    writeFileSync(outputFile({ dir: outDir, runId: FIXTURE_RUN_ID }, 'quality_metrics', 'json'), JSON.stringify(metrics, null, 2) + '\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Applies each edit, which must match exactly once (else pandas' behaviour changed: review the case). */
export function applyEdits(text: string, edits: readonly Edit[], where: string): string {
  for (const edit of edits) {
    const count = text.split(edit.from).length - 1;
    if (count !== 1) throw new Error(`${where}: the edit ${JSON.stringify(edit.from)} → ${JSON.stringify(edit.to)} matches ${count} times, not once`);
    text = text.replace(edit.from, edit.to);
  }
  return text;
}

/** The files of a case's fixture outputs. */
export function fixtureFiles(): string[] {
  return [...CSV_OUTPUTS.map((o) => `${o}_${FIXTURE_RUN_ID}.csv`), `quality_metrics_${FIXTURE_RUN_ID}.json`];
}

async function write(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'pandas-fixtures-'));
  try {
    for (const c of CASES) {
      const input = await materializeInput(c, work);
      runPandas(c, input, caseDir(c));
      if (c.mock) writeFileSync(join(caseDir(c), 'input.sha256'), sha256(input) + '\n');
      console.log(`wrote ${c.name}`);
    }
    writeFileSync(join(FIXTURES_DIR, 'README.md'), readme());
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function check(): Promise<boolean> {
  const work = mkdtempSync(join(tmpdir(), 'pandas-check-'));
  let ok = true;
  try {
    for (const c of CASES) {
      const input = await materializeInput(c, work);
      const live = join(work, `${c.name}-pandas`);
      runPandas(c, input, live);
      const stale = fixtureFiles().filter((f) => !existsSync(join(caseDir(c), f))
        || !readFileSync(join(caseDir(c), f)).equals(readFileSync(join(live, f))));
      if (c.mock && committedInputHash(c) !== sha256(input)) stale.push('input.sha256');
      const ours = join(work, `${c.name}-ours`);
      await runOurs(c, input, ours, FIXTURE_RUN_ID);
      const report = await compareOutputs({ dir: ours, runId: FIXTURE_RUN_ID }, { dir: live, runId: FIXTURE_RUN_ID }, { maxSamples: 10 });
      console.log(`${c.name}: fixtures ${stale.length === 0 ? 'current' : `STALE (${stale.join(', ')}; run ${REGENERATE_COMMAND})`}`);
      console.log(formatReport(report).replace(/^/gm, '  '));
      ok = ok && stale.length === 0 && report.ok;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return ok;
}

function readme(): string {
  const lines = [
    '# pandas parity fixtures',
    '',
    'Generated by `processor/tools/pandas-fixtures.ts`; do not edit by hand. Each folder holds one case: its',
    '`input.csv` (or, for generated data, the SHA-256 of the generated input) and what the walkthrough\'s pandas',
    'logic (`processor/tools/seed_preprocess.py`, Debian\'s pandas 1.5.3) writes for it, as',
    '`<output>_pandas.<ext>` (the quality metrics\' wall-clock timestamp replaced). `npm test` compares the',
    'processor\'s outputs with these files (`test/tools/pandas-parity.test.ts`), so it needs no pandas.',
    '',
    `- Regenerate (needs \`apt-get install -y python3-pandas\`): \`${REGENERATE_COMMAND}\``,
    '- Re-run live pandas, check these files are current and the processor agrees with it: `npx projen parity:pandas`',
    '  (`.ci/run` does).',
    '',
    'The one intended difference: `address_length` of a missing address is 0 in the processor, 3 in pandas',
    '(`len(str(NaN))`, SPEC §2 defect 11); the comparison allows exactly that.',
    '',
    '## Cases',
    '',
  ];
  for (const c of CASES) {
    lines.push(`- \`${c.name}\`${c.naValues === 'empty' ? ' (`--na-values empty`)' : ''}: ${c.about}`);
    const edits = [
      ...(c.pandasInputEdits ?? []).map((e) => ({ ...e, where: 'input' })),
      ...(c.pandasOutputEdits ?? []).flatMap((o) => o.edits.map((e) => ({ ...e, where: o.output }))),
    ];
    for (const e of edits) {
      lines.push(`  - Adjusted for pandas 1.5.3, ${e.where}: \`${JSON.stringify(e.from)}\` → \`${JSON.stringify(e.to)}\`: ${e.why}.`);
    }
  }
  return lines.join('\n') + '\n';
}

if (require.main === module) {
  const command = process.argv[2];
  if (command === 'write') {
    write().catch((error: Error) => {
      console.error(`pandas-fixtures: ${error.message}`);
      process.exitCode = 1;
    });
  } else if (command === 'check') {
    check().then((ok) => (process.exitCode = ok ? 0 : 1), (error: Error) => {
      console.error(`pandas-fixtures: ${error.message}`);
      process.exitCode = 1;
    });
  } else {
    console.error('usage: pandas-fixtures.js write|check');
    process.exitCode = 2;
  }
}
