/**
 * The walkthrough's tables as Parquet (SPEC §15), read back with hyparquet (a Parquet reader in
 * pure JavaScript, ESM-only, so it runs in a child node process): every row and cell equals the
 * run's CSV output read with the same types (id and address_length int64, age/salary/bonus double,
 * an empty cell null, the rest UTF-8 strings), the footer holds each column chunk's statistics,
 * and the files sit at tables/<name>/run_date=<date>/<runId>.parquet, listed in the manifest.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse } from 'csv-parse/sync';
import { RunAbortedError } from '../../../../processor/src/runtime/errors';
import { Logger, silentLogger } from '../../../../processor/src/runtime/log';
import { PipelineOptions, PipelineResult, runPipeline } from '../../../../processor/src/runtime/run';
import { WalkthroughTransform } from '../../../../processor/src/transforms/walkthrough';
import { generateMockCsv } from '../../../../processor/tools/generate-mock-data';
import { defaultGlueColumns } from '../../../preprocessing/glue-columns';
import { RUN_ID, TempDirs } from '../../helpers';

// Worker threads compile the processor's sources (ts-node) when they start; each run reads its files back in a child process.
jest.setTimeout(120_000);

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const FIXTURES = join(__dirname, '..', '..', '..', 'tools', 'pandas-fixtures');
/** RUN_ID is 20241221-224904: its run date. */
const RUN_DATE = '2024-12-21';
const TABLES = ['cleaned_data', 'transformed_data', 'department_statistics'] as const;
type Table = (typeof TABLES)[number];

/** Reads a Parquet file with hyparquet; cells typed as `i:` int64, `d:` double, `s:` string, or null. */
const READER = `
const { parquetMetadata, parquetReadObjects } = require('hyparquet');
const { readFileSync } = require('node:fs');
const cell = (v) => v === null || v === undefined ? null
  : typeof v === 'bigint' ? 'i:' + v
  : typeof v === 'number' ? 'd:' + (Object.is(v, -0) ? '-0' : String(v))
  : 's:' + v;
const bytes = readFileSync(process.argv[1]);
const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
const meta = parquetMetadata(file);
parquetReadObjects({ file }).then((rows) => {
  const names = meta.schema.slice(1).map((e) => e.name);
  process.stdout.write(JSON.stringify({
    schema: meta.schema.slice(1).map((e) => ({ name: e.name, type: e.type, repetition: e.repetition_type, logical: e.logical_type?.type ?? null })),
    createdBy: meta.created_by,
    rowGroups: meta.row_groups.map((g) => ({
      rows: Number(g.num_rows),
      columns: g.columns.map((c) => ({
        codec: c.meta_data.codec,
        nulls: Number(c.meta_data.statistics.null_count),
        min: cell(c.meta_data.statistics.min_value),
        max: cell(c.meta_data.statistics.max_value),
      })),
    })),
    rows: rows.map((r) => names.map((n) => cell(r[n]))),
  }));
});
`;

interface ParquetContents {
  readonly schema: Array<{ name: string; type: string; repetition: string; logical: string | null }>;
  readonly createdBy: string;
  readonly rowGroups: Array<{ rows: number; columns: Array<{ codec: string; nulls: number; min: string | null; max: string | null }> }>;
  readonly rows: Array<Array<string | null>>;
}

function readParquet(path: string): ParquetContents {
  return JSON.parse(execFileSync(process.execPath, ['--no-warnings', '-e', READER, path], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 }));
}

const KIND_OF: Record<string, 'int64' | 'double'> = {
  id: 'int64', address_length: 'int64', age: 'double', salary: 'double', bonus: 'double', average_salary: 'double', average_age: 'double',
};
const PARQUET_TYPE = { int64: 'INT64', double: 'DOUBLE', string: 'BYTE_ARRAY' } as const;
/** department_statistics' CSV header → its Parquet columns. */
const SNAKE_CASE: Record<string, string> = { 'Department': 'department', 'Average Salary': 'average_salary', 'Average Age': 'average_age' };

/** A CSV cell read with its column's Parquet type, in the reader's notation. */
function typedCell(column: string, text: string): string | null {
  if (text === '') return null;
  const kind = KIND_OF[column];
  if (kind === 'int64') return `i:${BigInt(text.trim())}`;
  if (kind === 'double') {
    const value = text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text);
    expect(Number.isNaN(value)).toBe(false);
    return `d:${Object.is(value, -0) ? '-0' : String(value)}`;
  }
  return `s:${text}`;
}

/** A CSV output read with the Parquet types: its Parquet column names and typed rows. */
function csvAsParquet(path: string): { names: string[]; rows: Array<Array<string | null>> } {
  const [header, ...records] = parse(readFileSync(path), { relaxQuotes: false }) as string[][];
  const names = header.map((n) => SNAKE_CASE[n] ?? n);
  return { names, rows: records.map((r) => r.map((cell, c) => typedCell(names[c], cell))) };
}

/** The smallest and largest typed value of a column (numbers compared as numbers, strings as UTF-8 bytes). */
function expectedStatistics(rows: Array<Array<string | null>>, c: number): { nulls: number; min: string | null; max: string | null } {
  const values = rows.map((r) => r[c]).filter((v): v is string => v !== null);
  const order = (a: string, b: string): number => {
    if (a.startsWith('s:')) return Buffer.compare(Buffer.from(a), Buffer.from(b));
    if (a.startsWith('i:')) return BigInt(a.slice(2)) < BigInt(b.slice(2)) ? -1 : BigInt(a.slice(2)) > BigInt(b.slice(2)) ? 1 : 0;
    return Number(a.slice(2)) - Number(b.slice(2));
  };
  values.sort(order);
  return { nulls: rows.length - values.length, min: values[0] ?? null, max: values[values.length - 1] ?? null };
}

async function run(input: string, options: Partial<PipelineOptions> = {}): Promise<{ dir: string; result: PipelineResult }> {
  const dir = options.output ?? temp.make();
  const result = await runPipeline({
    input, output: dir, runId: RUN_ID, scratchDir: temp.make('processor-scratch-'), outputFormat: 'both', ...options,
  });
  return { dir, result };
}

function tablePath(dir: string, table: Table, runId = RUN_ID, runDate = RUN_DATE): string {
  return join(dir, 'tables', table, `run_date=${runDate}`, `${runId}.parquet`);
}

/** Each Parquet table equals its CSV twin cell by cell, with the types and statistics of SPEC §15; returns the row groups per table. */
function expectTablesEqualCsv(dir: string): Record<Table, number> {
  const rowGroups = {} as Record<Table, number>;
  for (const table of TABLES) {
    const parquet = readParquet(tablePath(dir, table));
    const csv = csvAsParquet(join(dir, `${table}_${RUN_ID}.csv`));
    expect(parquet.schema.map((e) => e.name)).toEqual(csv.names);
    for (const element of parquet.schema) {
      const kind = (KIND_OF[element.name] ?? 'string') as 'int64' | 'double' | 'string';
      expect({ name: element.name, type: element.type, repetition: element.repetition })
        .toEqual({ name: element.name, type: PARQUET_TYPE[kind], repetition: 'OPTIONAL' });
      if (kind === 'string') expect(element.logical).toBe('STRING');
    }
    expect(parquet.rows).toEqual(csv.rows);
    expect(parquet.rowGroups.reduce((n, g) => n + g.rows, 0)).toBe(csv.rows.length);
    // Statistics of each column chunk: the null count and the extremes of that row group's rows.
    let first = 0;
    for (const group of parquet.rowGroups) {
      const rows = csv.rows.slice(first, first + group.rows);
      first += group.rows;
      group.columns.forEach((chunk, c) => {
        const expected = expectedStatistics(rows, c);
        expect({ column: csv.names[c], codec: chunk.codec, nulls: chunk.nulls, min: normalizeZero(chunk.min), max: normalizeZero(chunk.max) })
          .toEqual({ column: csv.names[c], codec: 'SNAPPY', nulls: expected.nulls, min: normalizeZero(expected.min), max: normalizeZero(expected.max) });
      });
    }
    rowGroups[table] = parquet.rowGroups.length;
  }
  return rowGroups;
}

/** Parquet writes a zero minimum as -0.0 and a zero maximum as +0.0: statistics compare zeros without their sign. */
function normalizeZero(value: string | null): string | null {
  return value === 'd:-0' ? 'd:0' : value;
}

describe('Parquet tables equal the CSV outputs for the pandas fixture inputs', () => {
  const cases = readdirSync(FIXTURES).filter((c) => existsSync(join(FIXTURES, c, 'input.csv')));

  test('there are fixture inputs to read', () => {
    expect(cases.length).toBeGreaterThanOrEqual(5);
  });

  test.each(cases)('%s: every row and cell, the types, the statistics', async (name) => {
    const { dir } = await run(join(FIXTURES, name, 'input.csv'), { naValues: name === 'na-values-empty' ? 'empty' : 'default' });
    expectTablesEqualCsv(dir);
  });
});

describe('a generated input over several threads, ranges and row groups', () => {
  let dir: string;
  let result: PipelineResult;
  beforeAll(async () => {
    const input = join(temp.make(), 'input.csv');
    await generateMockCsv({ rows: 12_000, path: input, seed: 26, malformedRows: 7, duplicateRate: 0.01 });
    const transform = new WalkthroughTransform({ rangeBytes: 32 * 1024, parquetRowGroupBytes: 64 * 1024 });
    ({ dir, result } = await run(input, { threads: 2, transform }));
  });

  test('every row and cell equals the CSV, in several row groups', () => {
    const rowGroups = expectTablesEqualCsv(dir);
    expect(rowGroups.transformed_data).toBeGreaterThan(2);
    expect(rowGroups.cleaned_data).toBe(rowGroups.transformed_data);
  });

  test('the manifest lists each Parquet file with its key, size and rows, after the CSV files', () => {
    const parquet = result.manifest.outputs.filter((o) => o.format === 'parquet');
    expect(parquet.map((o) => o.name)).toEqual([...TABLES]);
    for (const output of parquet) {
      const path = tablePath(dir, output.name as Table);
      expect(output.key).toBe(relative(dir, path));
      expect(output.key).toBe(`tables/${output.name}/run_date=${RUN_DATE}/${RUN_ID}.parquet`);
      expect(output.bytes).toBe(statSync(path).size);
      expect(output.rows).toBe(readParquet(path).rows.length);
    }
    expect(result.manifest.outputs.slice(-3)).toEqual(parquet);
  });

  test('no staging file is left behind', () => {
    const all = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? all(join(d, e.name)) : [e.name]));
    expect(all(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });
});

describe('output formats', () => {
  const input = join(FIXTURES, 'edges', 'input.csv');

  test('parquet: the tables as Parquet only; quality_metrics stays JSON and rejected_rows CSV', async () => {
    const { dir, result } = await run(input, { outputFormat: 'parquet' });
    expect(readdirSync(dir).sort()).toEqual([`manifest_${RUN_ID}.json`, `quality_metrics_${RUN_ID}.json`, `rejected_rows_${RUN_ID}.csv`, 'tables']);
    expect(result.manifest.outputs.map((o) => `${o.name}${o.format ? '.' + o.format : ''}`)).toEqual([
      'quality_metrics', 'rejected_rows', 'cleaned_data.parquet', 'transformed_data.parquet', 'department_statistics.parquet',
    ]);
    for (const table of TABLES) expect(existsSync(tablePath(dir, table))).toBe(true);
  });

  test('csv (the default): no tables folder, the walkthrough\'s files only', async () => {
    const { dir, result } = await run(input, { outputFormat: undefined });
    expect(existsSync(join(dir, 'tables'))).toBe(false);
    expect(result.manifest.outputs.some((o) => o.format !== undefined)).toBe(false);
  });

  test('a rerun with the same run id gives the same Parquet bytes', async () => {
    const first = await run(input, { outputFormat: 'parquet' });
    const second = await run(input, { outputFormat: 'parquet' });
    for (const table of TABLES) expect(readFileSync(tablePath(second.dir, table))).toEqual(readFileSync(tablePath(first.dir, table)));
  });

  test('run_date is the run id\'s date', async () => {
    const { dir } = await run(input, { outputFormat: 'parquet', runId: '20250102-030405' });
    expect(existsSync(tablePath(dir, 'cleaned_data', '20250102-030405', '2025-01-02'))).toBe(true);
  });
});

describe('the Glue Data Catalog', () => {
  test('the Glue tables that catalog synthesizes have the columns of the Parquet files the processor writes, name and type', async () => {
    const { dir } = await run(join(FIXTURES, 'edges', 'input.csv'), { outputFormat: 'parquet' });
    const athenaType = { INT64: 'bigint', DOUBLE: 'double', BYTE_ARRAY: 'string' } as Record<string, string>;
    const fileColumns = Object.fromEntries(TABLES.map((table) => [
      table, readParquet(tablePath(dir, table)).schema.map((e) => [e.name, athenaType[e.type]]),
    ]));
    expect(defaultGlueColumns()).toEqual(fileColumns);
  });
});

describe('staging', () => {
  test('while a table is written it sits under a hidden .partial name, never at its final key; a failed run leaves neither', async () => {
    const dir = temp.make();
    const input = join(temp.make(), 'input.csv');
    writeFileSync(input, readFileSync(join(FIXTURES, 'edges', 'input.csv')));
    const controller = new AbortController();
    const seen: Array<{ final: boolean; staged: boolean }> = [];
    const final = tablePath(dir, 'transformed_data');
    // Staging names are `.<name>.<pid>-<random>.partial` (runtime/outputs.ts).
    const staged = (): boolean => existsSync(dirname(final))
      && readdirSync(dirname(final)).some((n) => n.startsWith(`.${RUN_ID}.parquet.`) && n.endsWith('.partial'));
    // The table is complete (footer written) when "Saved: tables/transformed_data/..." is logged; it is published after the other outputs.
    const log: Logger = {
      ...silentLogger,
      info: (message) => {
        if (message.startsWith('Saved: tables/transformed_data/')) {
          seen.push({ final: existsSync(final), staged: staged() });
          controller.abort();
        }
      },
      withContext: () => log,
    };
    await expect(run(input, { output: dir, outputFormat: 'parquet', log, signal: controller.signal })).rejects.toBeInstanceOf(RunAbortedError);
    expect(seen).toEqual([{ final: false, staged: true }]);
    expect(existsSync(final)).toBe(false);
    expect(staged()).toBe(false);
  });
});
