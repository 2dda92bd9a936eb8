/**
 * Compares our processor's outputs with the pandas reference's (processor/tools/seed_preprocess.py)
 * for the same input.
 *
 * - cleaned_data, transformed_data, department_statistics: record for record, byte for byte.
 *   The one intended difference: transformed_data's address_length of a missing address is 0 in
 *   ours and 3 in pandas (`len(str(NaN))`, SPEC §2 defect 11). A row where ours also says 3 is a
 *   mismatch (the quirk copied).
 * - quality_metrics: every field pandas writes must be equal in ours, except processing_timestamp
 *   (ours must still be ISO 8601). Our extra fields are listed, not compared with pandas; if
 *   input_rows and rejected_rows are present, input_rows = total_rows + rejected_rows must hold.
 *
 * Files are streamed (bounded memory). Lines split on "\n" only, so a "\r" or a missing final
 * newline shows up as a difference.
 *
 * CLI: node processor/lib/tools/compare-outputs.js --ours DIR --pandas DIR --run-id ID
 *        [--pandas-run-id ID] [--max-samples N]      (exit 0 same, 1 different)
 */
import { closeSync, createReadStream, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export const CSV_OUTPUTS = ['cleaned_data', 'transformed_data', 'department_statistics'] as const;
export type CsvOutput = (typeof CSV_OUTPUTS)[number];

/** Where one run's outputs are: `<dir>/<name>_<runId>.<ext>`. */
export interface RunOutputs {
  readonly dir: string;
  readonly runId: string;
}

export interface CompareOptions {
  /** How many mismatches to keep per file for the report. @default 10 */
  readonly maxSamples?: number;
}

export interface Mismatch {
  /** 1-based line number of the record's first line (the header is line 1). */
  readonly line: number;
  /** The row's id (first field), when the file has one. */
  readonly id?: string;
  /** Column name, or undefined when the records differ in shape (field count, missing row). */
  readonly column?: string;
  readonly ours: string;
  readonly pandas: string;
  /** e.g. "1 ulp apart" when both sides are numbers. */
  readonly note?: string;
}

export interface FileComparison {
  readonly file: string;
  readonly oursRecords: number;
  readonly pandasRecords: number;
  readonly identicalRecords: number;
  /** Records that differ only by the intended address_length 0 vs 3. */
  readonly intendedDifferences: number;
  readonly mismatchedRecords: number;
  /** Mismatches per column (all of them, not only the samples). */
  readonly mismatchesByColumn: Record<string, number>;
  readonly samples: Mismatch[];
  /** File-level problems: missing file, no final newline, header differs. */
  readonly problems: string[];
}

export interface MetricDifference {
  readonly field: string;
  readonly ours: unknown;
  readonly pandas: unknown;
}

export interface MetricsComparison {
  readonly file: string;
  readonly compared: string[];
  readonly differences: MetricDifference[];
  readonly extraFields: string[];
  readonly problems: string[];
}

export interface ComparisonReport {
  readonly ok: boolean;
  readonly files: FileComparison[];
  readonly metrics: MetricsComparison;
}

export function outputFile(run: RunOutputs, name: string, ext: string): string {
  return join(run.dir, `${name}_${run.runId}.${ext}`);
}

/** Yields CSV records (a record spans lines while a quoted field is open), split on "\n" only. */
export async function* csvRecords(path: string): AsyncGenerator<{ text: string; line: number }> {
  let pending = '';
  let record = '';
  let recordLine = 0;
  let line = 0;
  let quotes = 0; // quote characters in `record` so far; odd = inside a quoted field
  const take = (text: string): { text: string; line: number } | undefined => {
    line++;
    if (record === '' && quotes === 0) recordLine = line;
    record = recordLine === line ? text : `${record}\n${text}`;
    for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) quotes++;
    if (quotes % 2 === 1) return undefined;
    const done = { text: record, line: recordLine };
    record = '';
    quotes = 0;
    return done;
  };
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 65_536 })) {
    const text = chunk as string;
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      const done = take(pending + text.slice(from, nl));
      pending = '';
      from = nl + 1;
      if (done) yield done;
    }
    pending += text.slice(from);
  }
  if (pending !== '' || record !== '') {
    const done = take(pending);
    yield done ?? { text: record, line: recordLine };
  }
}

/** Splits one CSV record into its raw fields (quotes kept), so quoting differences show. */
export function splitRawFields(text: string): string[] {
  const fields: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      quoted = !quoted; // `""` inside quotes toggles twice: no net change
    } else if (c === ',' && !quoted) {
      fields.push(text.slice(start, i));
      start = i + 1;
    }
  }
  fields.push(text.slice(start));
  return fields;
}

/** A raw field's value: surrounding quotes removed, `""` → `"`. */
export function unquote(raw: string): string {
  return raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw;
}

/** Splits one CSV record into field values. */
export function splitCsvRecord(text: string): string[] {
  return splitRawFields(text).map(unquote);
}

/** Distance in units in the last place between two doubles of the same sign. */
function ulps(a: number, b: number): bigint {
  const view = new DataView(new ArrayBuffer(16));
  view.setFloat64(0, a);
  view.setFloat64(8, b);
  const d = view.getBigInt64(0) - view.getBigInt64(8);
  return d < 0n ? -d : d;
}

/** A hint for two differing cells: same number written differently, or how far apart. */
export function numericNote(ours: string, pandas: string): string | undefined {
  const num = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
  if (!num.test(ours) || !num.test(pandas)) return undefined;
  const a = Number(ours);
  const b = Number(pandas);
  if (a === b) return 'same number, written differently';
  if (Math.sign(a) === Math.sign(b)) {
    const u = ulps(a, b);
    if (u <= 16n) return `${u} ulp apart`;
  }
  return `differs by ${a - b}`;
}

function fileExists(path: string, problems: string[]): boolean {
  if (existsSync(path)) return true;
  problems.push(`missing: ${path}`);
  return false;
}

function endsWithNewline(path: string): boolean {
  const size = statSync(path).size;
  if (size === 0) return true;
  const fd = openSync(path, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** Compares two records; returns mismatched cells and whether the intended difference occurred. */
function compareRecord(
  name: CsvOutput,
  header: string[],
  order: number[] | undefined,
  ours: string,
  pandas: string,
): { cells: Array<Omit<Mismatch, 'line' | 'id'>>; intended: boolean } {
  const checkQuirk = name === 'transformed_data';
  if (ours === pandas && !checkQuirk) return { cells: [], intended: false };
  const fields = splitRawFields(ours);
  const o = order && fields.length === order.length ? order.map((k) => fields[k]) : fields;
  const p = splitRawFields(pandas);
  if (o.length !== p.length || o.length !== header.length) {
    return { cells: [{ ours, pandas, note: `field counts: ours ${o.length}, pandas ${p.length}, header ${header.length}` }], intended: false };
  }
  const cells: Array<Omit<Mismatch, 'line' | 'id'>> = [];
  let intended = false;
  const lengthAt = header.indexOf('address_length');
  const addressAt = header.indexOf('address');
  const missingAddress = checkQuirk && lengthAt >= 0 && addressAt >= 0 && o[addressAt] === '' && p[addressAt] === '';
  for (let i = 0; i < o.length; i++) {
    if (missingAddress && i === lengthAt && o[i] === '0' && p[i] === '3') {
      intended = true;
    } else if (missingAddress && i === lengthAt && o[i] !== '0') {
      const note = o[i] === '3' ? 'the seed\'s len(str(NaN)) quirk copied' : 'expected 0';
      cells.push({ column: header[i], ours: o[i], pandas: p[i], note: `missing address must give address_length 0 (SPEC §2, defect 11): ${note}` });
    } else if (o[i] !== p[i]) {
      const [ov, pv] = [unquote(o[i]), unquote(p[i])];
      const note = ov === pv ? 'same value, quoted differently' : numericNote(ov, pv);
      cells.push({ column: header[i], ours: o[i], pandas: p[i], note });
    }
  }
  return { cells, intended };
}

/** For headers with the same names in another order: ours' index of each pandas column. */
function columnOrder(ours: string[], pandas: string[]): number[] | undefined {
  if (ours.length !== pandas.length || new Set(ours).size !== ours.length) return undefined;
  const order = pandas.map((name) => ours.indexOf(name));
  return order.includes(-1) ? undefined : order;
}

/** Compares one CSV output record by record. */
export async function compareCsvOutput(name: CsvOutput, ours: RunOutputs, pandas: RunOutputs, options: CompareOptions = {}): Promise<FileComparison> {
  const maxSamples = options.maxSamples ?? 10;
  const oursPath = outputFile(ours, name, 'csv');
  const pandasPath = outputFile(pandas, name, 'csv');
  const problems: string[] = [];
  const result = {
    file: `${name}.csv`,
    oursRecords: 0,
    pandasRecords: 0,
    identicalRecords: 0,
    intendedDifferences: 0,
    mismatchedRecords: 0,
    mismatchesByColumn: {} as Record<string, number>,
    samples: [] as Mismatch[],
    problems,
  };
  if (!fileExists(oursPath, problems) || !fileExists(pandasPath, problems)) return result;

  const o = csvRecords(oursPath);
  const p = csvRecords(pandasPath);
  let header: string[] = [];
  let order: number[] | undefined; // ours' field index for each pandas column, when only the order differs
  for (;;) {
    const [a, b] = await Promise.all([o.next(), p.next()]);
    if (a.done && b.done) break;
    if (!a.done) result.oursRecords++;
    if (!b.done) result.pandasRecords++;
    const line = a.done ? b.value!.line : a.value.line;
    if (a.done || b.done) {
      result.mismatchedRecords++;
      result.mismatchesByColumn['(row count)'] = (result.mismatchesByColumn['(row count)'] ?? 0) + 1;
      if (result.samples.length < maxSamples) result.samples.push({ line, ours: a.done ? '(no row)' : a.value.text, pandas: b.done ? '(no row)' : b.value.text });
      continue;
    }
    if (result.oursRecords === 1) {
      header = splitCsvRecord(b.value.text);
      if (a.value.text !== b.value.text) {
        problems.push(`header differs: ours "${a.value.text}", pandas "${b.value.text}"`);
        order = columnOrder(splitCsvRecord(a.value.text), header);
        if (order) problems.push('same columns in another order: rows are compared column by column, by name');
      } else {
        result.identicalRecords++;
      }
      continue;
    }
    const { cells, intended } = compareRecord(name, header, order, a.value.text, b.value.text);
    if (cells.length > 0) {
      result.mismatchedRecords++;
      const idAt = header.indexOf('id');
      const id = idAt >= 0 ? splitCsvRecord(b.value.text)[idAt] : undefined;
      for (const cell of cells) {
        const key = cell.column ?? '(record)';
        result.mismatchesByColumn[key] = (result.mismatchesByColumn[key] ?? 0) + 1;
        if (result.samples.length < maxSamples) result.samples.push({ line, id, ...cell });
      }
    } else if (intended) {
      result.intendedDifferences++;
    } else {
      result.identicalRecords++;
    }
  }
  if (!endsWithNewline(oursPath)) problems.push(`ours does not end with a newline: ${oursPath}`);
  return result;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Compares quality_metrics: pandas' fields (but the timestamp) must be equal in ours. */
export function compareQualityMetrics(ours: RunOutputs, pandas: RunOutputs): MetricsComparison {
  const oursPath = outputFile(ours, 'quality_metrics', 'json');
  const pandasPath = outputFile(pandas, 'quality_metrics', 'json');
  const result: MetricsComparison = { file: 'quality_metrics.json', compared: [], differences: [], extraFields: [], problems: [] };
  if (!fileExists(oursPath, result.problems) || !fileExists(pandasPath, result.problems)) return result;
  let o: Record<string, unknown>;
  let p: Record<string, unknown>;
  try {
    o = JSON.parse(readFileSync(oursPath, 'utf8'));
    p = JSON.parse(readFileSync(pandasPath, 'utf8'));
  } catch (err) {
    result.problems.push(`not JSON: ${(err as Error).message}`);
    return result;
  }
  for (const field of Object.keys(p)) {
    if (field === 'processing_timestamp') continue;
    result.compared.push(field);
    if (!(field in o)) result.problems.push(`ours lacks ${field}`);
    else if (o[field] !== p[field]) result.differences.push({ field, ours: o[field], pandas: p[field] });
  }
  const stamp = o.processing_timestamp;
  if (typeof stamp !== 'string' || !ISO_8601.test(stamp) || Number.isNaN(Date.parse(stamp))) {
    result.problems.push(`ours: processing_timestamp is not ISO 8601: ${JSON.stringify(stamp)}`);
  }
  result.extraFields.push(...Object.keys(o).filter((k) => !(k in p)));
  if (typeof o.input_rows === 'number' && typeof o.rejected_rows === 'number' && o.input_rows !== Number(o.total_rows) + o.rejected_rows) {
    result.problems.push(`ours: input_rows ${o.input_rows} ≠ total_rows ${String(o.total_rows)} + rejected_rows ${o.rejected_rows}`);
  }
  return result;
}

/** Compares every output of two runs of the same input. */
export async function compareOutputs(ours: RunOutputs, pandas: RunOutputs, options: CompareOptions = {}): Promise<ComparisonReport> {
  const files: FileComparison[] = [];
  for (const name of CSV_OUTPUTS) files.push(await compareCsvOutput(name, ours, pandas, options));
  const metrics = compareQualityMetrics(ours, pandas);
  const ok = files.every((f) => f.mismatchedRecords === 0 && f.problems.length === 0)
    && metrics.differences.length === 0 && metrics.problems.length === 0;
  return { ok, files, metrics };
}

function show(value: string, max = 120): string {
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A readable summary: one line per file, then the sampled differences. */
export function formatReport(report: ComparisonReport): string {
  const lines = [report.ok ? 'outputs agree with pandas' : 'OUTPUTS DIFFER FROM PANDAS'];
  for (const f of report.files) {
    const intended = f.intendedDifferences > 0 ? `, ${f.intendedDifferences} with the intended address_length 0 vs 3` : '';
    lines.push(`  ${f.file}: ours ${f.oursRecords} records, pandas ${f.pandasRecords}; ${f.identicalRecords} identical${intended}; ${f.mismatchedRecords} mismatched`);
    for (const problem of f.problems) lines.push(`    ! ${problem}`);
    const byColumn = Object.entries(f.mismatchesByColumn);
    if (byColumn.length > 0) lines.push(`    mismatches by column: ${byColumn.map(([c, n]) => `${c} ${n}`).join(', ')}`);
    for (const s of f.samples) {
      const where = `line ${s.line}${s.id !== undefined ? ` (id ${s.id})` : ''}${s.column !== undefined ? ` column ${s.column}` : ''}`;
      lines.push(`    ${where}: ours ${show(s.ours)}, pandas ${show(s.pandas)}${s.note ? ` — ${s.note}` : ''}`);
    }
  }
  const m = report.metrics;
  lines.push(`  ${m.file}: compared ${m.compared.join(', ') || '(nothing)'}; ${m.differences.length} different; ours also has ${m.extraFields.join(', ') || 'nothing else'}`);
  for (const d of m.differences) lines.push(`    ${d.field}: ours ${JSON.stringify(d.ours)}, pandas ${JSON.stringify(d.pandas)}`);
  for (const problem of m.problems) lines.push(`    ! ${problem}`);
  return lines.join('\n');
}

async function cli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'ours': { type: 'string' },
      'pandas': { type: 'string' },
      'run-id': { type: 'string' },
      'pandas-run-id': { type: 'string' },
      'max-samples': { type: 'string' },
    },
  });
  if (!values.ours || !values.pandas || !values['run-id']) {
    console.error('usage: compare-outputs --ours DIR --pandas DIR --run-id ID [--pandas-run-id ID] [--max-samples N]');
    return 2;
  }
  const report = await compareOutputs(
    { dir: values.ours, runId: values['run-id'] },
    { dir: values.pandas, runId: values['pandas-run-id'] ?? values['run-id'] },
    { maxSamples: values['max-samples'] ? Number(values['max-samples']) : undefined },
  );
  console.log(formatReport(report));
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  cli(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      console.error(`compare-outputs: ${err.message}`);
      process.exitCode = 2;
    },
  );
}
