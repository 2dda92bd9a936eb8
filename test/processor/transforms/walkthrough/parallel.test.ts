import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../../../processor/src/runtime/log';
import { runPipeline } from '../../../../processor/src/runtime/run';
import type { NaValuesMode } from '../../../../processor/src/runtime/transform';
import { WalkthroughTransform } from '../../../../processor/src/transforms/walkthrough';
import { WorkerPool } from '../../../../processor/src/transforms/walkthrough/parallel/executor';
import { cgroupCpuLimit, defaultThreadCount } from '../../../../processor/src/transforms/walkthrough/parallel/threads';
import { HEADER, RUN_ID, TempDirs, localRun, profileCell } from '../../helpers';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

// Worker threads compile the processor's TypeScript sources when they start (ts-node).
jest.setTimeout(60_000);

/**
 * An input with everything that makes range cuts hard, over and over so that cuts fall on each
 * kind: a byte order mark, CRLF line breaks, line breaks (CRLF and LF) inside quoted fields,
 * doubled quotes, blank lines, rows that are rejected (wrong field count, a bad id, a bad age, a
 * stray quote, invalid UTF-8, a profile that is not an object), non-ASCII departments, missing
 * values (empty cells and pandas' tokens), negative zeros, exact duplicates, and an unterminated
 * quote that swallows the end of the file.
 */
function trickyInput(): Buffer {
  const rows: Buffer[] = [];
  const row = (text: string): number => rows.push(Buffer.from(text));
  for (let i = 1; i <= 40; i++) {
    const dept = ['IT', 'HR', '', 'Ärzte', 'Sales'][i % 5];
    const profile = profileCell({ address: i % 3 ? `Street ${i}, City ${i % 4}` : `Plain ${i}`, phone: `555${i}`, email: `e${i}@x` });
    const main = `${i},"Name ""${i}""${i % 2 ? '\r\n' : '\n'}second, line",${20 + (i % 40)}.0,${50000 + i * 997}.${i % 10}3,`
      + `2020-01-${String(1 + (i % 28)).padStart(2, '0')},${profile},${dept},${i * 10}`;
    row(main);
    if (i % 4 === 0) row(main);
    if (i % 6 === 0) row(`${100 + i},Short,30`);
    if (i % 7 === 0) row(`x${i},BadId,30,50000,2020-01-01,,IT,1`);
    if (i % 8 === 0) row(`${200 + i},BadAge,old,50000,2020-01-01,,IT,1`);
    if (i % 9 === 0) row(`${300 + i},Stray"Quote,30,50000,2020-01-01,,IT,1`);
    if (i % 10 === 0) rows.push(Buffer.concat([Buffer.from(`${400 + i},Bad`), Buffer.from([0xff, 0xfe]), Buffer.from(',30,50000,2020-01-01,,IT,1')]));
    if (i % 11 === 0) row(`${500 + i},ArrayProfile,30,50000,2020-01-01,"[1, 2]",IT,1`);
    if (i % 5 === 0) row('');
    if (i % 3 === 0) row(`${600 + i},Missing,,,,,,`);
    if (i % 3 === 0) row(`${600 + i},Missing,,,,,,`);
    // pandas' missing-value tokens, negative zeros and a profile value that is not a string.
    if (i % 4 === 1) row(`${700 + i},NA,-0.0,N/A,None,"{""phone"": ${5550000 + i}, ""address"": null}",null,-0.0`);
  }
  row('999,"Unterminated,30,50000,2020-01-01,,IT,1');
  row('1000,After,30,50000,2020-01-01,,IT,1');
  const crlf = Buffer.from('\r\n');
  return Buffer.concat([Buffer.from('\uFEFF' + HEADER + '\r\n'), ...rows.flatMap((r) => [r, crlf])]);
}

async function runWith(
  inputPath: string,
  options: { threads?: number; rangeBytes?: number; executor?: WorkerPool; startedPool?: WorkerPool; naValues?: NaValuesMode },
): Promise<Map<string, Buffer>> {
  const dir = temp.make();
  const { threads, naValues, ...engine } = options;
  const transform = new WalkthroughTransform(engine);
  const result = await runPipeline({ input: inputPath, output: dir, runId: RUN_ID, scratchDir: temp.make('scratch-'), threads, naValues, transform });
  return localRun(result, dir, RUN_ID).files();
}

function expectSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, bytes] of expected) {
    const got = actual.get(name)!;
    expect({ name, text: got.toString('latin1') }).toEqual({ name, text: bytes.toString('latin1') });
  }
}

describe('outputs are the same bytes with any number of threads', () => {
  let pool: WorkerPool;
  let inputPath: string;
  let reference: Map<string, Buffer>;

  beforeAll(async () => {
    pool = new WorkerPool(2, 4096);
    inputPath = join(temp.make(), 'tricky.csv');
    writeFileSync(inputPath, trickyInput());
    reference = await runWith(inputPath, { threads: 1 });
  });
  afterAll(() => pool?.close());

  test('the one-thread reference has rejected rows with their lines, duplicates and missing values', () => {
    const metrics = JSON.parse(reference.get(`quality_metrics_${RUN_ID}.json`)!.toString());
    // 40 rows, 10 repeated, 26 rows with empty cells (13 pairs), 10 with tokens; 28 rejected (6 + 5 + 5 + 4 + 4 + 3 + the unterminated one).
    expect(metrics).toMatchObject({ input_rows: 114, rejected_rows: 28, duplicate_rows: 23 });
    expect(metrics.missing_values_count).toBeGreaterThan(0);
    const rejected = reference.get(`rejected_rows_${RUN_ID}.csv`)!.toString('utf8').split('\n');
    const input = trickyInput().toString('latin1');
    const lineOf = (text: string): number => input.slice(0, input.indexOf(text)).split(/\r\n|\n|\r/).length;
    expect(rejected[1]).toBe(`${lineOf('106,Short,30')},"expected 8 fields, found 3","106,Short,30"`);
    expect(rejected[rejected.length - 4]).toBe(`${lineOf('999,"Unterminated')},field 2 has an unterminated quoted value,"999,""Unterminated,30,50000,2020-01-01,,IT,1\r`);
  });

  // Range sizes from a few bytes (a cut in nearly every field) to more than a row.
  test.each([1, 2, 3, 5, 8, 13, 34, 89, 233, 610, 1597])('two worker threads, ranges of %d bytes', async (rangeBytes) => {
    expectSameFiles(await runWith(inputPath, { executor: pool, rangeBytes }), reference);
  });

  test('two worker threads with only empty cells missing (--na-values empty): the same bytes as one thread', async () => {
    const oneThread = await runWith(inputPath, { threads: 1, naValues: 'empty' });
    expect(JSON.parse(oneThread.get(`quality_metrics_${RUN_ID}.json`)!.toString())).toMatchObject({ rejected_rows: 38 });
    for (const rangeBytes of [7, 144]) expectSameFiles(await runWith(inputPath, { executor: pool, rangeBytes, naValues: 'empty' }), oneThread);
  });

  test('one thread on small ranges', async () => {
    expectSameFiles(await runWith(inputPath, { threads: 1, rangeBytes: 7 }), reference);
  });

  test('the run stops the threads it started once their last task is done (before counting duplicates), never a pool it was given', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    const stop = WorkerPool.prototype.close;
    const close = jest.spyOn(WorkerPool.prototype, 'close').mockImplementation(function (this: WorkerPool) {
      lines.push('threads stopped');
      return stop.call(this);
    });
    try {
      const dir = temp.make();
      const transform = new WalkthroughTransform({ rangeBytes: 512 });
      const result = await runPipeline({ input: inputPath, output: dir, runId: RUN_ID, scratchDir: temp.make(), threads: 2, transform, log });
      expectSameFiles(localRun(result, dir, RUN_ID).files(), reference);
      expect(close).toHaveBeenCalledTimes(1);
      const stopped = lines.indexOf('threads stopped');
      expect(stopped).toBeGreaterThan(lines.findIndex((line) => line.includes('Medians found')));
      expect(stopped).toBeLessThan(lines.findIndex((line) => line.includes('Duplicates counted')));
      close.mockClear();
      expectSameFiles(await runWith(inputPath, { executor: pool, rangeBytes: 512 }), reference);
      expect(close).not.toHaveBeenCalled();
    } finally {
      close.mockRestore();
    }
  });

  test('threads started ahead of the run (the CLI\'s warmUp) are used when they fit, and stopped either way', async () => {
    const prepare = jest.spyOn(WorkerPool.prototype, 'prepare');
    const close = jest.spyOn(WorkerPool.prototype, 'close');
    try {
      const started = new WorkerPool(2, 512);
      expectSameFiles(await runWith(inputPath, { threads: 2, rangeBytes: 512, startedPool: started }), reference);
      expect(prepare.mock.contexts.length).toBeGreaterThan(0);
      expect(prepare.mock.contexts.every((context) => context === started)).toBe(true);
      expect(close.mock.contexts).toContain(started);

      // One thread asked for, or ranges of another size: the started threads are stopped unused.
      for (const options of [{ threads: 1, rangeBytes: 512 }, { threads: 2, rangeBytes: 1024 }]) {
        prepare.mockClear();
        const unused = new WorkerPool(2, 512);
        expectSameFiles(await runWith(inputPath, { ...options, startedPool: unused }), reference);
        expect(prepare.mock.contexts).not.toContain(unused);
        expect(close.mock.contexts).toContain(unused);
      }

      // A run that fails before it needs threads stops them too: at the input, or before it looks at anything.
      const early = new WorkerPool(2, 512);
      await expect(runWith(join(temp.make(), 'missing.csv'), { threads: 2, rangeBytes: 512, startedPool: early })).rejects.toThrow();
      expect(close.mock.contexts).toContain(early);
      const earlier = new WorkerPool(2, 512);
      await expect(runPipeline({ input: inputPath, output: temp.make(), runId: 'not/a run id', transform: new WalkthroughTransform({ startedPool: earlier }) })).rejects.toThrow(/run/i);
      expect(close.mock.contexts).toContain(earlier);
    } finally {
      prepare.mockRestore();
      close.mockRestore();
    }
  });

  test('threads started for the run: as many as asked for, when the input has ranges for them', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    const dir = temp.make();
    const transform = new WalkthroughTransform({ rangeBytes: 512 });
    const result = await runPipeline({ input: inputPath, output: dir, runId: RUN_ID, scratchDir: temp.make(), threads: 3, transform, log });
    expect(lines.join('')).toMatch(/INFO  Threads threads=3\n/);
    expectSameFiles(localRun(result, dir, RUN_ID).files(), reference);
  });
});

describe('default thread count', () => {
  /** A cgroup tree as a container sees it: `files` under a fake /sys/fs/cgroup, and /proc/self/cgroup. */
  function cgroups(membership: string, files: Record<string, string>): { root: string; membership: string } {
    const root = temp.make('cgroup-');
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    const membershipFile = join(root, 'self-cgroup');
    writeFileSync(membershipFile, membership);
    return { root, membership: membershipFile };
  }

  test('cgroup v2: cpu.max of the container (a Kubernetes CPU limit), rounded up', () => {
    const paths = cgroups('0::/\n', { 'cpu.max': '150000 100000\n' });
    expect(cgroupCpuLimit(paths)).toBe(1.5);
    expect(defaultThreadCount(paths, 8)).toBe(2);
    expect(defaultThreadCount(cgroups('0::/\n', { 'cpu.max': '400000 100000\n' }), 2)).toBe(2);
  });

  test('cgroup v2 without a limit, or no cgroup files at all: the CPUs the OS offers', () => {
    expect(cgroupCpuLimit(cgroups('0::/\n', { 'cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(defaultThreadCount(cgroups('0::/\n', { 'cpu.max': 'max 100000\n' }), 6)).toBe(6);
    expect(defaultThreadCount({ root: join(temp.make(), 'none'), membership: join(temp.make(), 'none') }, 3)).toBe(3);
  });

  test('cgroup v2: the smallest limit on the way from the process\'s cgroup up to the root', () => {
    const paths = cgroups('0::/kubepods/pod1/ctr\n', {
      'kubepods/cpu.max': '800000 100000\n',
      'kubepods/pod1/cpu.max': '300000 100000\n',
      'kubepods/pod1/ctr/cpu.max': 'max 100000\n',
    });
    expect(cgroupCpuLimit(paths)).toBe(3);
  });

  test('cgroup v1: cpu.cfs_quota_us / cpu.cfs_period_us; -1 is no limit', () => {
    const limited = cgroups('4:memory:/x\n3:cpu,cpuacct:/kubepods/pod1\n', {
      'cpu,cpuacct/cpu.cfs_quota_us': '200000\n',
      'cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuLimit(limited)).toBe(2);
    expect(defaultThreadCount(limited, 16)).toBe(2);
    const unlimited = cgroups('3:cpu,cpuacct:/\n', { 'cpu/cpu.cfs_quota_us': '-1\n', 'cpu/cpu.cfs_period_us': '100000\n' });
    expect(cgroupCpuLimit(unlimited)).toBeUndefined();
  });

  test('at least one thread', () => {
    expect(defaultThreadCount(cgroups('0::/\n', { 'cpu.max': '10000 100000\n' }), 4)).toBe(1);
  });
});
