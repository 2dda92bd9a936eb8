// Plays the runtime container's side of the launcher protocol (processor/launcher/PROTOCOL.md)
// from outside a chroot, for test/launcher/rootfs.sh:
//   node driver.mjs <handoff dir> <scratch dir> <launcher log> <scenario: program|missing> <shutdown code> <launcher pid>
// The scratch dir is mounted at /opt/ml/processing/data inside the root. Asserts each result and
// exits non-zero on the first mismatch.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const [handoff, scratch, launcherLog, scenario, shutdownCode, launcherPid] = process.argv.slice(2);
const INSIDE = '/opt/ml/processing/data';
// As in the pod, the runtime and the program are both uid 1000 (the scratch dir is theirs).
if (process.getuid() === 0) {
  process.setgid(1000);
  process.setuid(1000);
}

function writeAtomically(name, value) {
  writeFileSync(join(handoff, `${name}.tmp`), value);
  renameSync(join(handoff, `${name}.tmp`), join(handoff, name));
}

async function waitFor(name, seconds = 60) {
  for (let i = 0; i < seconds * 10; i++) {
    if (existsSync(join(handoff, name))) return JSON.parse(readFileSync(join(handoff, name), 'utf8'));
    await sleep(100);
    try {
      process.kill(Number(launcherPid), 0);
    } catch {
      throw new Error(`the launcher exited before ${name} appeared`);
    }
  }
  throw new Error(`${name} never appeared in ${handoff}`);
}

const beat = () => writeAtomically('heartbeat', new Date().toISOString());
beat();
const heartbeat = setInterval(beat, 1000);

/** Stages `content` as request n's input and returns the result and the output dir (outside). */
async function run(n, content) {
  const runId = `run-${n}`;
  mkdirSync(join(scratch, runId, 'output'), { recursive: true });
  writeFileSync(join(scratch, runId, 'input.csv'), content);
  writeAtomically(`request-${n}.json`, JSON.stringify({
    n,
    runId,
    logFormat: 'json',
    env: {
      MLOPS_INPUT_FILE: `${INSIDE}/${runId}/input.csv`,
      MLOPS_OUTPUT_DIR: `${INSIDE}/${runId}/output`,
      MLOPS_RUN_ID: runId,
      MLOPS_SCRATCH_DIR: `${INSIDE}/${runId}`,
      MLOPS_INPUT_URI: `s3://bucket/${runId}.csv`,
      MLOPS_METRICS_FILE: `${INSIDE}/${runId}/metrics.json`,
    },
  }));
  return { result: await waitFor(`result-${n}.json`), output: join(scratch, runId, 'output') };
}

try {
  const started = await waitFor('launcher.json', 120);
  assert.equal(typeof started.pid, 'number');
  if (scenario === 'program') {
    const input = 'id,name\n1,Ada\n';
    const ok = await run(1, input);
    assert.deepEqual(ok.result, { n: 1, exitCode: 0, signal: null, stderrTail: [] });
    // The program ran as uid 1000 with the request's MLOPS_* environment, its output landed,
    // and it could not write to the launcher's directory.
    assert.equal(readFileSync(join(ok.output, 'report.txt'), 'utf8'), [
      'uid=1000', 'run=run-1', `input=${INSIDE}/run-1/input.csv`, `bytes=${input.length}`, 'launcher-dir=read-only', '',
    ].join('\n'));
    const bad = await run(2, 'bad row\n');
    assert.deepEqual(bad.result, { n: 2, exitCode: 2, signal: null, stderrTail: ['bad input: bad row'] });
    const lines = readFileSync(launcherLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => l.runId === 'run-1' && l.stream === 'stdout' && l.message === 'transformed run-1'), 'the program\'s stdout line');
    assert.ok(lines.some((l) => l.runId === 'run-2' && l.stream === 'stderr' && l.level === 'warn' && l.message === 'bad input: bad row'), 'the program\'s stderr line');
  } else {
    const missing = await run(1, 'id\n1\n');
    assert.equal(missing.result.exitCode, 127);
    assert.match(missing.result.error, /\/usr\/bin\/no-such-transform/);
  }
  writeAtomically('shutdown.json', JSON.stringify({ exitCode: Number(shutdownCode) }));
  console.log(`driver: ${scenario}: every result as expected`);
} finally {
  clearInterval(heartbeat);
}
