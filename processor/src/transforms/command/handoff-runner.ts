/**
 * The runtime's end of the handoff to the launcher in the user's container
 * (processor/launcher/PROTOCOL.md): it waits for `launcher.json`, keeps `heartbeat` fresh, writes
 * `request-<n>.json` for each input and waits for `result-<n>.json`, and writes `shutdown.json`
 * with its exit code when it is done. Every file is written as `<name>.tmp`, then renamed.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProgramRequest, ProgramResult, ProgramRunner } from './runner';
import { RunAbortedError } from '../../runtime/errors';
import type { LogFormat } from '../../runtime/log';

export const POLL_INTERVAL_MS = 100;
export const HEARTBEAT_INTERVAL_MS = 5000;
/** How long the runtime waits for the launcher to start (image pulls): TRANSFORM_LAUNCHER_START_TIMEOUT. */
export const DEFAULT_LAUNCHER_START_TIMEOUT_SECONDS = 600;

export interface HandoffOptions {
  readonly dir: string;
  readonly logFormat: LogFormat;
  readonly startTimeoutMs?: number;
}

export class HandoffProgramRunner implements ProgramRunner {
  private requests = 0;
  private started = false;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: HandoffOptions) {}

  async run(request: ProgramRequest): Promise<ProgramResult> {
    await this.waitForLauncher(request);
    const n = ++this.requests;
    await this.write(`request-${n}.json`, { n, runId: request.runId, env: request.env, logFormat: this.options.logFormat });
    request.log.info(`Handed input ${n} to the launcher in the transform container`, { handoff: `request-${n}.json` });
    for (;;) {
      const result = await this.readJson(`result-${n}.json`);
      if (result !== undefined) return parseResult(result, n);
      await this.pause(request.signal);
    }
  }

  async shutdown(exitCode: number): Promise<void> {
    clearInterval(this.heartbeat);
    await this.write('shutdown.json', { exitCode });
  }

  private async waitForLauncher(request: ProgramRequest): Promise<void> {
    if (this.started) return;
    this.startHeartbeat();
    const timeoutMs = this.options.startTimeoutMs ?? DEFAULT_LAUNCHER_START_TIMEOUT_SECONDS * 1000;
    const deadline = Date.now() + timeoutMs;
    while (await this.readJson('launcher.json') === undefined) {
      if (Date.now() >= deadline) {
        throw new Error(`the launcher in the 'transform' container did not start within ${timeoutMs / 1000} s (no launcher.json in ${this.options.dir}): `
          + 'check that container\'s image pull and events');
      }
      await this.pause(request.signal);
    }
    this.started = true;
  }

  private startHeartbeat(): void {
    const beat = (): void => {
      this.writeText('heartbeat', new Date().toISOString()).catch(() => undefined);
    };
    beat();
    this.heartbeat = setInterval(beat, HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref();
  }

  private async pause(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw new RunAbortedError();
    await sleep(POLL_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
    if (signal?.aborted) throw new RunAbortedError();
  }

  private async readJson(name: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(join(this.options.dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return JSON.parse(text) as unknown;
  }

  private write(name: string, value: unknown): Promise<void> {
    return this.writeText(name, JSON.stringify(value) + '\n');
  }

  private async writeText(name: string, text: string): Promise<void> {
    const path = join(this.options.dir, name);
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path);
  }
}

function parseResult(value: unknown, n: number): ProgramResult {
  const r = value as Partial<Record<keyof ProgramResult | 'n', unknown>>;
  if (typeof r !== 'object' || r === null || r.n !== n) throw new Error(`result-${n}.json from the launcher is not a result of request ${n}`);
  return {
    exitCode: typeof r.exitCode === 'number' ? r.exitCode : null,
    signal: typeof r.signal === 'string' ? r.signal : null,
    stderrTail: Array.isArray(r.stderrTail) ? r.stderrTail.map(String) : [],
    ...(typeof r.error === 'string' ? { error: r.error } : {}),
  };
}
