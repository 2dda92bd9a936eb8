import { isUtf8 } from 'node:buffer';
import { PassThrough, Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { BadInputError } from '../../../../processor/src/runtime/errors';
import { DEFAULT_MAX_RECORD_BYTES, RangeChunker, RangeResult, readRanges, scanRange } from '../../../../processor/src/transforms/walkthrough/csv/ranges';
import { CsvScanner, MalformedKind } from '../../../../processor/src/transforms/walkthrough/csv/scanner';
import { CsvBuffer, CsvSink } from '../../../../processor/src/transforms/walkthrough/csv/writer';
import { Slots } from '../../../../processor/src/transforms/walkthrough/parallel/slots';
import { ProfileFields, ProfileShapeReader } from '../../../../processor/src/transforms/walkthrough/profile';
import { BufferSource } from '../../helpers';

interface ScannedRecord {
  fields: string[];
  line: number;
  raw: string;
  malformed?: MalformedKind;
  /** address, phone and email as the scanner's ProfileShapeReader read them, when it read the record's profile. */
  profile?: string[];
}

function recordOf(scanner: CsvScanner, buf: Buffer, line: number, profile?: ProfileFields): ScannedRecord {
  const reader = scanner.quotedValueReader;
  const read = profile !== undefined && reader !== undefined && reader.field < scanner.fieldCount && scanner.wasRead(reader.field);
  const fields: string[] = [];
  for (let f = 0; f < scanner.fieldCount; f++) {
    fields.push(scanner.bufferOf(f, buf).toString('utf8', scanner.starts[f], scanner.ends[f]));
  }
  return {
    fields,
    line,
    raw: buf.toString('utf8', scanner.recordStart, scanner.recordEnd),
    ...(scanner.malformed ? { malformed: scanner.malformed } : {}),
    ...(read ? { profile: [0, 1, 2].map((k) => profile.bufs[k].toString('utf8', profile.starts[k], profile.ends[k])) } : {}),
  };
}

interface ScanOptions {
  /** Input bytes per range (the pipeline uses 1 MiB). */
  readonly rangeBytes?: number;
  /** Bytes the source hands out per read (S3 parts end anywhere). */
  readonly maxRead?: number;
  readonly maxRecordBytes?: number;
  /** Attach a ProfileShapeReader for this field to the data records' scanner, as the pipeline does. */
  readonly profileField?: number;
}

/** Records as the pipeline reads them: the header, then ranges cut speculatively, parsed, verified and merged in order. */
async function scanAll(input: string | Buffer, options: ScanOptions = {}): Promise<{ records: ScannedRecord[]; dropped: number }> {
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8');
  const rangeBytes = options.rangeBytes ?? 1024 * 1024;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  // Slots barely larger than a range: merged ranges get buffers of their own.
  const slots = new Slots({ large: 16, largeBytes: rangeBytes + 8, small: 0, smallBytes: 0 }, false);
  const chunker = new RangeChunker(new BufferSource(bytes, options.maxRead), rangeBytes, slots);
  const records: ScannedRecord[] = [];
  const headerLines = await chunker.readFirstRecord((scanner, buf) => records.push(recordOf(scanner, buf, scanner.line)), maxRecordBytes);
  const scanner = new CsvScanner();
  const profile = options.profileField === undefined ? undefined : new ProfileFields();
  if (profile !== undefined) scanner.quotedValueReader = new ProfileShapeReader(options.profileField!, profile);
  let dropped = 0;
  await readRanges<RangeResult & { found: ScannedRecord[] }>(chunker, {
    parse: async (range) => {
      const found: ScannedRecord[] = [];
      const buf = slots.bytesOf(range.input);
      const { consumed, lines } = scanRange(scanner, buf, buf.length, range.last, (s, b) => found.push(recordOf(s, b, s.line, profile)));
      return { input: range.input, consumed, lines, found };
    },
    accept: (result, firstLine) => {
      for (const record of result.found) records.push({ ...record, line: firstLine + record.line - 1 });
    },
    drop: () => dropped++,
    firstLine: headerLines + 1,
    maxInFlight: 3,
    maxRecordBytes,
  });
  return { records, dropped };
}

async function recordsOf(input: string | Buffer, options: ScanOptions = {}): Promise<ScannedRecord[]> {
  return (await scanAll(input, options)).records;
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

describe('CsvScanner and the range reader', () => {
  test.each(Object.entries(WELL_FORMED))('reads %s as csv-parse does', async (_, text) => {
    const expected = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true });
    const records = await recordsOf(text);
    expect(records.map((r) => r.fields)).toEqual(expected);
    expect(records.every((r) => r.malformed === undefined)).toBe(true);
  });

  test.each(Object.entries(WELL_FORMED))('reads %s the same wherever the ranges are cut and however the source splits its reads', async (_, text) => {
    const whole = await recordsOf(text);
    const length = Buffer.byteLength(text);
    for (let rangeBytes = 1; rangeBytes <= length; rangeBytes++) {
      for (const maxRead of [Infinity, 1, 3]) {
        expect({ rangeBytes, maxRead, records: await recordsOf(text, { rangeBytes, maxRead }) }).toEqual({ rangeBytes, maxRead, records: whole });
      }
    }
  });

  test('a cut after a line break inside a quoted field: the next range is parsed again from the record\'s start', async () => {
    const text = 'h\n"a\nb\nc",1\nd,2\n';
    // Ranges of 4 bytes: the first cut falls after "a\n, inside the quotes.
    const { records, dropped } = await scanAll(text, { rangeBytes: 4 });
    expect(dropped).toBeGreaterThan(0);
    expect(records.map((r) => [r.fields, r.line])).toEqual([[['h'], 1], [['a\nb\nc', '1'], 2], [['d', '2'], 5]]);
  });

  test('gives the line each record starts on, counting line breaks inside quoted fields', async () => {
    const text = 'h\n"a\nb"\nc\n\n\nd\r\n"x\r\ny\r\nz",w\r\ne';
    const expected = [['h', 1], ['a\nb', 2], ['c', 4], ['d', 7], ['x\r\ny\r\nz', 8], ['e', 11]];
    for (let rangeBytes = 1; rangeBytes <= text.length; rangeBytes++) {
      const records = await recordsOf(text, { rangeBytes });
      expect({ rangeBytes, lines: records.map((r) => [r.fields[0], r.line]) }).toEqual({ rangeBytes, lines: expected });
    }
  });

  test('keeps the raw text of each record for rejected_rows', async () => {
    const records = await recordsOf('a,b\n"x ""q""",2\r\n');
    expect(records[1].raw).toBe('"x ""q""",2');
  });

  test.each<[string, string, MalformedKind]>([
    ['a stray quote in an unquoted field', 'a,b\nx"y,z\nok,1\n', 'stray-quote'],
    ['text after a closing quote', 'a,b\n"ab"c,d\nok,1\n', 'text-after-closing-quote'],
  ])('flags %s where csv-parse fails, and goes on with the next record', async (_, text, kind) => {
    expect(() => parse(text)).toThrow();
    for (const rangeBytes of [1024 * 1024, 3, 5, 8]) {
      const records = await recordsOf(text, { rangeBytes });
      expect(records.map((r) => r.malformed)).toEqual([undefined, kind, undefined]);
      expect(records[2].fields).toEqual(['ok', '1']);
    }
  });

  test('flags an unterminated quoted field at the end of input', async () => {
    const text = 'a,b\n1,"never closed\n2,3\n';
    expect(() => parse(text)).toThrow(/Quote Not Closed/i);
    for (const rangeBytes of [1024 * 1024, 4, 7]) {
      const records = await recordsOf(text, { rangeBytes });
      expect(records).toHaveLength(2);
      expect(records[1]).toMatchObject({ malformed: 'unterminated-quote', line: 2, fields: ['1', 'never closed\n2,3\n'] });
    }
  });

  test('fails with BadInputError when one record outgrows the limit (an unterminated quote swallowing the file)', async () => {
    const text = 'a,b\n1,"' + 'x,y\n'.repeat(100);
    await expect(recordsOf(text, { rangeBytes: 16, maxRead: 10, maxRecordBytes: 64 })).rejects.toThrow(BadInputError);
    await expect(recordsOf(text, { rangeBytes: 16, maxRead: 10, maxRecordBytes: 64 })).rejects.toThrow(/near line 2 is longer than 64 bytes/);
    // The header itself is held to the limit too.
    await expect(recordsOf('"' + 'h\n'.repeat(100), { rangeBytes: 16, maxRecordBytes: 64 })).rejects.toThrow(/near line 1 is longer than 64 bytes/);
  });
});

describe('CsvScanner with the profile reader (ProfileShapeReader)', () => {
  const profile = (address: string, phone = '5551234567', email = 'e@x.io'): string =>
    `"{""address"": ""${address}"", ""phone"": ""${phone}"", ""email"": ""${email}""}"`;
  const rows = [
    'id,profile,department',
    `1,${profile('Street 9, City 4')},IT`,
    `2,${profile('Straße 5')},IT`, // non-ASCII: left to the byte loop
    `3,${profile('say \\""hi\\""')},IT`, // a JSON escape inside a value
    '4,"{""address"": ""a\nb"", ""phone"": ""1"", ""email"": ""e""}",IT', // a line break inside the field
    '5,"{""phone"": ""1"", ""email"": ""e""}",IT', // a key left out
    `6,${profile('x')}"",IT`, // a quote after the closing quote: the field goes on
    `7,${profile('y')}z,IT`, // text after the closing quote: read, and the record flagged as the byte loop flags it
    `8,IT,${profile('in another column')}`,
    `9,${profile('a')},`,
    `10,${profile('last')}`, // the input's last byte is the closing quote: left to the byte loop
  ];
  const text = rows.join('\r\n').replace('a\\nb', 'a\nb');

  test('reads the same records, lines and raw text as the byte loop, wherever the ranges are cut', async () => {
    const plain = await recordsOf(text);
    const withReader = await recordsOf(text, { profileField: 1 });
    const strip = (records: ScannedRecord[]): ScannedRecord[] => records.map(({ profile: _, ...rest }) => rest);
    expect(strip(withReader)).toEqual(plain);
    for (let rangeBytes = 1; rangeBytes <= text.length; rangeBytes += 7) {
      expect({ rangeBytes, records: await recordsOf(text, { rangeBytes, profileField: 1 }) }).toEqual({ rangeBytes, records: withReader });
    }
  });

  test('reads the usual shape during the scan, with the values the JSON holds, and leaves every other profile to the byte loop', async () => {
    const records = await recordsOf(text, { profileField: 1 });
    const read = records.filter((r) => r.profile !== undefined);
    expect(read.map((r) => r.fields[0])).toEqual(['1', '7', '9']);
    expect(records.find((r) => r.fields[0] === '7')?.malformed).toBe('text-after-closing-quote');
    for (const record of read) {
      const json = JSON.parse(record.fields[1]) as Record<string, string>;
      expect(record.profile).toEqual([json.address, json.phone, json.email]);
    }
  });
});

describe('CsvBuffer.copyFrom (eight bytes per step, through float64 values)', () => {
  const nanWindows = (bytes: Buffer): number => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    let nans = 0;
    for (let k = 0; k + 8 <= bytes.length; k++) if (Number.isNaN(view.getFloat64(k, true))) nans++;
    return nans;
  };

  test('no eight bytes of valid UTF-8 are a NaN (whose bits an engine may change), so text is copied exactly', () => {
    // ASCII with DEL, and 2-, 3- and 4-byte sequences, the highest code points included.
    const chars = ['a', '\u007f', ',', 'é', '€', '\uffff', '😀', '\u{10000}', '\u{10ffff}'];
    let seed = 7;
    let nans = 0;
    for (let n = 0; n < 2000; n++) {
      let text = '';
      for (let k = 0; k < 24; k++) {
        seed = (seed * 16807) % 2147483647;
        text += chars[seed % chars.length];
      }
      const bytes = Buffer.from(text);
      nans += nanWindows(bytes);
      const out = new CsvBuffer(bytes.length);
      for (const [from, to] of [[0, bytes.length], [1, bytes.length - 3], [5, 12]]) {
        out.pos = 0;
        out.copyFrom(new DataView(bytes.buffer, bytes.byteOffset, bytes.length), from, to);
        expect(out.buf.subarray(0, out.pos).equals(bytes.subarray(from, to))).toBe(true);
      }
    }
    expect(nans).toBe(0);
    // What a NaN needs, a byte of 0xF0 or more followed by 0x7F or 0xFF, is not UTF-8.
    const nan = Buffer.from([0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0xf0, 0x7f]);
    expect(nanWindows(nan)).toBe(1);
    expect(isUtf8(nan)).toBe(false);
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

  test('a failed write (a full disk) surfaces from drain() and close(), not as an unhandled error event', async () => {
    const out = new Writable({ write: (_chunk, _encoding, callback) => callback(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })) });
    const sink = new CsvSink(out);
    const written: number[] = [];
    sink.append(Buffer.from('a,b\n'), () => written.push(1));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(sink.drain()).rejects.toThrow(/no space left/);
    await expect(sink.close()).rejects.toThrow(/no space left/);
    expect(written).toEqual([1]);
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
