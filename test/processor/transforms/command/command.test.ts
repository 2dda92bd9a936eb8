/**
 * The command transform with local directories (SPEC §14): the MLOPS_* contract, what is
 * published and when, exit codes, log lines, signals, and the faults of issue 24. Each test runs
 * the CLI's main in this process with `-- <program>`, the program a small shell or node script.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../../processor/src/runtime/cli';
import { HEADER, RUN_ID, TempDirs } from '../../helpers';

jest.setTimeout(60_000);
const temp = new TempDirs();
afterAll(() => temp.cleanup());

const INPUT = `${HEADER}\n1,A,30,50000,2020-01-01,,IT,1\n`;

interface CommandRun {
  readonly code: number;
  readonly log: string;
  readonly out: string;
  readonly manifest: () => Record<string, any>;
}

/** `--input <file> --output <dir> --run-id RUN_ID -- <program...>`, its exit code, log and output directory. */
interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  readonly onLine?: (line: string) => void;
}

async function runCommand(program: readonly string[], options: RunOptions = {}): Promise<CommandRun> {
  const dir = temp.make();
  const input = join(dir, 'input.csv');
  writeFileSync(input, INPUT);
  const out = join(dir, 'out');
  const lines: string[] = [];
  const code = await main(['--input', input, '--output', out, '--run-id', RUN_ID, '--scratch-dir', join(dir, 'scratch'), '--', ...program], {
    LOG_FORMAT: 'json', ...options.env,
  }, {
    signal: options.signal,
    write: (line) => {
      lines.push(line);
      options.onLine?.(line);
    },
  });
  return {
    code,
    log: lines.join(''),
    out,
    manifest: () => JSON.parse(readFileSync(join(out, `manifest_${RUN_ID}.json`), 'utf8')),
  };
}

function sh(script: string): string[] {
  return ['sh', '-c', script];
}

/** Every file under `dir`, relative paths, sorted. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as any[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1))
    .sort();
}

function jsonLines(log: string): Array<Record<string, any>> {
  return log.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

test('exit 0: every regular file of MLOPS_OUTPUT_DIR is published under <runId>/, sub-folders kept, with sha256; the manifest names the command', async () => {
  const script = [
    'set -e',
    'test -z "$(ls -A "$MLOPS_OUTPUT_DIR")"',
    'mkdir -p "$MLOPS_OUTPUT_DIR/tables/deep"',
    'cp "$MLOPS_INPUT_FILE" "$MLOPS_OUTPUT_DIR/tables/deep/copy.csv"',
    'env | grep ^MLOPS_ | sort > "$MLOPS_OUTPUT_DIR/env.txt"',
    'test -d "$MLOPS_SCRATCH_DIR"',
    'echo \'{"input_rows": 7, "rejected_rows": 2}\' > "$MLOPS_METRICS_FILE"',
  ].join('\n');
  const run = await runCommand(sh(script));
  expect(run.code).toBe(0);
  expect(filesUnder(run.out)).toEqual([`${RUN_ID}/env.txt`, `${RUN_ID}/tables/deep/copy.csv`, `manifest_${RUN_ID}.json`]);
  const copied = readFileSync(join(run.out, RUN_ID, 'tables/deep/copy.csv'));
  expect(copied.toString()).toBe(INPUT);
  const env = readFileSync(join(run.out, RUN_ID, 'env.txt'), 'utf8');
  expect(env).toMatch(new RegExp(`^MLOPS_RUN_ID=${RUN_ID}$`, 'm'));
  expect(env).toMatch(/^MLOPS_INPUT_URI=.*input\.csv$/m);
  expect(env).not.toMatch(/MLOPS_INPUT_VERSION_ID/); // unknown for a local file
  const manifest = run.manifest();
  expect(manifest.transform).toEqual({ type: 'command', command: ['sh', '-c', script] });
  expect(manifest).toMatchObject({ run_id: RUN_ID, input_rows: 7, rejected_rows: 2, total_rows: 5 });
  const copy = manifest.outputs.find((o: any) => o.key === `${RUN_ID}/tables/deep/copy.csv`);
  expect(copy).toEqual({ name: 'tables/deep/copy.csv', key: `${RUN_ID}/tables/deep/copy.csv`, bytes: copied.length, sha256: createHash('sha256').update(copied).digest('hex') });
});

test('exit 2 with a message: bad input (exit code 2), the message in the error, nothing published, no manifest', async () => {
  const run = await runCommand(sh('echo partial > "$MLOPS_OUTPUT_DIR/x.csv"; echo "column salary is missing" >&2; exit 2'));
  expect(run.code).toBe(2);
  const error = jsonLines(run.log).find((l) => l.level === 'error')!;
  expect(error.message).toMatch(/^Bad input: the transform command 'sh' rejected the input \(exit code 2\).*column salary is missing/s);
  expect(filesUnder(run.out)).toEqual([]);
});

test('exit 1: a failed run (exit code 1), nothing published', async () => {
  const run = await runCommand(sh('echo data > "$MLOPS_OUTPUT_DIR/x.csv"; echo boom >&2; exit 1'));
  expect(run.code).toBe(1);
  expect(run.log).toMatch(/failed with exit code 1; its last stderr lines:\\nboom/);
  expect(filesUnder(run.out)).toEqual([]);
});

test('killed by a signal: a failed run naming the signal, nothing published', async () => {
  const run = await runCommand(sh('echo data > "$MLOPS_OUTPUT_DIR/x.csv"; kill -KILL $$'));
  expect(run.code).toBe(1);
  expect(run.log).toMatch(/was killed by SIGKILL/);
  expect(filesUnder(run.out)).toEqual([]);
});

test('writes nothing: succeeded, a manifest with no outputs', async () => {
  const run = await runCommand(['true']);
  expect(run.code).toBe(0);
  expect(run.manifest().outputs).toEqual([]);
  expect(filesUnder(run.out)).toEqual([`manifest_${RUN_ID}.json`]);
});

test.each([
  ['a symlink to /etc/passwd', 'ln -s /etc/passwd "$MLOPS_OUTPUT_DIR/sub/leak.csv"', /a symlink 'sub\/leak\.csv'/],
  ['a FIFO', 'mkfifo "$MLOPS_OUTPUT_DIR/sub/pipe"', /a FIFO 'sub\/pipe'/],
])('writes %s: the run fails naming it, nothing published', async (_label, make, named) => {
  const run = await runCommand(sh(`mkdir "$MLOPS_OUTPUT_DIR/sub"; echo ok > "$MLOPS_OUTPUT_DIR/a.csv"; ${make}`));
  expect(run.code).toBe(1);
  expect(run.log).toMatch(named);
  expect(filesUnder(run.out)).toEqual([]);
});

test('a line of 1 MB and control characters: log lines stay whole (split into marked pieces) and escaped, each with the run id', async () => {
  const program = ['node', '-e', [
    "process.stdout.write('x'.repeat(1024 * 1024) + '\\n');",
    "process.stderr.write('bell\\u0007 esc\\u001b[31m tab\\t cr\\r in the middle\\n');",
    "process.stdout.write('no newline at the end');",
  ].join('')];
  const run = await runCommand(program);
  expect(run.code).toBe(0);
  const program_lines = jsonLines(run.log).filter((l) => l.stream !== undefined);
  for (const line of program_lines) expect(line.runId).toBe(RUN_ID);
  const pieces = program_lines.filter((l) => l.stream === 'stdout' && l.message.startsWith('x'));
  expect(pieces.map((l) => l.message).join('')).toBe('x'.repeat(1024 * 1024));
  expect(pieces.slice(0, -1).every((l) => l.partial === true)).toBe(true);
  expect(pieces[pieces.length - 1].partial).toBeUndefined();
  expect(pieces.length).toBe(16);
  const stderr = program_lines.find((l) => l.stream === 'stderr')!;
  expect(stderr).toMatchObject({ level: 'warn', message: 'bell\u0007 esc\u001b[31m tab\t cr\r in the middle' });
  // Every log line is one line of text: the control characters are escaped by the encoder.
  expect(run.log).toContain('bell\\u0007 esc\\u001b[31m tab\\t cr\\r');
  expect(program_lines.some((l) => l.message === 'no newline at the end')).toBe(true);
});

test('an invalid JSON metrics file: a warning, the run still succeeds with counts 0', async () => {
  const run = await runCommand(sh('echo "{not json" > "$MLOPS_METRICS_FILE"; echo a > "$MLOPS_OUTPUT_DIR/a.txt"'));
  expect(run.code).toBe(0);
  expect(jsonLines(run.log).some((l) => l.level === 'warn' && /MLOPS_METRICS_FILE is not valid JSON/.test(l.message))).toBe(true);
  expect(run.manifest()).toMatchObject({ input_rows: 0, rejected_rows: 0 });
  expect(run.manifest().outputs.map((o: any) => o.key)).toEqual([`${RUN_ID}/a.txt`]);
});

test('a command that does not exist: exit code 1 with a message naming it', async () => {
  const run = await runCommand(['no-such-program-xyz', '--flag']);
  expect(run.code).toBe(1);
  expect(run.log).toMatch(/the transform command 'no-such-program-xyz' was not found/);
  expect(filesUnder(run.out)).toEqual([]);
});

test('SIGTERM reaches the program; one that ignores it is killed after the grace period; the run stops with 143, nothing published', async () => {
  const dir = temp.make();
  const pidFile = join(dir, 'pid');
  const controller = new AbortController();
  const run = await runCommand(sh(`trap '' TERM; echo $$ > ${pidFile}; echo x > "$MLOPS_OUTPUT_DIR/a.csv"; echo ready; while :; do sleep 1; done`), {
    env: { TRANSFORM_KILL_GRACE_SECONDS: '1' },
    signal: controller.signal,
    onLine: (line) => {
      if (line.includes('"message":"ready"')) controller.abort();
    },
  });
  expect(run.code).toBe(143);
  expect(run.log).toMatch(/Stopping the transform program: SIGTERM, then SIGKILL after 1 s/);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  expect(filesUnder(run.out)).toEqual([]);
});

test('a program that ends on SIGTERM: the run stops with 143 and the program saw the signal', async () => {
  const dir = temp.make();
  const seen = join(dir, 'seen');
  const controller = new AbortController();
  const run = await runCommand(sh(`trap 'echo TERM > ${seen}; exit 143' TERM; echo ready; while :; do sleep 0.1; done`), {
    signal: controller.signal,
    onLine: (line) => {
      if (line.includes('"message":"ready"')) controller.abort();
    },
  });
  expect(run.code).toBe(143);
  expect(readFileSync(seen, 'utf8')).toBe('TERM\n');
});

test('10,000 small files in sub-folders: all published with their bytes and sha256', async () => {
  const run = await runCommand(['node', '-e', [
    "const fs = require('fs'), p = require('path'), d = process.env.MLOPS_OUTPUT_DIR;",
    'for (let i = 0; i < 10000; i++) {',
    '  const sub = p.join(d, `part-${i % 10}`); fs.mkdirSync(sub, { recursive: true });',
    '  fs.writeFileSync(p.join(sub, `f${i}.csv`), `id\\n${i}\\n`);',
    '}',
  ].join('\n')]);
  expect(run.code).toBe(0);
  const outputs = run.manifest().outputs;
  expect(outputs).toHaveLength(10_000);
  const one = outputs.find((o: any) => o.key === `${RUN_ID}/part-7/f1237.csv`);
  expect(one.sha256).toBe(createHash('sha256').update('id\n1237\n').digest('hex'));
  expect(readFileSync(join(run.out, RUN_ID, 'part-7', 'f1237.csv'), 'utf8')).toBe('id\n1237\n');
  expect(filesUnder(run.out)).toHaveLength(10_001);
});

test('TRANSFORM=command with TRANSFORM_COMMAND as the image sets it; an invalid TRANSFORM_COMMAND is bad input', async () => {
  const dir = temp.make();
  writeFileSync(join(dir, 'in.csv'), INPUT);
  const env = { TRANSFORM: 'command', TRANSFORM_COMMAND: JSON.stringify(['sh', '-c', 'cp "$MLOPS_INPUT_FILE" "$MLOPS_OUTPUT_DIR/same.csv"']) };
  const ok = await main(['--input', join(dir, 'in.csv'), '--output', join(dir, 'out'), '--run-id', RUN_ID], env, { write: () => undefined });
  expect(ok).toBe(0);
  expect(readFileSync(join(dir, 'out', RUN_ID, 'same.csv'), 'utf8')).toBe(INPUT);
  const lines: string[] = [];
  const bad = await main(['--input', join(dir, 'in.csv'), '--output', join(dir, 'out2')], { TRANSFORM: 'command', TRANSFORM_COMMAND: 'python3 x.py' }, {
    write: (l) => lines.push(l),
  });
  expect(bad).toBe(2);
  expect(lines.join('')).toMatch(/TRANSFORM_COMMAND, a JSON array of strings/);
});
