/**
 * Runs the program as a child of the runtime (no launcher: `npm run preprocess -- … -- <program>`).
 * It gets its own process group, so SIGTERM reaches a shell script's children too: the run's abort
 * signal sends SIGTERM, and SIGKILL follows after the grace period; if the runtime exits first (a
 * second SIGTERM), the group is killed on the way out.
 */
import { spawn } from 'node:child_process';
import { ProgramOutput } from './lines';
import type { ProgramRequest, ProgramResult, ProgramRunner } from './runner';

/** Seconds between the SIGTERM a program gets and the SIGKILL that follows if it is still running. */
export const DEFAULT_KILL_GRACE_SECONDS = 10;

export class LocalProgramRunner implements ProgramRunner {
  constructor(private readonly command: readonly string[], private readonly killGraceMs = DEFAULT_KILL_GRACE_SECONDS * 1000) {}

  run(request: ProgramRequest): Promise<ProgramResult> {
    const output = new ProgramOutput(request.log);
    const [program, ...args] = this.command;
    return new Promise((resolve) => {
      const child = spawn(program, args, {
        env: { ...process.env, ...request.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let killTimer: NodeJS.Timeout | undefined;
      const signalGroup = (signal: NodeJS.Signals): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // Already gone.
        }
      };
      const killOnExit = (): void => signalGroup('SIGKILL');
      const terminate = (): void => {
        request.log.warn(`Stopping the transform program: SIGTERM, then SIGKILL after ${this.killGraceMs / 1000} s`);
        signalGroup('SIGTERM');
        killTimer = setTimeout(() => signalGroup('SIGKILL'), this.killGraceMs);
      };
      let settled = false;
      const finish = (result: ProgramResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(killTimer);
        request.signal?.removeEventListener('abort', terminate);
        process.removeListener('exit', killOnExit);
        resolve(result);
      };
      child.once('error', (error: NodeJS.ErrnoException) => {
        const notExecutable = error.code === 'EACCES';
        finish({
          exitCode: notExecutable ? 126 : 127,
          signal: null,
          stderrTail: output.stderrTail,
          error: notExecutable
            ? `the transform command '${program}' is not executable`
            : `the transform command '${program}' was not found (${error.code ?? error.message})`,
        });
      });
      if (request.signal?.aborted) terminate();
      else request.signal?.addEventListener('abort', terminate, { once: true });
      process.once('exit', killOnExit);
      child.stdout.on('data', (chunk: Buffer) => output.stdout.write(chunk));
      child.stderr.on('data', (chunk: Buffer) => output.stderr.write(chunk));
      child.once('close', (code, signal) => {
        output.stdout.end();
        output.stderr.end();
        finish({ exitCode: code, signal, stderrTail: output.stderrTail });
      });
    });
  }

  async shutdown(): Promise<void> {
    // Nothing outlives a run here.
  }
}
