/**
 * A program's stdout and stderr as log lines. Bytes are decoded as UTF-8 (invalid sequences
 * replaced), split at line breaks; a line longer than MAX_LINE_CHARACTERS is split into pieces
 * marked `partial` instead of being dropped or held whole in memory. The logger escapes control
 * characters (JSON by its encoder, text by escapeControlCharacters).
 */
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../../runtime/log';

/** 64 KiB, as the launcher (processor/launcher/PROTOCOL.md). */
export const MAX_LINE_CHARACTERS = 64 * 1024;
/** The last stderr lines kept for the run's error report, each cut at 1 KiB. */
export const STDERR_TAIL_LINES = 20;
export const STDERR_TAIL_LINE_CHARACTERS = 1024;

export type StreamName = 'stdout' | 'stderr';

/** Splits one stream's bytes into lines and hands each (or each piece of a long one) to `emit`. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly emit: (line: string, partial: boolean) => void) {}

  write(chunk: Buffer): void {
    this.take(this.decoder.write(chunk));
  }

  /** The last line, if it had no line break. */
  end(): void {
    this.take(this.decoder.end());
    if (this.pending !== '') this.emit(this.pending, false);
    this.pending = '';
  }

  private take(text: string): void {
    let rest = this.pending + text;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
      this.emitLine(rest.slice(0, nl).replace(/\r$/, ''));
      rest = rest.slice(nl + 1);
    }
    while (rest.length > MAX_LINE_CHARACTERS) {
      this.emit(rest.slice(0, MAX_LINE_CHARACTERS), true);
      rest = rest.slice(MAX_LINE_CHARACTERS);
    }
    this.pending = rest;
  }

  private emitLine(line: string): void {
    let rest = line;
    while (rest.length > MAX_LINE_CHARACTERS) {
      this.emit(rest.slice(0, MAX_LINE_CHARACTERS), true);
      rest = rest.slice(MAX_LINE_CHARACTERS);
    }
    this.emit(rest, false);
  }
}

/** The program's output as the runtime's log lines, and the last stderr lines for a report. */
export class ProgramOutput {
  readonly stderrTail: string[] = [];
  readonly stdout: LineSplitter;
  readonly stderr: LineSplitter;

  constructor(log: Logger) {
    this.stdout = new LineSplitter((line, partial) => log.info(line, { stream: 'stdout', ...(partial ? { partial } : {}) }));
    this.stderr = new LineSplitter((line, partial) => {
      log.warn(line, { stream: 'stderr', ...(partial ? { partial } : {}) });
      this.stderrTail.push(line.slice(0, STDERR_TAIL_LINE_CHARACTERS));
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    });
  }
}
