/** How a command transform's program is run: spawned here (local-runner.ts) or by the launcher (handoff-runner.ts). */
import type { Logger } from '../../runtime/log';

/** What the program gets for one input (SPEC §14): the MLOPS_* variables. */
export interface ProgramRequest {
  readonly runId: string;
  readonly env: Readonly<Record<string, string>>;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

/** How the program ended, as the launcher's result-<n>.json says it. */
export interface ProgramResult {
  /** Null when a signal ended it. */
  readonly exitCode: number | null;
  /** The signal's name (SIGKILL), or null. */
  readonly signal: string | null;
  /** Its last stderr lines. */
  readonly stderrTail: readonly string[];
  /** Why it could not be started (not found: exit code 127, not executable: 126). */
  readonly error?: string;
}

export interface ProgramRunner {
  run(request: ProgramRequest): Promise<ProgramResult>;
  /** Tells whoever runs the program that the runtime is done, with its exit code (the launcher exits with it). */
  shutdown(exitCode: number): Promise<void>;
}
