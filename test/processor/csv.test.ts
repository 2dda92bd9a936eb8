import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { readRecords } from '../../processor/src/csv/reader';
import { CsvScanner, MalformedKind } from '../../processor/src/csv/scanner';
import { CsvSink } from '../../processor/src/csv/writer';
import { BadInputError } from '../../processor/src/errors';

interface ScannedRecord {
  fields: string[];
  line: number;
  raw: string;
  malformed?: MalformedKind;
}

async function* chunksOf(bytes: Buffer, splitAt: number[]): AsyncGenerator<Buffer> {
  let start = 0;
  for (const at of [...splitAt, bytes.length]) {
    if (at > start) yield Buffer.from(bytes.subarray(start, at));
    start = Math.max(start, at);
  }
}

async function scanAll(input: string | Buffer, splitAt: number[] = [], maxRecordBytes?: number): Promise<ScannedRecord[]> {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8');
  const records: ScannedRecord[] = [];
  await readRecords(chunksOf(bytes, splitAt), (scanner: CsvScanner, buf: Buffer) => {
    const fields: string[] = [];
    for (let f = 0; f < scanner.fieldCount; f++) {
      fields.push(scanner.bufferOf(f, buf).toString('utf8', scanner.starts[f], scanner.ends[f]));
    }
    records.push({
      fields,
      line: scanner.line,
      raw: buf.toString('utf8', scanner.recordStart, scanner.recordEnd),
      ...(scanner.malformed ? { malformed: scanner.malformed } : {}),
    });
  }, { maxRecordBytes });
  return records;
}

const WELL_FORMED: Record<string, string> = {
  'plain records': 'a,b,c\n1,2,3\n',
  'no final line break': 'a,b\n1,2',
  'CRLF line breaks': 'a,b\r\n1,2\r\n3,4\r\n',
  'CR line breaks': 'a,b\r1,2\r',
  'quoted delimiters, quotes and line breaks': 'a,b\n"x, y","he said ""hi"""\n"multi\nline",z\n',
  'CRLF inside a quoted field': 'a,b\r\n"l1\r\nl2",z\r\n',
  'empty and quoted-empty fields': 'a,b,c\n,,\n"",x,\n',
  'blank lines between records': 'a,b\n\n1,2\n\n\n3,4\n\n',
  'byte order mark': '\uFEFFa,b\n1,2\n',
  'non-ASCII text': 'a,b\nÜnïcödé,🚀 \u00a0x\n',
  'a trailing delimiter at the end of input': 'a,b\n1,',
  'the seed example row': 'id,name,age,salary,hire_date,profile,department,bonus\n'
    + '17,Name_412,77.0,,2019-03-02,"{""address"": ""Street 9, City 4"", ""phone"": ""5551234567"", ""email"": ""email_3@example.com""}",IT,6842.0\n',
};

describe('CsvScanner', () => {
  test.each(Object.entries(WELL_FORMED))('reads %s as csv-parse does', async (_, text) => {
    const expected = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true });
    const records = await scanAll(text);
    expect(records.map((r) => r.fields)).toEqual(expected);
    expect(records.every((r) => r.malformed === undefined)).toBe(true);
  });

  test.each(Object.entries(WELL_FORMED))('reads %s the same however the input is split into chunks', async (_, text) => {
    const whole = await scanAll(text);
    const length = Buffer.byteLength(text);
    for (let at = 1; at < length; at++) {
      expect({ at, records: await scanAll(text, [at]) }).toEqual({ at, records: whole });
    }
    // One byte per chunk: every record and field boundary falls between chunks.
    expect(await scanAll(text, Array.from({ length }, (_unused, i) => i))).toEqual(whole);
  });

  test('gives the line each record starts on, counting line breaks inside quoted fields', async () => {
    const records = await scanAll('h\n"a\nb"\nc\n\n\nd\r\n"x\r\ny\r\nz",w\r\ne');
    expect(records.map((r) => [r.fields[0], r.line])).toEqual([['h', 1], ['a\nb', 2], ['c', 4], ['d', 7], ['x\r\ny\r\nz', 8], ['e', 11]]);
  });

  test('keeps the raw text of each record for rejected_rows', async () => {
    const records = await scanAll('a,b\n"x ""q""",2\r\n');
    expect(records[1].raw).toBe('"x ""q""",2');
  });

  test.each<[string, string, MalformedKind]>([
    ['a stray quote in an unquoted field', 'a,b\nx"y,z\nok,1\n', 'stray-quote'],
    ['text after a closing quote', 'a,b\n"ab"c,d\nok,1\n', 'text-after-closing-quote'],
  ])('flags %s where csv-parse fails, and goes on with the next record', async (_, text, kind) => {
    expect(() => parse(text)).toThrow();
    const records = await scanAll(text);
    expect(records.map((r) => r.malformed)).toEqual([undefined, kind, undefined]);
    expect(records[2].fields).toEqual(['ok', '1']);
  });

  test('flags an unterminated quoted field at the end of input', async () => {
    const text = 'a,b\n1,"never closed\n2,3\n';
    expect(() => parse(text)).toThrow(/Quote Not Closed/i);
    const records = await scanAll(text);
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({ malformed: 'unterminated-quote', line: 2, fields: ['1', 'never closed\n2,3\n'] });
  });

  test('fails with BadInputError when one record outgrows the limit (an unterminated quote swallowing the file)', async () => {
    const text = 'a,b\n1,"' + 'x,y\n'.repeat(100);
    await expect(scanAll(text, [10, 20, 30, 200, 300], 64)).rejects.toThrow(BadInputError);
    await expect(scanAll(text, [10, 20, 30, 200, 300], 64)).rejects.toThrow(/near line 2 is longer than 64 bytes/);
  });
});

describe('CsvSink', () => {
  const VALUES = ['plain', '', 'with,comma', 'with "quotes"', 'line\nbreak', 'carriage\rreturn', ' spaced ', 'Ünïcödé 🚀', '=1+1', '"', ',', '-1'];

  test('quotes exactly where csv-stringify does', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const sink = new CsvSink(out, 16);
    sink.record(VALUES);
    sink.record(VALUES.slice().reverse());
    await sink.close();
    expect(Buffer.concat(chunks).toString('utf8')).toBe(stringify([VALUES, VALUES.slice().reverse()]));
    expect(sink.bytes).toBe(Buffer.concat(chunks).length);
  });

  test('round-trips through csv-parse', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const sink = new CsvSink(out);
    sink.record(VALUES);
    await sink.close();
    expect(parse(Buffer.concat(chunks))).toEqual([VALUES]);
  });
});
