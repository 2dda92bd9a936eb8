/**
 * A range of transformed_data's CSV bytes → its Parquet pages
 * (processor/src/transforms/walkthrough/parquet/csv-columns.ts), packed into the slot the main
 * thread reuses, or into a buffer of their own when they do not fit it.
 */
import { CsvColumnEncoders, EncodedRange } from '../../../../../processor/src/transforms/walkthrough/parquet/csv-columns';

const KINDS = ['int64', 'string', 'double'] as const;
const CSV = Buffer.from('1,"a, b",2.5\n2,,\n-3,"say ""hi""",inf\n');

function packed(range: EncodedRange, slot: ArrayBufferLike): Buffer {
  return Buffer.from(range.own ?? slot, 0, range.length);
}

describe('CsvColumnEncoders', () => {
  const slot = new SharedArrayBuffer(64 * 1024);
  const inSlot = new CsvColumnEncoders([...KINDS]).encode(CSV, 0, CSV.length, 7, slot);
  const tiny = new SharedArrayBuffer(16);
  const ownBuffer = new CsvColumnEncoders([...KINDS]).encode(CSV, 0, CSV.length, 8, tiny);

  test('the pages are packed into the slot when they fit, and the range names it', () => {
    expect(inSlot.own).toBeUndefined();
    expect(inSlot.slot).toBe(7);
    expect(inSlot.rows).toBe(3);
    expect(inSlot.length).toBe(inSlot.columns.reduce((sum, c) => sum + c.length, 0));
  });

  test('pages larger than the slot go to a buffer of their own, byte for byte the same', () => {
    expect(ownBuffer.own).toBeInstanceOf(ArrayBuffer);
    expect(ownBuffer.length).toBeGreaterThan(tiny.byteLength);
    expect(packed(ownBuffer, tiny)).toEqual(packed(inSlot, slot));
    expect(ownBuffer.columns).toEqual(inSlot.columns);
  });

  test('each column counts its values and nulls, with the extremes as Parquet holds them', () => {
    const [id, text, number] = inSlot.columns;
    expect([id.values, id.nulls, text.values, text.nulls, number.values, number.nulls]).toEqual([3, 0, 3, 1, 3, 1]);
    expect(Buffer.from(id.min!).readBigInt64LE(0)).toBe(-3n);
    expect(Buffer.from(id.max!).readBigInt64LE(0)).toBe(2n);
    expect(Buffer.from(text.min!).toString()).toBe('a, b');
    expect(Buffer.from(text.max!).toString()).toBe('say "hi"');
    expect(Buffer.from(number.min!).readDoubleLE(0)).toBe(2.5);
    expect(Buffer.from(number.max!).readDoubleLE(0)).toBe(Infinity);
  });
});
