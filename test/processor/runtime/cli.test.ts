import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../processor/src/runtime/cli';
import { DEFAULT_RECEIVE_WAIT_SECONDS, DEFAULT_VISIBILITY_TIMEOUT_SECONDS, USAGE, parseConfig } from '../../../processor/src/runtime/config';
import { HEADER, RUN_ID, TempDirs } from '../helpers';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const GOOD_ROWS = `${HEADER}\n1,A,30,50000,2020-01-01,,IT,1\n2,B,,60000,2020-01-02,,,\n`;

interface CliRun {
  code: number;
  log: string;
  /** Files left in the output directory. */
  outputs: string[];
}

async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, signal?: AbortSignal): Promise<CliRun> {
  const lines: string[] = [];
  const code = await main(args, { SCRATCH_DIR: temp.make('cli-scratch-'), ...env }, { write: (line) => lines.push(line), signal });
  const outputIndex = args.indexOf('--output');
  const outputs = outputIndex >= 0 ? listDir(args[outputIndex + 1]) : [];
  return { code, log: lines.join(''), outputs };
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function inputFile(content: string | Buffer): string {
  const path = join(temp.make(), 'input.csv');
  writeFileSync(path, content);
  return path;
}

describe('exit code 0', () => {
  test('a good input: outputs and manifest, with the walkthrough\'s step lines in the log', async () => {
    const out = temp.make();
    const run = await runCli(['--input', inputFile(GOOD_ROWS), '--output', out, '--run-id', RUN_ID]);
    expect(run.code).toBe(0);
    expect(run.outputs).toContain(`manifest_${RUN_ID}.json`);
    const steps = [
      'Dataset loaded: (2, 8)',
      'Filling missing values...',
      'Extracting profile fields...',
      `Saved: cleaned_data_${RUN_ID}.csv`,
      `Saved: transformed_data_${RUN_ID}.csv`,
      'Preprocessing completed successfully!',
    ];
    const positions = steps.map((step) => run.log.indexOf(step));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  test('LOG_FORMAT=json writes one JSON object per line', async () => {
    const run = await runCli(['--input', inputFile(GOOD_ROWS), '--output', temp.make()], { LOG_FORMAT: 'json' });
    expect(run.code).toBe(0);
    const lines = run.log.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => l.message)).toContain('Dataset loaded: (2, 8)');
    expect(lines.every((l) => typeof l.time === 'string' && l.level === 'info')).toBe(true);
  });

  test('in JSON format every line names the run, the last one included', async () => {
    const run = await runCli(['--input', inputFile(GOOD_ROWS), '--output', temp.make(), '--run-id', RUN_ID], { LOG_FORMAT: 'json' });
    const lines = run.log.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.filter((l) => l.runId !== RUN_ID)).toEqual([]);
    expect(lines[lines.length - 1].message).toBe('Preprocessing completed successfully!');
  });

  test('an input larger than SCRATCH_VOLUME_SIZE allows fails at once (exit 1), naming the volume and the scratchVolumeSize it needs', async () => {
    const scratch = temp.make('cli-scratch-');
    const out = temp.make();
    const run = await runCli(['--input', inputFile(GOOD_ROWS), '--output', out], { SCRATCH_DIR: scratch, SCRATCH_VOLUME_SIZE: '4Mi' });
    expect(run.code).toBe(1);
    expect(run.log).toMatch(new RegExp(`the scratch volume ${scratch} has 4\\.0 MiB free, .*: set scratchVolumeSize to at least '1Gi'`));
    expect(run.outputs).toEqual([]);
  });

  test('in text format control characters are escaped: a file name cannot forge a log line', async () => {
    const dir = temp.make();
    const path = join(dir, 'a\nERROR fake.csv');
    writeFileSync(path, GOOD_ROWS);
    const run = await runCli(['--input', path, '--output', temp.make(), '--run-id', RUN_ID]);
    expect(run.code).toBe(0);
    expect(run.log).toContain(`Reading ${dir}/a\\nERROR fake.csv`);
    // Every line is one of the logger's own: time, level, message.
    expect(run.log.trim().split('\n').filter((line) => !/^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO |WARN |ERROR) /.test(line))).toEqual([]);
    expect(run.log).not.toMatch(/^ERROR fake\.csv/m);
  });

  test('LOG_LEVEL=WARN hides the info lines', async () => {
    const run = await runCli(['--input', inputFile(GOOD_ROWS), '--output', temp.make()], { LOG_LEVEL: 'WARN' });
    expect(run.code).toBe(0);
    expect(run.log).toBe('');
  });

  test('--help prints the usage', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    expect(run.log).toMatch(/--input <file\|s3:\/\/bucket\/key> --output <dir\|s3:\/\/bucket\/prefix\/>/);
  });
});

describe('exit code 2: bad input, named in the message, and no manifest', () => {
  test.each<[string, string | Buffer | undefined, RegExp]>([
    ['a missing required column', 'id,name,age,salary,hire_date,department,bonus\n1,A,30,5,2020-01-01,IT,1\n', /missing required column\(s\) 'profile'/],
    ['two missing columns', 'id,name,hire_date,profile,department\n', /missing required column\(s\) 'age', 'salary', 'bonus'/],
    ['an empty file', '', /input is empty/],
    ['a file of blank lines', '\n\n\r\n', /no header line/],
    ['a binary file', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00, 0xfe]), /not UTF-8 text; expected a CSV file/],
    ['a repeated column', `${HEADER},age\n`, /repeats column 'age'/],
    ['an extra column named like an output column', `${HEADER},address_length\n`, /'address_length' collides/],
    ['an unterminated quote in the header', 'id,"name\n', /header is not valid CSV: field 2 has an unterminated quoted value/],
  ])('%s', async (_, content, message) => {
    const out = temp.make();
    const run = await runCli(['--input', inputFile(content!), '--output', out, '--run-id', RUN_ID]);
    expect(run.code).toBe(2);
    expect(run.log).toMatch(message);
    expect(run.outputs).toEqual([]);
  });

  test('no such file', async () => {
    const missing = join(temp.make(), 'missing.csv');
    const run = await runCli(['--input', missing, '--output', temp.make()]);
    expect(run.code).toBe(2);
    expect(run.log).toContain(`input file ${missing} does not exist`);
  });

  test('a directory instead of a file', async () => {
    const run = await runCli(['--input', temp.make(), '--output', temp.make()]);
    expect(run.code).toBe(2);
    expect(run.log).toMatch(/is a directory, not a CSV file/);
  });

  test.each<[string, string[], NodeJS.ProcessEnv, RegExp]>([
    ['an unknown flag', ['--inptu', 'x', '--output', 'y'], {}, /Unknown option '--inptu'/],
    ['no input at all', ['--output', 'y'], {}, /no input: pass --input or set INPUT_BUCKET/],
    ['no output at all', ['--input', 'x'], {}, /no output: pass --output or set OUTPUT_BUCKET/],
    ['an invalid LOG_LEVEL', ['--input', 'x', '--output', 'y'], { LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of debug, info, warn, error/],
    ['an invalid SCRATCH_VOLUME_SIZE', ['--input', 'x', '--output', 'y'], { SCRATCH_VOLUME_SIZE: '10GB' }, /SCRATCH_VOLUME_SIZE must be a Kubernetes quantity of bytes/],
    ['an invalid --na-values', ['--input', 'x', '--output', 'y', '--na-values', 'none'], {}, /--na-values must be one of default, empty \(got 'none'\)/],
    ['an invalid NA_VALUES', ['--input', 'x', '--output', 'y'], { NA_VALUES: 'pandas' }, /NA_VALUES must be one of default, empty/],
    ['an invalid --output-format', ['--input', 'x', '--output', 'y', '--output-format', 'orc'], {}, /--output-format must be one of csv, parquet, both \(got 'orc'\)/],
    ['an invalid OUTPUT_FORMAT', ['--input', 'x', '--output', 'y'], { OUTPUT_FORMAT: 'json' }, /OUTPUT_FORMAT must be one of csv, parquet, both/],
    ['an S3 input without a key', ['--input', 's3://bucket/', '--output', 'y'], {}, /names no object key/],
    ['--queue-url with --input', ['--queue-url', 'http://q', '--input', 'x', '--output', 'y'], {}, /--input and --queue-url exclude each other/],
    ['queue mode without an output', [], { QUEUE_URL: 'http://q' }, /no output: pass --output or set OUTPUT_BUCKET/],
    ['a receive wait SQS does not allow', ['--queue-url', 'http://q', '--output', 'y', '--wait-seconds', '30'], {},
      /--wait-seconds \/ RECEIVE_WAIT_SECONDS must be a whole number of seconds from 0 to 20 \(got '30'\)/],
    ['a visibility timeout of 0', ['--output', 'y'], { QUEUE_URL: 'http://q', VISIBILITY_TIMEOUT_SECONDS: '0' },
      /VISIBILITY_TIMEOUT_SECONDS must be a whole number of seconds from 1 to 43200/],
    ['an invalid run id in queue mode (checked before a message is taken)', ['--queue-url', 'http://q', '--output', 'y', '--run-id', '../x'], {},
      /run id '..\/x' is invalid/],
    ['--input-prefix without a queue', ['--input', 'x', '--output', 'y', '--input-prefix', 'data/'], {}, /--input-prefix applies only with --queue-url/],
    ['no threads', ['--input', 'x', '--output', 'y', '--threads', '0'], {}, /--threads must be a whole number from 1 to 64, or auto \(got '0'\)/],
    ['a fractional THREADS', ['--input', 'x', '--output', 'y'], { THREADS: '1.5' }, /THREADS must be a whole number from 1 to 64, or auto \(got '1.5'\)/],
  ])('invalid arguments: %s', async (_, args, env, message) => {
    const run = await runCli(args, env);
    expect(run.code).toBe(2);
    expect(run.log).toMatch(message);
  });
});

describe('missing values: --na-values / NA_VALUES', () => {
  const NA_ROW = `${HEADER}\n1,NA,30,50000,2020-01-01,,IT,1\n`;

  async function nameWritten(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    const out = temp.make();
    const run = await runCli(['--input', inputFile(NA_ROW), '--output', out, '--run-id', RUN_ID, ...args], env);
    expect(run.code).toBe(0);
    return readFileSync(join(out, `cleaned_data_${RUN_ID}.csv`), 'utf8').split('\n')[1].split(',')[1];
  }

  test('by default pandas\' tokens are missing values', async () => {
    expect(await nameWritten([], {})).toBe('');
  });

  test('NA_VALUES=empty and --na-values empty keep them as text; the flag wins over the variable', async () => {
    expect(await nameWritten([], { NA_VALUES: 'empty' })).toBe('NA');
    expect(await nameWritten(['--na-values', 'empty'], {})).toBe('NA');
    expect(await nameWritten(['--na-values', 'default'], { NA_VALUES: 'empty' })).toBe('');
  });
});

describe('output formats: --output-format / OUTPUT_FORMAT', () => {
  async function written(args: string[], env: NodeJS.ProcessEnv): Promise<string[]> {
    const out = temp.make();
    const run = await runCli(['--input', inputFile(GOOD_ROWS), '--output', out, '--run-id', RUN_ID, ...args], env);
    expect(run.code).toBe(0);
    return listDir(out).filter((f) => f === 'tables' || f.startsWith('cleaned_data'));
  }

  test('csv by default; OUTPUT_FORMAT=parquet and --output-format both write the tables; the flag wins over the variable', async () => {
    expect(await written([], {})).toEqual([`cleaned_data_${RUN_ID}.csv`]);
    expect(await written([], { OUTPUT_FORMAT: 'parquet' })).toEqual(['tables']);
    expect(await written(['--output-format', 'both'], {})).toEqual([`cleaned_data_${RUN_ID}.csv`, 'tables']);
    expect(await written(['--output-format', 'csv'], { OUTPUT_FORMAT: 'parquet' })).toEqual([`cleaned_data_${RUN_ID}.csv`]);
  });
});

describe('other failures', () => {
  test('exit code 1 when the outputs cannot be written, and no manifest', async () => {
    const parent = temp.make();
    const blocked = join(parent, 'not-a-directory');
    writeFileSync(blocked, 'a file where the output directory should be');
    const run = await runCli(['--input', inputFile(GOOD_ROWS), '--output', blocked]);
    expect(run.code).toBe(1);
    expect(run.log).toMatch(/Preprocessing failed: .*not-a-directory/);
    expect(listDir(parent)).toEqual(['not-a-directory']);
  });

  test('an abort during the run (SIGTERM) stops it with exit code 143, leaving no outputs', async () => {
    const out = temp.make();
    const controller = new AbortController();
    const lines: string[] = [];
    const rows = Array.from({ length: 20000 }, (_, i) => `${i},N,30,50000,2020-01-01,,IT,1`).join('\n');
    const code = await main(['--input', inputFile(`${HEADER}\n${rows}\n`), '--output', out], { SCRATCH_DIR: temp.make() }, {
      signal: controller.signal,
      write: (line) => {
        lines.push(line);
        if (line.includes('Extracting profile fields...')) controller.abort();
      },
    });
    expect(code).toBe(143);
    expect(lines.join('')).toMatch(/Stop requested/);
    expect(listDir(out)).toEqual([]);
  });

  test('the scratch directory is left empty after success and after failure', async () => {
    const scratch = temp.make();
    mkdirSync(join(scratch, 'keep'));
    await main(['--input', inputFile(GOOD_ROWS), '--output', temp.make()], { SCRATCH_DIR: scratch }, { write: () => undefined });
    await main(['--input', inputFile('nonsense'), '--output', temp.make()], { SCRATCH_DIR: scratch }, { write: () => undefined });
    expect(readdirSync(scratch)).toEqual(['keep']);
  });
});

describe('thread count', () => {
  test('--threads wins over THREADS; auto or nothing leaves the choice to the CPUs the container may use', () => {
    const base = ['--input', 'x', '--output', 'y'];
    expect(parseConfig([...base, '--threads', '3'], { THREADS: '2' }).threads).toBe(3);
    expect(parseConfig(base, { THREADS: '1' }).threads).toBe(1);
    expect(parseConfig(base, { THREADS: 'auto' }).threads).toBeUndefined();
    expect(parseConfig(base, {}).threads).toBeUndefined();
    expect(parseConfig(['--queue-url', 'http://q', '--output', 'y'], { THREADS: '4' }).threads).toBe(4);
  });

  test('the usage text documents it', () => {
    expect(USAGE).toMatch(/--threads N/);
    expect(USAGE).toMatch(/THREADS/);
  });
});

describe('queue mode selection', () => {
  test('QUEUE_URL selects queue mode; INPUT_KEY is not used there', () => {
    const config = parseConfig([], {
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/uploads',
      INPUT_BUCKET: 'raw',
      INPUT_KEY: 'data/ignored.csv',
      INPUT_PREFIX: 'data/',
      OUTPUT_BUCKET: 'processed',
      OUTPUT_PREFIX: 'output/',
    });
    expect(config).toMatchObject({
      input: '',
      output: 's3://processed/output/',
      queue: {
        queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/uploads',
        inputPrefix: 'data/',
        inputBucket: 'raw',
        waitSeconds: DEFAULT_RECEIVE_WAIT_SECONDS,
        visibilityTimeoutSeconds: DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
      },
    });
  });

  test('flags win over variables; without QUEUE_URL the single-input mode is unchanged', () => {
    const flags = ['--queue-url', 'http://q', '--output', 'out', '--input-prefix', 'in/', '--wait-seconds', '0', '--visibility-timeout', '60'];
    expect(parseConfig(flags, { INPUT_PREFIX: 'data/', RECEIVE_WAIT_SECONDS: '9' }).queue)
      .toEqual({ queueUrl: 'http://q', inputPrefix: 'in/', waitSeconds: 0, visibilityTimeoutSeconds: 60, retryBackoffSeconds: 30 });
    const single = parseConfig([], { INPUT_BUCKET: 'raw', OUTPUT_BUCKET: 'processed' });
    expect(single.input).toBe('s3://raw/data/mock_data.csv');
    expect(single.queue).toBeUndefined();
  });
});
