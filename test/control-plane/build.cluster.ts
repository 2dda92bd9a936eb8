import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, runWithDeadline } from './cluster';

/**
 * The scripts' own failure paths: a hung command fails instead of blocking the run until CI's
 * limit, and build.sh leaves no build running behind it when it fails.
 */

test('a command past its deadline is killed and the call throws, naming it (every kubectl and handler run goes through this)', () => {
  expect(() => runWithDeadline('sleep', ['30'], 500)).toThrow(/^sleep 30 timed out after 0\.5 s$/);
  expect(runWithDeadline('sh', ['-c', 'cat; exit 3'], 10_000, { input: 'in' })).toEqual({ status: 3, stdout: 'in', stderr: '' });
});

test('build.sh: a failed foreground build stops the background KEDA build (its whole process group)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'build-sh-'));
  try {
    // A `go` stand-in: the KEDA build records its pid and hangs; the others wait until it runs, then fail.
    const pidFile = join(dir, 'keda.pid');
    writeFileSync(join(dir, 'go'), [
      '#!/usr/bin/env bash',
      `if [ "$(basename "$PWD")" = keda ]; then echo $$ > '${pidFile}'; exec sleep 300; fi`,
      `for _ in $(seq 100); do [ -s '${pidFile}' ] && break; sleep 0.1; done`,
      'echo "go build failed" >&2; exit 1',
    ].join('\n'));
    chmodSync(join(dir, 'go'), 0o755);
    const result = runWithDeadline('bash', [join(__dirname, 'build.sh')], 60_000, {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, CONTROL_PLANE_CACHE: join(dir, 'cache') },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('go build failed');
    expect(existsSync(pidFile)).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await eventually(`the background build (pid ${pid}) to be gone`, () => (alive(pid) ? undefined : true), 10_000, 100);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
}
