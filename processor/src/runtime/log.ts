/**
 * Step logging in the walkthrough's style ("Downloading s3://...", "Dataset loaded: (rows, cols)",
 * "Saved: ...", "Preprocessing completed successfully!"), as text lines or JSON lines, all on one
 * stream (stderr by default, so stdout stays free).
 *
 * JSON lines (LOG_FORMAT=json, what the construct sets in the cluster) carry the context of the
 * logger they came from (Logger.withContext): the run id, and in queue mode the message id and the
 * object key, so a line found in CloudWatch names its run. Text lines stay the walkthrough's
 * short lines; control characters in them (an object key may hold a line break) are escaped, so
 * no value can start a line of its own.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** Structured values attached to a log line (shown as key=value in text format). */
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /**
   * A logger whose JSON lines also carry `fields` (added to this logger's, later values
   * winning): `{ runId }` for a run, `{ messageId, key }` for an object of a message.
   */
  withContext(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Where lines go; defaults to process.stderr. */
  readonly write?: (line: string) => void;
  /** Clock for timestamps (tests pin it). */
  readonly now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const format = options.format ?? 'text';
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, message: string, fields: LogFields | undefined, context: LogFields | undefined): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const time = now().toISOString();
    if (format === 'json') {
      // JSON.stringify escapes control characters itself.
      write(JSON.stringify({ time, level, message, ...context, ...fields }) + '\n');
      return;
    }
    const extra = fields
      ? Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ` ${k}=${escapeControlCharacters(String(v))}`)
        .join('')
      : '';
    write(`${time} ${level.toUpperCase().padEnd(5)} ${escapeControlCharacters(message)}${extra}\n`);
  };
  return loggerWith(emit, undefined);
}

type Emit = (level: LogLevel, message: string, fields: LogFields | undefined, context: LogFields | undefined) => void;

function loggerWith(emit: Emit, context: LogFields | undefined): Logger {
  return {
    debug: (m, f) => emit('debug', m, f, context),
    info: (m, f) => emit('info', m, f, context),
    warn: (m, f) => emit('warn', m, f, context),
    error: (m, f) => emit('error', m, f, context),
    withContext: (fields) => loggerWith(emit, { ...context, ...fields }),
  };
}

/** C0 and C1 control characters, DEL, and the Unicode line and paragraph separators. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `a\nERROR x` → `a\\nERROR x`: a text log line stays one line whatever a key or message holds. */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) => NAMED_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A logger that drops everything (library use without logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  withContext: () => silentLogger,
};

/**
 * Logs rows and rows/s while a pass runs, at most every `intervalMs`, as ranges of rows are
 * taken.
 */
export class ProgressReporter {
  private rows = 0;
  private readonly startedAt = Date.now();
  private lastLogAt = this.startedAt;

  constructor(private readonly log: Logger, private readonly label: string, private readonly intervalMs = 2000) {}

  /** Counts `rows` more (a range of rows). */
  add(rows: number): void {
    this.rows += rows;
    const now = Date.now();
    if (now - this.lastLogAt < this.intervalMs) return;
    this.lastLogAt = now;
    this.log.info(`${this.label}: ${this.rows.toLocaleString('en-US')} rows`, { rowsPerSecond: this.rate(now) });
  }

  /** Rows per second since the start. */
  rate(now = Date.now()): number {
    return Math.round((this.rows * 1000) / Math.max(1, now - this.startedAt));
  }

  get count(): number {
    return this.rows;
  }
}
