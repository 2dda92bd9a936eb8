/**
 * Command line and environment.
 *
 *   --input <file|s3://bucket/key> --output <dir|s3://bucket/prefix/> [--run-id ID] [--scratch-dir DIR]
 *   [--na-values default|empty] [--threads N] [--output-format csv|parquet|both]
 *   --queue-url <url> --output <dir|s3://bucket/prefix/> [--input-prefix PREFIX]   (queue mode)
 *
 * Without --input/--output the image's environment is used, as in the walkthrough:
 * INPUT_BUCKET + INPUT_KEY (default data/mock_data.csv), OUTPUT_BUCKET + OUTPUT_PREFIX (default
 * output/). QUEUE_URL (or --queue-url) selects queue mode, where INPUT_PREFIX and INPUT_BUCKET say
 * which objects are this workload's input and INPUT_KEY is not used. RUN_ID, SCRATCH_DIR,
 * NA_VALUES (default|empty), OUTPUT_FORMAT (csv|parquet|both), THREADS, LOG_LEVEL (debug|info|warn|error), LOG_FORMAT (text|json),
 * SCRATCH_VOLUME_SIZE (the scratch volume's size limit as a Kubernetes quantity, e.g. 10Gi), RECEIVE_WAIT_SECONDS and VISIBILITY_TIMEOUT_SECONDS are read from the environment; flags win
 * over variables.
 */
import { parseArgs } from 'node:util';
import { BadInputError } from './errors';
import { LOG_FORMATS, LOG_LEVELS, LogFormat, LogLevel } from './log';
import { NA_VALUES_MODES, NaValuesMode } from './transform';
import { OUTPUT_FORMATS, OutputFormat } from '../transforms/walkthrough/parquet/layout';

export const DEFAULT_INPUT_KEY = 'data/mock_data.csv';
export const DEFAULT_OUTPUT_PREFIX = 'output/';

/** Queue mode: how long a receive waits for a message (SQS long polling, at most 20 s). */
export const DEFAULT_RECEIVE_WAIT_SECONDS = 5;
/** Queue mode: how long the message stays invisible to other consumers, renewed while the run works. */
export const DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 300;
/**
 * Queue mode: after a failure that looks transient, the message comes back after this many
 * seconds × 2^(receiveCount − 1), at most RETRY_BACKOFF_MAX_SECONDS (and never later than the
 * visibility timeout would bring it back).
 */
export const DEFAULT_RETRY_BACKOFF_SECONDS = 30;
export const RETRY_BACKOFF_MAX_SECONDS = 900;

export const USAGE = `Usage: cdk-mlops-eks-preprocess --input <file|s3://bucket/key> --output <dir|s3://bucket/prefix/>
         [--run-id ID] [--scratch-dir DIR] [--na-values default|empty] [--threads N] [--output-format csv|parquet|both]
         [-- <program> [args...]]
       cdk-mlops-eks-preprocess --queue-url <url> --output <dir|s3://bucket/prefix/> [--input-prefix PREFIX]
         [--wait-seconds N] [--visibility-timeout N] [--scratch-dir DIR] [--na-values default|empty] [--threads N]
         [--output-format csv|parquet|both] [-- <program> [args...]]
With '-- <program> [args...]' (or TRANSFORM=command and TRANSFORM_COMMAND, a JSON array) the program
is the transform (SPEC §14: MLOPS_INPUT_FILE, MLOPS_OUTPUT_DIR, ...); TRANSFORM_HANDOFF_DIR hands
it to the launcher of another container; TRANSFORM_KILL_GRACE_SECONDS (default 10).
Without --input/--output: INPUT_BUCKET, INPUT_KEY (default ${DEFAULT_INPUT_KEY}), OUTPUT_BUCKET,
OUTPUT_PREFIX (default ${DEFAULT_OUTPUT_PREFIX}). Queue mode: QUEUE_URL, INPUT_PREFIX, INPUT_BUCKET,
RECEIVE_WAIT_SECONDS (default ${DEFAULT_RECEIVE_WAIT_SECONDS}), VISIBILITY_TIMEOUT_SECONDS (default ${DEFAULT_VISIBILITY_TIMEOUT_SECONDS}),
RETRY_BACKOFF_SECONDS (default ${DEFAULT_RETRY_BACKOFF_SECONDS}).
Also RUN_ID, SCRATCH_DIR, SCRATCH_VOLUME_SIZE, NA_VALUES, OUTPUT_FORMAT, THREADS, LOG_LEVEL, LOG_FORMAT.
--output-format/OUTPUT_FORMAT: 'csv' (default) the walkthrough's CSV files; 'parquet' cleaned_data,
transformed_data and department_statistics as Parquet tables under tables/<name>/run_date=<date>/
instead; 'both'.
--na-values: 'default' treats an empty cell and pandas' tokens (NA, null, NaN, None, N/A, ...) as
missing values; 'empty' only an empty cell.
--threads/THREADS: worker threads (1 = none, all on the main thread); default the CPUs the
container may use (its cgroup CPU limit, else the machine's CPUs).`;

/**
 * Flags for the node process that runs the CLI (the image's ENTRYPOINT, `npm run preprocess`,
 * the benchmark and the demo):
 * - `--max-semi-space-size=2`: V8 sizes the young generation by allocation throughput and lets it
 *   grow to tens of megabytes over a long run, so peak memory would grow with the input's size.
 *   Worker threads get the same limit through their resourceLimits.
 * - `--no-concurrent-recompilation`: each thread compiles its hot functions itself when they
 *   become hot, instead of queueing them for a compiler thread that competes with the worker
 *   threads for the CPUs a Job is given. A thread's first ranges then take about 45 ms instead
 *   of 55–75 ms, and a 2,000,000-row run on 2 CPUs about 3 % less (npm run bench).
 */
export const NODE_FLAGS = ['--max-semi-space-size=2', '--no-concurrent-recompilation'] as const;

/** Upper bound for --threads / THREADS (a typo like 1000 should not start a thousand threads). */
export const MAX_THREADS = 64;

/** An S3 object (or prefix, as `key`). */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

export function s3Uri(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

export type InputLocation = { readonly kind: 'local'; readonly path: string } | { readonly kind: 's3'; readonly bucket: string; readonly key: string };
export type OutputLocation = { readonly kind: 'local'; readonly dir: string } | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };

/** Queue mode: take one S3 event message from SQS and process the objects it names. */
export interface QueueConfig {
  readonly queueUrl: string;
  /** Keys under this prefix are the workload's input; outputs go to their path relative to it. */
  readonly inputPrefix: string;
  /** When set, objects in other buckets are rejected. */
  readonly inputBucket?: string;
  readonly waitSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  /** The first retry's delay after a transient failure; it doubles with every receive (DEFAULT_RETRY_BACKOFF_SECONDS). */
  readonly retryBackoffSeconds?: number;
}

export interface CliConfig {
  readonly help: boolean;
  /** The single input; empty in queue mode. */
  readonly input: string;
  readonly output: string;
  /** Set in queue mode. */
  readonly queue?: QueueConfig;
  readonly runId?: string;
  readonly scratchDir?: string;
  /** SCRATCH_VOLUME_SIZE in bytes: the scratch volume's limit where statfs cannot see it (an emptyDir's sizeLimit). */
  readonly scratchVolumeBytes?: number;
  readonly naValues: NaValuesMode;
  /** Which formats the tables are written in (SPEC §15). */
  readonly outputFormat: OutputFormat;
  /** Undefined: as many as the container's CPUs. */
  readonly threads?: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Set when a program is the transform (SPEC §14); else the built-in walkthrough transform. */
  readonly command?: CommandConfig;
}

/** The command transform's settings. */
export interface CommandConfig {
  /** The program and its arguments. */
  readonly argv: readonly string[];
  /** TRANSFORM_HANDOFF_DIR: the launcher in the transform container runs the program. */
  readonly handoffDir?: string;
  /** TRANSFORM_KILL_GRACE_SECONDS: from SIGTERM to SIGKILL of a program spawned here. */
  readonly killGraceSeconds?: number;
  /** TRANSFORM_LAUNCHER_START_TIMEOUT: seconds to wait for the launcher. */
  readonly launcherStartTimeoutSeconds?: number;
}

/** Reads flags and environment; BadInputError (exit 2) on anything invalid or missing. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv): CliConfig {
  const terminator = argv.indexOf('--');
  const flags = terminator < 0 ? argv : argv.slice(0, terminator);
  const command = parseCommand(terminator < 0 ? undefined : argv.slice(terminator + 1), env);
  const config = parseFlags(flags, env);
  return command === undefined || config.help ? config : { ...config, command };
}

/** The program after `--`, else TRANSFORM=command with TRANSFORM_COMMAND (a JSON array of strings). */
function parseCommand(program: readonly string[] | undefined, env: NodeJS.ProcessEnv): CommandConfig | undefined {
  const transform = (env.TRANSFORM ?? '').trim().toLowerCase();
  if (program === undefined && transform !== 'command') {
    if (transform !== '' && transform !== 'walkthrough') throw new BadInputError(`TRANSFORM must be walkthrough or command (got '${env.TRANSFORM}')`);
    return undefined;
  }
  let argv = program;
  if (argv === undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.TRANSFORM_COMMAND ?? '');
    } catch {
      throw new BadInputError(`TRANSFORM=command needs TRANSFORM_COMMAND, a JSON array of strings such as ["python3","clean.py"] (got '${env.TRANSFORM_COMMAND ?? ''}')`);
    }
    if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
      throw new BadInputError(`TRANSFORM_COMMAND must be a JSON array of strings (got '${env.TRANSFORM_COMMAND}')`);
    }
    argv = parsed as string[];
  }
  if (argv.length === 0 || argv[0] === '') throw new BadInputError(`no program after '--': pass -- <program> [args...]\n${USAGE}`);
  return {
    argv,
    ...(env.TRANSFORM_HANDOFF_DIR ? { handoffDir: env.TRANSFORM_HANDOFF_DIR } : {}),
    ...(env.TRANSFORM_KILL_GRACE_SECONDS ? { killGraceSeconds: wholeNumber('TRANSFORM_KILL_GRACE_SECONDS', env.TRANSFORM_KILL_GRACE_SECONDS, 0, 3600, 10) } : {}),
    ...(env.TRANSFORM_LAUNCHER_START_TIMEOUT
      ? { launcherStartTimeoutSeconds: wholeNumber('TRANSFORM_LAUNCHER_START_TIMEOUT', env.TRANSFORM_LAUNCHER_START_TIMEOUT, 1, 86_400, 600) }
      : {}),
  };
}

function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv): CliConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'input': { type: 'string' },
        'output': { type: 'string' },
        'run-id': { type: 'string' },
        'scratch-dir': { type: 'string' },
        'na-values': { type: 'string' },
        'output-format': { type: 'string' },
        'threads': { type: 'string' },
        'queue-url': { type: 'string' },
        'input-prefix': { type: 'string' },
        'wait-seconds': { type: 'string' },
        'visibility-timeout': { type: 'string' },
        'help': { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new BadInputError(`${(error as Error).message}\n${USAGE}`);
  }
  const logLevel = oneOf('LOG_LEVEL', env.LOG_LEVEL, LOG_LEVELS, 'info', { warning: 'warn' });
  const logFormat = oneOf('LOG_FORMAT', env.LOG_FORMAT, LOG_FORMATS, 'text');
  const naValues = values['na-values'] !== undefined
    ? oneOf('--na-values', values['na-values'], NA_VALUES_MODES, 'default')
    : oneOf('NA_VALUES', env.NA_VALUES, NA_VALUES_MODES, 'default');
  const outputFormat = values['output-format'] !== undefined
    ? oneOf('--output-format', values['output-format'], OUTPUT_FORMATS, 'csv')
    : oneOf('OUTPUT_FORMAT', env.OUTPUT_FORMAT, OUTPUT_FORMATS, 'csv');
  if (values.help) return { help: true, input: '', output: '', naValues, outputFormat, logLevel, logFormat };

  const common = {
    help: false,
    runId: values['run-id'] ?? (env.RUN_ID || undefined),
    scratchDir: values['scratch-dir'] ?? (env.SCRATCH_DIR || undefined),
    scratchVolumeBytes: parseByteQuantity('SCRATCH_VOLUME_SIZE', env.SCRATCH_VOLUME_SIZE),
    naValues,
    outputFormat,
    threads: parseThreads(values.threads !== undefined ? '--threads' : 'THREADS', values.threads ?? env.THREADS),
    logLevel,
    logFormat,
  };
  const output = values.output ?? (env.OUTPUT_BUCKET ? `s3://${env.OUTPUT_BUCKET}/${env.OUTPUT_PREFIX ?? DEFAULT_OUTPUT_PREFIX}` : undefined);
  const queueUrl = values['queue-url'] ?? (env.QUEUE_URL || undefined);
  if (queueUrl !== undefined) {
    if (values.input !== undefined) throw new BadInputError(`--input and --queue-url exclude each other: queue mode reads its inputs from the messages\n${USAGE}`);
    if (!output) throw new BadInputError(`no output: pass --output or set OUTPUT_BUCKET\n${USAGE}`);
    const queue: QueueConfig = {
      queueUrl,
      inputPrefix: values['input-prefix'] ?? env.INPUT_PREFIX ?? '',
      ...(env.INPUT_BUCKET ? { inputBucket: env.INPUT_BUCKET } : {}),
      waitSeconds: wholeNumber('--wait-seconds / RECEIVE_WAIT_SECONDS', values['wait-seconds'] ?? env.RECEIVE_WAIT_SECONDS, 0, 20, DEFAULT_RECEIVE_WAIT_SECONDS),
      visibilityTimeoutSeconds: wholeNumber('--visibility-timeout / VISIBILITY_TIMEOUT_SECONDS', values['visibility-timeout'] ?? env.VISIBILITY_TIMEOUT_SECONDS,
        1, 43_200, DEFAULT_VISIBILITY_TIMEOUT_SECONDS),
      retryBackoffSeconds: wholeNumber('RETRY_BACKOFF_SECONDS', env.RETRY_BACKOFF_SECONDS, 0, RETRY_BACKOFF_MAX_SECONDS, DEFAULT_RETRY_BACKOFF_SECONDS),
    };
    if (common.runId !== undefined) validateRunId(common.runId);
    return { ...common, input: '', output, queue };
  }
  for (const flag of ['input-prefix', 'wait-seconds', 'visibility-timeout'] as const) {
    if (values[flag] !== undefined) throw new BadInputError(`--${flag} applies only with --queue-url\n${USAGE}`);
  }

  const input = values.input ?? (env.INPUT_BUCKET ? `s3://${env.INPUT_BUCKET}/${env.INPUT_KEY || DEFAULT_INPUT_KEY}` : undefined);
  if (!input) throw new BadInputError(`no input: pass --input or set INPUT_BUCKET\n${USAGE}`);
  if (!output) throw new BadInputError(`no output: pass --output or set OUTPUT_BUCKET\n${USAGE}`);
  return { ...common, input, output };
}

/** A whole number of seconds in [min, max] from a flag or variable; the fallback when unset. */
function wholeNumber(name: string, raw: string | undefined, min: number, max: number, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BadInputError(`${name} must be a whole number of seconds from ${min} to ${max} (got '${raw}')`);
  }
  return value;
}

const BYTE_QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const BYTE_MULTIPLIERS: Record<string, number> = {
  '': 1,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 2 ** 10,
  'Mi': 2 ** 20,
  'Gi': 2 ** 30,
  'Ti': 2 ** 40,
  'Pi': 2 ** 50,
  'Ei': 2 ** 60,
};

/** A Kubernetes quantity of bytes (`10Gi`, `500M`, `1048576`), or undefined when unset. */
function parseByteQuantity(name: string, raw: string | undefined): number | undefined {
  const text = raw?.trim() ?? '';
  if (text === '') return undefined;
  const match = BYTE_QUANTITY.exec(text);
  if (!match) throw new BadInputError(`${name} must be a Kubernetes quantity of bytes such as 10Gi or 500M (got '${raw}')`);
  return Math.floor(Number(match[1]) * BYTE_MULTIPLIERS[match[2] ?? '']);
}

/** A thread count, or undefined for the default (`auto` or unset). */
function parseThreads(name: string, raw: string | undefined): number | undefined {
  const text = raw?.trim() ?? '';
  if (text === '' || text.toLowerCase() === 'auto') return undefined;
  const threads = Number(text);
  if (!/^\d+$/.test(text) || threads < 1 || threads > MAX_THREADS) {
    throw new BadInputError(`${name} must be a whole number from 1 to ${MAX_THREADS}, or auto (got '${raw}')`);
  }
  return threads;
}

function oneOf<T extends string>(
  name: string,
  raw: string | undefined,
  allowed: readonly T[],
  fallback: T,
  aliases: Record<string, T> = {},
): T {
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim().toLowerCase();
  const match = allowed.find((a) => a === value) ?? aliases[value];
  if (match === undefined) throw new BadInputError(`${name} must be one of ${allowed.join(', ')} (got '${raw}')`);
  return match;
}

// `s`: a key may hold line breaks.
const S3_URI = /^s3:\/\/([^/]+)(?:\/(.*))?$/s;

/** `s3://bucket/key` or a local path. */
export function parseInputLocation(text: string): InputLocation {
  const match = S3_URI.exec(text);
  if (!match) return { kind: 'local', path: text };
  const key = match[2] ?? '';
  if (key === '' || key.endsWith('/')) throw new BadInputError(`input ${text} names no object key; expected s3://bucket/key`);
  return { kind: 's3', bucket: match[1], key };
}

/** `s3://bucket/prefix/` (prefix may be empty; a missing trailing slash is added) or a local directory. */
export function parseOutputLocation(text: string): OutputLocation {
  const match = S3_URI.exec(text);
  if (!match) return { kind: 'local', dir: text };
  const prefix = (match[2] ?? '').replace(/^\/+/, '');
  return { kind: 's3', bucket: match[1], prefix: prefix === '' || prefix.endsWith('/') ? prefix : prefix + '/' };
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const RUN_ID_TIME = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/;

/** The default run id: the UTC start time as YYYYMMDD-HHMMSS. */
export function runIdFor(start: Date): string {
  const iso = start.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** Run ids become part of file names and S3 keys: letters, digits, `.`, `_`, `-`. */
export function validateRunId(runId: string): string {
  if (!RUN_ID.test(runId)) {
    throw new BadInputError(`run id '${runId}' is invalid: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return runId;
}

/**
 * The time a run id names, for run ids that start with YYYYMMDD-HHMMSS (every default one), as
 * ISO 8601 UTC; undefined for other run ids.
 */
export function timeOfRunId(runId: string): string | undefined {
  const m = RUN_ID_TIME.exec(runId);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Reject impossible dates such as 20241332-250000 instead of letting Date roll them over.
  if (runIdFor(time) !== m[0]) return undefined;
  return isoSeconds(time);
}

/** ISO 8601 UTC to the second: 2024-12-21T22:49:04Z. */
export function isoSeconds(time: Date): string {
  return time.toISOString().slice(0, 19) + 'Z';
}
