import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../../../processor/src/runtime/log';
import { runPipeline } from '../../../../processor/src/runtime/run';
import { ScratchSpaceError, scratchBytesNeeded } from '../../../../processor/src/runtime/scratch-space';
import { WalkthroughTransform } from '../../../../processor/src/transforms/walkthrough';
import { DepartmentLimits } from '../../../../processor/src/transforms/walkthrough/coordinator';
import { WorkerPool } from '../../../../processor/src/transforms/walkthrough/parallel/executor';
import { HEADER, RUN_ID, TempDirs, localRun, profileCell } from '../../helpers';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

// Worker threads compile the processor's TypeScript sources when they start (ts-node).
jest.setTimeout(60_000);

/**
 * Many departments, most of them met once: order that code points and UTF-16 disagree on (ﬀ U+FB00
 * before 𝔇 U+1D507), prefixes of each other, CSV quoting (a comma, quotes, a line break), missing
 * ones (Unknown, also as a token), and a few frequent departments whose means span the whole file.
 */
function manyDepartments(): string {
  const tricky = ['ﬀ', '𝔇', 'Dept', 'Dept_1', 'Dept_10', '"R&D, ""Lab"""', '"two\nlines"', 'Ärzte', '', 'NA', 'Unknown'];
  const rows = [HEADER];
  for (let i = 1; i <= 400; i++) {
    const distinct = `D${((i * 2654435761) % 4294967296).toString(36)}`;
    const department = i % 3 === 0 ? tricky[i % tricky.length] : i % 5 === 0 ? ['IT', 'HR'][i % 2] : distinct;
    const age = i % 7 === 0 ? '' : `${18 + (i % 60)}.${i % 10}`;
    const salary = i % 11 === 0 ? '' : `${30000 + ((i * 7919) % 90000)}.${i % 100}`;
    rows.push(`${i},N${i},${age},${salary},2020-01-01,${profileCell({ address: `S ${i}`, phone: `${i}`, email: 'e' })},${department},${i}.0`);
  }
  return rows.join('\n') + '\n';
}

interface RunOptions {
  readonly threads?: number;
  readonly executor?: WorkerPool;
  readonly rangeBytes?: number;
  readonly departmentLimits?: DepartmentLimits;
}

async function run(inputPath: string, options: RunOptions) {
  const dir = temp.make();
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', write: (line) => lines.push(line) });
  const { threads, ...engine } = options;
  const transform = new WalkthroughTransform(engine);
  const result = await runPipeline({ input: inputPath, output: dir, runId: RUN_ID, scratchDir: temp.make('scratch-'), log, threads, transform });
  const memory = lines.find((line) => line.includes(' Memory '))!;
  const field = (name: string): number => Number(new RegExp(` ${name}=(\\d+)`).exec(memory)![1]);
  return { files: localRun(result, dir, RUN_ID).files(), departmentIds: field('departmentIds'), spilledDepartmentRows: field('spilledDepartmentRows') };
}

function expectSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, bytes] of expected) expect({ name, text: actual.get(name)!.toString('utf8') }).toEqual({ name, text: bytes.toString('utf8') });
}

describe('more departments than a thread numbers: the department table is spilled, the outputs stay the same bytes', () => {
  let pool: WorkerPool;
  let inputPath: string;
  let inMemory: Awaited<ReturnType<typeof run>>;

  beforeAll(async () => {
    pool = new WorkerPool(2, 2048);
    inputPath = join(temp.make(), 'departments.csv');
    writeFileSync(inputPath, manyDepartments());
    inMemory = await run(inputPath, { threads: 1 });
  });
  afterAll(() => pool?.close());

  test('in memory (the default limit): every department numbered, nothing spilled; sorted by code point', () => {
    expect(inMemory.spilledDepartmentRows).toBe(0);
    expect(inMemory.departmentIds).toBeGreaterThan(200);
    const departments = inMemory.files.get(`department_statistics_${RUN_ID}.csv`)!.toString('utf8').split('\n').map((line) => line.split(',')[0]);
    const simple = departments.slice(1).filter((d) => /^D[0-9a-z]+$/.test(d));
    expect(simple.length).toBeGreaterThan(200);
    expect(simple).toEqual([...simple].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(departments).toContain('"R&D');
    expect(departments.indexOf('ﬀ')).toBeLessThan(departments.indexOf('𝔇'));
    expect(departments.filter((d) => d === 'Unknown')).toHaveLength(1);
  });

  test.each([
    ['one thread, 3 ids, runs of 256 bytes', { threads: 1, departmentLimits: { ids: 3, runBytes: 256 } }, 3],
    ['one thread, 50 ids', { threads: 1, departmentLimits: { ids: 50 } }, 50],
  ])('%s: the same bytes, at most that many departments in memory, every row spilled', async (_, options, ids) => {
    const spilled = await run(inputPath, options);
    expectSameFiles(spilled.files, inMemory.files);
    expect(spilled.departmentIds).toBeLessThanOrEqual(ids);
    expect(spilled.spilledDepartmentRows).toBe(400);
  });

  test('two worker threads on small ranges, 4 ids each: the same bytes', async () => {
    for (const rangeBytes of [97, 1024]) {
      const spilled = await run(inputPath, { executor: pool, rangeBytes, departmentLimits: { ids: 4, runBytes: 512 } });
      expectSameFiles(spilled.files, inMemory.files);
      expect(spilled.departmentIds).toBeLessThanOrEqual(8);
      expect(spilled.spilledDepartmentRows).toBe(400);
    }
  });
});

describe('the disk preflight and the department spill', () => {
  test('a volume sized to the preflight\'s own estimate holds a run whose departments fit in memory, and fails with ScratchSpaceError (before writing the spill) when they overflow', async () => {
    const inputPath = join(temp.make(), 'departments.csv');
    writeFileSync(inputPath, manyDepartments());
    const volume = scratchBytesNeeded(statSync(inputPath).size);
    const pipeline = (departmentLimits?: DepartmentLimits) => runPipeline({
      input: inputPath,
      output: temp.make(),
      runId: RUN_ID,
      scratchDir: temp.make('scratch-'),
      scratchVolumeBytes: volume,
      threads: 1,
      transform: new WalkthroughTransform({ departmentLimits }),
    });
    await expect(pipeline()).resolves.toMatchObject({ runId: RUN_ID });
    const overflow = pipeline({ ids: 3 });
    await expect(overflow).rejects.toBeInstanceOf(ScratchSpaceError);
    await expect(overflow).rejects.toThrow(/more than the preflight's estimate for the department spill/);
  });
});
