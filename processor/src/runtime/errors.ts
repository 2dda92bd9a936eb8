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

/**
 * The object version an S3 event named is gone: a newer upload replaced it in an unversioned
 * bucket (412 on the event's ETag), the version was deleted (NoSuchVersion), or the key was
 * deleted since (NoSuchKey, a delete marker). Neither a success nor bad input: queue mode reports
 * it, deletes the message and exits 0 (the newer upload has an event of its own).
 */
export class SupersededInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SupersededInputError';
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

/**
 * The name, message and code of anything thrown. Errors from Node's own modules may come from
 * another realm (a test sandbox), where `instanceof Error` is false, so this reads properties.
 */
export function errorFields(error: unknown): { name: string; message: string; code?: string } {
  if (typeof error === 'object' && error !== null) {
    const e = error as { name?: unknown; message?: unknown; code?: unknown };
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : String(error),
      ...(typeof e.code === 'string' ? { code: e.code } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}

/** A short, single-line description of an error for logs. */
export function describeError(error: unknown): string {
  const { name, message } = errorFields(error);
  return message || name;
}
