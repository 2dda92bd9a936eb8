/**
 * A stand-in for the Go launcher (processor/launcher/), for unit tests of the runtime's end of the
 * handoff only: it follows processor/launcher/PROTOCOL.md's files (launcher.json, request-<n>.json,
 * result-<n>.json, shutdown.json) and runs the program with the request's environment. The real
 * launcher is proven by its own CI stage.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FakeLauncher {
  /** The exit code shutdown.json gave it. */
  readonly exited: Promise<number>;
  /** The requests it was handed. */
  readonly requests: Array<Record<string, any>>;
  /** Whether the runtime's heartbeat file was there when the first request came. */
  heartbeatSeen: boolean;
}

function writeAtomically(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(value));
  renameSync(`${path}.tmp`, path);
}

function runProgram(command: readonly string[], env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', () => resolve({ exitCode: 127, signal: null, stderrTail: [], error: `the command '${command[0]}' was not found` }));
    child.once('close', (exitCode, signal) => resolve({ exitCode, signal, stderrTail: stderr.split('\n').filter((l) => l !== '').slice(-20) }));
  });
}

export function startFakeLauncher(dir: string, command: readonly string[]): FakeLauncher {
  const launcher: FakeLauncher = { requests: [], heartbeatSeen: false, exited: undefined as unknown as Promise<number> };
  const loop = async (): Promise<number> => {
    writeAtomically(join(dir, 'launcher.json'), { pid: process.pid, startedAt: new Date().toISOString() });
    for (let n = 1; ; await sleep(50)) {
      const request = join(dir, `request-${n}.json`);
      if (existsSync(request)) {
        const body = JSON.parse(readFileSync(request, 'utf8'));
        launcher.requests.push(body);
        launcher.heartbeatSeen ||= existsSync(join(dir, 'heartbeat'));
        writeAtomically(join(dir, `result-${n}.json`), { n, ...await runProgram(command, body.env) });
        n++;
        continue;
      }
      const shutdown = join(dir, 'shutdown.json');
      if (existsSync(shutdown)) return JSON.parse(readFileSync(shutdown, 'utf8')).exitCode;
    }
  };
  (launcher as { exited: Promise<number> }).exited = loop();
  return launcher;
}
