/** Exit codes of the processor (SPEC §5). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;
/** 128 + SIGTERM, the conventional status of a process stopped by SIGTERM. */
export const EXIT_TERMINATED = 143;

/**
 * The input cannot be processed as given: missing or unreadable file or object, empty file, not
 * CSV, a required column missing, or invalid arguments. Retrying will not help; exit code 2.
 */
export class BadInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BadInputError';
  }
}

/** The run was stopped from outside (SIGTERM or an aborted signal) before it finished. */
export class RunAbortedError extends Error {
  constructor(message = 'the run was aborted before it finished') {
    super(message);
    this.name = 'RunAbortedError';
  }
}

/** Maps an error from {@link runPipeline} to the process exit code. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof BadInputError) return EXIT_BAD_INPUT;
  if (error instanceof RunAbortedError) return EXIT_TERMINATED;
  return EXIT_FAILURE;
}

/** True for an abort raised by an AbortSignal (DOM AbortError or our own). */
export function isAbortError(error: unknown): boolean {
  return error instanceof RunAbortedError || (error instanceof Error && error.name === 'AbortError');
}

/** A short, single-line description of an error for logs. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
