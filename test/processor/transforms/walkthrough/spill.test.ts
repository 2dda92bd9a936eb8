import { join } from 'node:path';
import { hashRow, rowHash } from '../../../../processor/src/transforms/walkthrough/dedupe';
import { HashSpill, SpillLimits, ValueSpill } from '../../../../processor/src/transforms/walkthrough/spill';
import { TempDirs } from '../../helpers';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

/** A seeded generator (a linear congruential one), so failures repeat. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/** pandas' median by sorting: the middle value, or the mean of the two middle ones, summed from +0.0 as numpy does. */
function sortedMedian(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? 0 + sorted[mid] : (0 + sorted[mid - 1] + sorted[mid]) / 2;
}

async function spilledMedian(values: readonly number[], limits: SpillLimits = {}, batch = 1000): Promise<number> {
  const spill = await ValueSpill.create(join(temp.make(), 'values.spill'), limits);
  try {
    for (let i = 0; i < values.length; i += batch) spill.add(Float64Array.from(values.slice(i, i + batch)));
    return await spill.median();
  } finally {
    await spill.remove();
  }
}

describe('ValueSpill: the exact median from values spilled to disk', () => {
  const next = random(42);
  const columns: Record<string, number[]> = {
    'whole ages, many repeated': Array.from({ length: 10001 }, () => 18 + Math.floor(next() * 63)),
    'salaries with cents': Array.from({ length: 5000 }, () => Math.round(3_000_000 + next() * 9_000_000) / 100),
    'negative and positive, tiny and huge': Array.from({ length: 3001 }, (_, i) => (i % 2 ? -1 : 1) * next() * 10 ** Math.floor(next() * 40 - 20)),
    'zeros of both signs and infinities': [0, -0, Infinity, -Infinity, 5, -5, 0, Infinity],
  };

  test.each(Object.entries(columns))('%s: as sorting gives, with both parities', async (_, values) => {
    expect(await spilledMedian(values)).toBe(sortedMedian(values));
    expect(await spilledMedian(values.slice(1))).toBe(sortedMedian(values.slice(1)));
  });

  test.each(Object.entries(columns))('%s: the same when every bucket is too large to read back at once', async (_, values) => {
    // Limits of 0 and 3 narrow each bucket by further 16-bit digits, down to whole keys.
    expect(await spilledMedian(values, { collectLimit: 3 })).toBe(sortedMedian(values));
    expect(await spilledMedian(values.slice(1), { collectLimit: 0 })).toBe(sortedMedian(values.slice(1)));
  });

  test('the same when the median leaves the bucket kept in memory, or that bucket outgrows its room', async () => {
    // The first batch decides the kept bucket (about 40); the rest moves the median to about 3000.
    const shifting = [...Array.from({ length: 1000 }, () => 40 + next()), ...Array.from({ length: 5001 }, () => 3000 + next())];
    expect(await spilledMedian(shifting)).toBe(sortedMedian(shifting));
    const ages = columns['whole ages, many repeated'];
    for (const keepLimit of [0, 1, 50]) {
      expect({ keepLimit, median: await spilledMedian(ages, { keepLimit }) }).toEqual({ keepLimit, median: sortedMedian(ages) });
      expect({ keepLimit, median: await spilledMedian(ages.slice(1), { keepLimit }) }).toEqual({ keepLimit, median: sortedMedian(ages.slice(1)) });
    }
  });

  test('more values than one write buffer holds, added in uneven batches', async () => {
    const values = Array.from({ length: 300_001 }, () => Math.floor(next() * 1000) / 8);
    expect(await spilledMedian(values, {}, 77_777)).toBe(sortedMedian(values));
  });

  test('one value, and none; a median of negative zeros is 0.0, as in pandas (numpy\'s mean sums from +0.0)', async () => {
    expect(await spilledMedian([42.5])).toBe(42.5);
    expect(await spilledMedian([])).toBeNaN();
    for (const values of [[-0], [-0, -0], [-0, -0, -0], [-5, -0, 3]]) {
      expect({ values, median: await spilledMedian(values) }).toEqual({ values, median: 0 });
      expect(Object.is(await spilledMedian(values, { collectLimit: 0 }), 0)).toBe(true);
    }
  });
});

/** Distinct count by a set of the keys, for comparison. */
function expectedDuplicates(words: Uint32Array): number {
  const keys = new Set<string>();
  for (let i = 0; i < words.length; i += 2) keys.add(`${words[i]}:${words[i + 1]}`);
  return words.length / 2 - keys.size;
}

async function spilledDuplicates(words: Uint32Array, limits: SpillLimits = {}, batch = 1000): Promise<number> {
  const spill = await HashSpill.create(join(temp.make(), 'hashes.spill'), limits);
  try {
    for (let i = 0; i < words.length / 2; i += batch) {
      const pairs = Math.min(batch, words.length / 2 - i);
      spill.add(words.subarray(2 * i, 2 * (i + pairs)), pairs);
    }
    return await spill.countDuplicates();
  } finally {
    await spill.remove();
  }
}

describe('HashSpill: rows equal to an earlier row, from hashes spilled to disk', () => {
  test('counts rows equal to an earlier row, whatever their order', async () => {
    const rows = ['a,1', 'b,2', 'a,1', 'c,3', 'b,2', 'a,1', 'a,10', ''];
    const words = new Uint32Array(rows.length * 2);
    rows.forEach((row, i) => {
      const b = Buffer.from(row);
      hashRow(new DataView(b.buffer, b.byteOffset, b.length), 0, b.length);
      words[2 * i] = rowHash[0];
      words[2 * i + 1] = rowHash[1];
    });
    expect(await spilledDuplicates(words)).toBe(3);
  });

  test('tells apart rows that differ in one byte or in length', async () => {
    const words = new Uint32Array(2000);
    for (let i = 0; i < 1000; i++) {
      const b = Buffer.from(`${'x'.repeat(i % 7)}row,${i}`);
      hashRow(new DataView(b.buffer, b.byteOffset, b.length), 0, b.length);
      words[2 * i] = rowHash[0];
      words[2 * i + 1] = rowHash[1];
    }
    expect(await spilledDuplicates(words)).toBe(0);
  });

  const next = random(7);
  const word = (): number => Math.floor(next() * 4294967296);
  /** `count` hashes: random ones, every fifth a repeat of an earlier one, and one hash repeated `heavy` times. */
  function hashes(count: number, heavy: number): Uint32Array {
    const words = new Uint32Array(2 * (count + heavy));
    for (let i = 0; i < count; i++) {
      const from = i % 5 === 4 ? Math.floor(next() * i) : i;
      words[2 * i] = from === i ? word() : words[2 * from];
      words[2 * i + 1] = from === i ? word() : words[2 * from + 1];
    }
    for (let i = count; i < count + heavy; i++) {
      words[2 * i] = 0xdeadbeef;
      words[2 * i + 1] = 0x12345678;
    }
    return words;
  }

  test('random hashes with repeats, in one run and one group', async () => {
    const words = hashes(20_000, 0);
    expect(await spilledDuplicates(words)).toBe(expectedDuplicates(words));
  });

  test('the same over many runs and groups of partitions (small limits, as for billions of rows)', async () => {
    const words = hashes(20_000, 0);
    expect(await spilledDuplicates(words, { runHashes: 1024, groupLimit: 300 }, 333)).toBe(expectedDuplicates(words));
  });

  test('hashes that share their low word (one slot of the counting set) and the all-zero hash are told apart', async () => {
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < 3000; i++) pairs.push([0x1234, i % 1000], [i % 3 === 0 ? 0 : 0xffffffff, i % 3 === 0 ? 0 : i % 7]);
    const words = Uint32Array.from(pairs.flat());
    expect(await spilledDuplicates(words)).toBe(6000 - 1000 - 1 - 7);
    expect(await spilledDuplicates(words, { runHashes: 500, groupLimit: 64 })).toBe(expectedDuplicates(words));
  });

  test('one hash repeated more often than a group holds is split down to whole keys', async () => {
    const words = hashes(5_000, 3_000);
    expect(await spilledDuplicates(words, { runHashes: 700, groupLimit: 200 })).toBe(expectedDuplicates(words));
  });
});
