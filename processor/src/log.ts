/**
 * Step logging in the walkthrough's style ("Downloading s3://...", "Dataset loaded: (rows, cols)",
 * "Saved: ...", "Preprocessing completed successfully!"), as text lines or JSON lines, all on one
 * stream (stderr by default, so stdout stays free).
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
  const log = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const time = now().toISOString();
    if (format === 'json') {
      write(JSON.stringify({ time, level, message, ...fields }) + '\n');
      return;
    }
    const extra = fields
      ? Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ` ${k}=${v}`)
        .join('')
      : '';
    write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra}\n`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

/** A logger that drops everything (library use without logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
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
