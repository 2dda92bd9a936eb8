/**
 * One Parquet column's data page (processor/src/transforms/walkthrough/parquet/column.ts), checked
 * byte by byte against what the page should hold: its statistics are the smallest and largest
 * value in unsigned byte order (how Parquet orders UTF-8, not how JavaScript orders strings), and
 * its definition levels have a 0 exactly where a null was added.
 */
// Reading a bit-packed run of definition levels is bit arithmetic.
/* eslint-disable no-bitwise */
import { uncompressSync } from 'snappy';
import { ColumnEncoder, Page } from '../../../../../processor/src/transforms/walkthrough/parquet/column';

/** A small deterministic generator (the cases must be the same on every run). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Strings that stress the 8-byte prefix comparison: shared prefixes, short strings, NUL bytes and bytes above 0x7f. */
function awkwardStrings(count: number, seed: number): Buffer[] {
  const next = random(seed);
  const alphabet = [0x00, 0x01, 0x41, 0x42, 0x7f, 0x80, 0xc3, 0xff];
  const prefixes = ['', 'Name_', 'email_12', 'Street 2', 'A'];
  return Array.from({ length: count }, () => {
    const prefix = Buffer.from(prefixes[Math.floor(next() * prefixes.length)], 'latin1');
    const tail = Buffer.from(Array.from({ length: Math.floor(next() * 12) }, () => alphabet[Math.floor(next() * alphabet.length)]));
    return Buffer.concat([prefix, tail]);
  });
}

function viewOf(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** The page's PLAIN strings (its non-null values), read from its uncompressed data after the definition levels. */
function plainStrings(page: Page): Buffer[] {
  const data = uncompressSync(page.data) as Buffer;
  const strings: Buffer[] = [];
  for (let p = 4 + data.readUInt32LE(0); p < data.length;) {
    const length = data.readUInt32LE(p);
    strings.push(data.subarray(p + 4, p + 4 + length));
    p += 4 + length;
  }
  return strings;
}

/** The page's definition levels, one per value (1 present, 0 null), read from its uncompressed data. */
function definitionLevels(page: Page): number[] {
  const data = uncompressSync(page.data) as Buffer;
  const levelsLength = data.readUInt32LE(0);
  let p = 4;
  let header = 0;
  for (let shift = 0; ; shift += 7) {
    const b = data[p++];
    header |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  expect(header & 1).toBe(1); // a bit-packed run
  const levels: number[] = [];
  for (let i = 0; i < page.values; i++) levels.push((data[p + (i >>> 3)] >> (i & 7)) & 1);
  expect(p + ((header >>> 1) * 8) / 8).toBe(4 + levelsLength);
  return levels;
}

describe('ColumnEncoder', () => {
  test.each([1, 2, 3, 4, 5])('string statistics are the unsigned-byte-order extremes (seed %i)', (seed) => {
    const values = awkwardStrings(3000, seed);
    const encoder = new ColumnEncoder('string');
    for (const value of values) encoder.addString(value, 0, value.length);
    const page = encoder.page();
    const sorted = [...values].sort(Buffer.compare);
    expect(Buffer.from(page.min!).toString('hex')).toBe(sorted[0].toString('hex'));
    expect(Buffer.from(page.max!).toString('hex')).toBe(sorted[sorted.length - 1].toString('hex'));
  });

  test('an unquoted field is copied up to its delimiter; a quoted one with "" as one quote', () => {
    const encoder = new ColumnEncoder('string');
    const row = Buffer.from('abc,"x""y,z",\n');
    expect(encoder.addField(viewOf(row), 0, row.length, 0x2c)).toBe(3);
    expect(encoder.addQuotedField(viewOf(row), 5, row.length)).toBe(11);
    const page = encoder.page();
    expect([Buffer.from(page.min!).toString(), Buffer.from(page.max!).toString()]).toEqual(['abc', 'x"y,z']);
    expect(page.values).toBe(2);
  });

  test.each([1, 2, 3])('fields of every length up to 40 bytes, quoted or not, are copied exactly (seed %i)', (seed) => {
    const next = random(seed);
    const cells: Array<{ content: Buffer; quoted: boolean }> = [];
    for (let n = 0; n < 4000; n++) {
      const quoted = next() < 0.5;
      // Unquoted: no comma, quote or line feed; quoted: commas, line feeds and quotes too (doubled in the CSV).
      const alphabet = quoted ? [0x61, 0x2c, 0x22, 0x0a, 0xc3, 0xa9, 0x00] : [0x61, 0x62, 0xc3, 0xa9, 0x00, 0x7f];
      const content = Buffer.from(Array.from({ length: Math.floor(next() * 41) }, () => alphabet[Math.floor(next() * alphabet.length)]));
      cells.push({ content, quoted });
    }
    const row = Buffer.concat(cells.map(({ content, quoted }, n) => {
      const text = quoted ? Buffer.concat([Buffer.from('"'), Buffer.from(content.toString('latin1').replace(/"/g, '""'), 'latin1'), Buffer.from('"')]) : content;
      return Buffer.concat([text, Buffer.from(n === cells.length - 1 ? '\n' : ',')]);
    }));
    const encoder = new ColumnEncoder('string');
    const view = viewOf(row);
    let p = 0;
    cells.forEach(({ quoted }, n) => {
      const delimiter = n === cells.length - 1 ? 0x0a : 0x2c;
      p = quoted ? encoder.addQuotedField(view, p + 1, row.length) + 1 : encoder.addField(view, p, row.length, delimiter);
      expect(row[p]).toBe(delimiter);
      p++;
    });
    expect(p).toBe(row.length);
    const page = encoder.page();
    expect(plainStrings(page).map((b) => b.toString('hex'))).toEqual(cells.map(({ content }) => content.toString('hex')));
  });

  test('a field longer than the values buffer grows it and keeps every byte', () => {
    const encoder = new ColumnEncoder('string');
    const long = Buffer.alloc(200_000, 0x61);
    long[long.length - 1] = 0x2c;
    encoder.addField(viewOf(Buffer.from('b,')), 0, 2, 0x2c);
    expect(encoder.addField(viewOf(long), 0, long.length, 0x2c)).toBe(long.length - 1);
    const page = encoder.page();
    expect(Buffer.from(page.min!)).toEqual(long.subarray(0, long.length - 1));
    expect(Buffer.from(page.max!).toString()).toBe('b');
  });

  test.each([1, 7, 8, 9, 1000, 4099])('definition levels mark exactly the nulls (%i values)', (count) => {
    const next = random(count);
    const encoder = new ColumnEncoder('double');
    const expected: number[] = [];
    for (let i = 0; i < count; i++) {
      const isNull = next() < 0.3;
      if (isNull) encoder.addNull();
      else encoder.addDouble(i);
      expected.push(isNull ? 0 : 1);
    }
    const first = encoder.page();
    expect(definitionLevels(first)).toEqual(expected);
    expect(first.nulls).toBe(expected.filter((l) => l === 0).length);
    // The next page starts afresh: no null of the first carries over.
    encoder.addDouble(1);
    encoder.addDouble(2);
    const second = encoder.page();
    expect(definitionLevels(second)).toEqual([1, 1]);
    expect(second.nulls).toBe(0);
  });
});
