/**
 * Per-row state kept in the scratch directory instead of memory, so that memory stays flat
 * whatever the input's size (SPEC §9):
 *
 * - {@link ValueSpill}: the valid ages or salaries, 8 bytes each, for the exact median. A
 *   histogram of the values' top 16 bits is counted as they are written; the median is then found
 *   by radix selection: the bucket that holds the middle rank is read back and the rank selected
 *   among its values (narrowed by the next 16 bits first when the bucket is large). The values of
 *   the bucket where the first values' median lies are also kept in memory (up to 1 MiB): when
 *   the median ends up there, as it does when a column's values are alike throughout, nothing is
 *   read back.
 * - {@link HashSpill}: the 64-bit row hashes, for the duplicate count. Each run of hashes is
 *   partitioned by its top 8 bits before it is written; counting reads one group of partitions
 *   at a time (every run's slice of them) and counts the distinct hashes in it with a hash set.
 * - department-spill.ts: each row's department, salary and age, when the departments are too many
 *   to keep in memory.
 *
 * Reading back happens once the rows are all written, when nothing else runs, so it reads
 * synchronously: hundreds of small reads would otherwise each wait a turn of the event loop.
 *
 * Memory: a few fixed buffers of 1–2 MiB each, whatever the row count.
 */
import { FileHandle, open, rm } from 'node:fs/promises';
import { selectInPlace } from './stats';
import { readFullySync } from '../../runtime/io/local';

/** Values read back at most at once (2 MiB); a larger bucket is narrowed first (one more pass over the spill). */
const COLLECT_LIMIT = 1 << 18;
/** Values of the likely median bucket kept in memory as they are added (1 MiB: the whole bucket up to about 2,000,000 seed rows; more rows read it back). */
const KEEP_LIMIT = 1 << 17;
/** Hashes per run (2 MiB). */
const RUN_HASHES = 1 << 18;
/**
 * Hashes a group of partitions holds, so that its set of twice as many slots (1 MiB) stays in a
 * core's L2 cache, where inserting costs a third of what it does in an 8 MiB set. A partition
 * larger than that (above about 16 million rows) is a group of its own, up to GROUP_LIMIT.
 */
const CACHED_GROUP_HASHES = 1 << 16;
/** Hashes counted in memory at once at most (a set of 8 MiB); a larger partition is split by its next digit. */
const GROUP_LIMIT = 1 << 19;

/** Limits that bound a spill's memory; tests make them small to reach the paths large inputs take. */
export interface SpillLimits {
  /** ValueSpill: values read back at once. */
  readonly collectLimit?: number;
  /** ValueSpill: values of the likely median bucket kept in memory. */
  readonly keepLimit?: number;
  /** HashSpill: hashes per partitioned run. */
  readonly runHashes?: number;
  /** HashSpill: hashes counted in memory at once. */
  readonly groupLimit?: number;
}
const WRITE_BUFFER_BYTES = 1 << 20;
const READ_BLOCK_BYTES = 1 << 20;
const DIGITS = 1 << 16;

/** Appends buffers to a scratch file in order, a few writes in flight at most (also department-spill.ts). */
export class SpillFile {
  static async create(path: string): Promise<SpillFile> {
    return new SpillFile(path, await open(path, 'w+'));
  }

  /** Bytes handed to {@link write} so far. */
  bytes = 0;
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();
  private failure: unknown;

  private constructor(readonly path: string, private readonly handle: FileHandle) {}

  /** Queues `buf[0, length)`; `done` runs when it is written (the buffer may be reused then). */
  write(buf: Uint8Array, length: number, done: () => void): void {
    const position = this.bytes;
    this.bytes += length;
    this.pending++;
    this.tail = this.tail.then(async () => {
      if (this.failure === undefined) await this.writeFully(buf, length, position);
    }).catch((error: unknown) => {
      this.failure ??= error;
    }).finally(() => {
      this.pending--;
      done();
    });
  }

  /** Waits while more than two writes are queued (backpressure). */
  async drain(): Promise<void> {
    if (this.pending > 2) await this.tail;
    if (this.failure !== undefined) throw this.failure;
  }

  async finish(): Promise<void> {
    await this.tail;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Reads `length` bytes at `position` into `buf` from 0, synchronously (see the file comment). */
  readAt(buf: Uint8Array, length: number, position: number): void {
    readFullySync(this.handle.fd, buf, length, position, this.path);
  }

  async remove(): Promise<void> {
    await this.tail;
    await this.handle.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }

  private async writeFully(buf: Uint8Array, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesWritten } = await this.handle.write(buf, done, length - done, position + done);
      done += bytesWritten;
    }
  }
}

/** Float64 values as order-preserving unsigned keys, split into four 16-bit digits (most significant first). */
function keyHi(hi: number): number {
  return (hi & 0x80000000 ? ~hi : hi | 0x80000000) >>> 0;
}

function keyLo(hi: number, lo: number): number {
  return (hi & 0x80000000 ? ~lo : lo) >>> 0;
}

function digitOf(kHi: number, kLo: number, level: number): number {
  switch (level) {
    case 0: return kHi >>> 16;
    case 1: return kHi & 0xffff;
    case 2: return kLo >>> 16;
    default: return kLo & 0xffff;
  }
}

/** A set of 64-bit keys: the first `level` digits equal `digits`, and digit `level` is in [low, high]. */
interface KeyFilter {
  readonly level: number;
  readonly digits: readonly number[];
  readonly low: number;
  readonly high: number;
}

function matches(filter: KeyFilter, kHi: number, kLo: number): boolean {
  for (let l = 0; l < filter.level; l++) {
    if (digitOf(kHi, kLo, l) !== filter.digits[l]) return false;
  }
  if (filter.level > 3) return true;
  const d = digitOf(kHi, kLo, filter.level);
  return d >= filter.low && d <= filter.high;
}

function narrowed(filter: KeyFilter, digit: number): KeyFilter {
  return { level: filter.level + 1, digits: [...filter.digits, digit], low: 0, high: DIGITS - 1 };
}

const ALL_KEYS: KeyFilter = { level: 0, digits: [], low: 0, high: DIGITS - 1 };

/** A count per 16-bit digit value. */
function emptyHistogram(): Float64Array {
  return new Float64Array(DIGITS);
}

/** The digit whose bucket holds rank `k` of the counted keys, and the rank within that bucket. */
function bucketOf(counts: Float64Array, k: number): [number, number] {
  let digit = 0;
  while (k >= counts[digit]) k -= counts[digit++];
  return [digit, k];
}

/**
 * The valid values of one column (age or salary), spilled for the exact median: pandas'
 * `Series.median()`, the middle value or the mean of the two middle values (0.0 rather than
 * -0.0, as numpy's mean gives), NaN when empty.
 */
export class ValueSpill {
  static async create(path: string, limits: SpillLimits = {}): Promise<ValueSpill> {
    return new ValueSpill(await SpillFile.create(path), limits.collectLimit ?? COLLECT_LIMIT, limits.keepLimit ?? KEEP_LIMIT);
  }

  /** Values written. */
  count = 0;
  private readonly histogram = emptyHistogram();
  private current: Float64Array;
  private currentCount = 0;
  private readonly free: Float64Array[] = [];
  private readonly bits = new Uint32Array(2);
  private readonly bitsAsFloat = new Float64Array(this.bits.buffer);
  private readBlock: Float64Array | undefined;
  /**
   * The values of one bucket, kept as they are added: the bucket that holds the median of the
   * first values added. When a column's values are alike from start to end, the median ends up
   * there, and reading the spill back is skipped. `keptAll` turns false when the bucket outgrows
   * `kept`; then the spill is read back as usual.
   */
  private kept: Float64Array | undefined;
  private keptBucket = -1;
  private keptCount = 0;
  private keptAll = true;

  private constructor(private readonly file: SpillFile, private readonly collectLimit: number, private readonly keepLimit: number) {
    this.current = new Float64Array(WRITE_BUFFER_BYTES / 8);
  }

  add(values: Float64Array): void {
    const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
    const histogram = this.histogram;
    if (this.keptBucket < 0) {
      for (let i = 0; i < values.length; i++) histogram[keyHi(words[2 * i + 1]) >>> 16]++;
      if (values.length > 0) this.keepBucket(bucketOf(histogram, values.length >>> 1)[0], values, words);
    } else {
      const keptBucket = this.keptBucket;
      for (let i = 0; i < values.length; i++) {
        const digit = keyHi(words[2 * i + 1]) >>> 16;
        histogram[digit]++;
        if (digit === keptBucket) this.keep(values[i]);
      }
    }
    let done = 0;
    while (done < values.length) {
      const n = Math.min(values.length - done, this.current.length - this.currentCount);
      this.current.set(values.subarray(done, done + n), this.currentCount);
      this.currentCount += n;
      done += n;
      if (this.currentCount === this.current.length) this.flush();
    }
    this.count += values.length;
  }

  /** Backpressure: waits while writes pile up. */
  drain(): Promise<void> {
    return this.file.drain();
  }

  private keepBucket(bucket: number, values: Float64Array, words: Uint32Array): void {
    this.keptBucket = bucket;
    this.kept = new Float64Array(Math.min(this.keepLimit, this.collectLimit));
    for (let i = 0; i < values.length; i++) if (keyHi(words[2 * i + 1]) >>> 16 === bucket) this.keep(values[i]);
  }

  private keep(value: number): void {
    if (this.keptCount < this.kept!.length) this.kept![this.keptCount++] = value;
    else this.keptAll = false;
  }

  async median(): Promise<number> {
    this.flush();
    await this.file.finish();
    const n = this.count;
    if (n === 0) return NaN;
    // numpy takes the mean of the middle value(s), summing from +0.0: a median of -0.0 is 0.0.
    const mid = n >>> 1;
    const odd = n % 2 === 1;
    // Both middle values are usually in one bucket: then one pass (or none) finds them both.
    const [bucket, rank] = bucketOf(this.histogram, mid);
    const values = odd || rank > 0 ? this.valuesOfBucket(bucket) : undefined;
    if (values !== undefined) {
      const upper = selectInPlace(values, rank);
      if (odd) return upper + 0;
      let lower = -Infinity;
      for (let i = 0; i < rank; i++) if (values[i] > lower) lower = values[i];
      return (0 + lower + upper) / 2;
    }
    if (odd) return this.select(mid) + 0;
    return (0 + this.select(mid - 1) + this.select(mid)) / 2;
  }

  remove(): Promise<void> {
    return this.file.remove();
  }

  /** The values of a bucket of the first histogram: the kept ones, or read back when not too many; else undefined. */
  private valuesOfBucket(bucket: number): Float64Array | undefined {
    if (bucket === this.keptBucket && this.keptAll) return this.kept!.subarray(0, this.keptCount);
    return this.histogram[bucket] <= this.collectLimit ? this.collect(narrowed(ALL_KEYS, bucket), this.histogram[bucket]) : undefined;
  }

  /** The value of rank `k` (0-based, in ascending order). */
  private select(k: number): number {
    let filter = ALL_KEYS;
    let counts = this.histogram;
    for (;;) {
      const [digit, rank] = bucketOf(counts, k);
      k = rank;
      const inBucket = counts[digit];
      const bucket = narrowed(filter, digit);
      if (bucket.level === 4) return this.valueOfKey(bucket.digits);
      if (inBucket <= this.collectLimit) return selectInPlace(this.collect(bucket, inBucket), k);
      filter = bucket;
      counts = this.countDigits(filter);
    }
  }

  /** The values whose keys match `filter` (there are `count`). */
  private collect(filter: KeyFilter, count: number): Float64Array {
    const out = new Float64Array(count);
    let n = 0;
    if (filter.level === 1) {
      // The usual case, a bucket of the first histogram: one comparison per value.
      const top = filter.digits[0];
      this.scan((values, words) => {
        for (let i = 0; i < values.length; i++) if (keyHi(words[2 * i + 1]) >>> 16 === top) out[n++] = values[i];
      });
      return out;
    }
    this.scan((values, words) => {
      for (let i = 0; i < values.length; i++) {
        const hi = words[2 * i + 1];
        const kHi = keyHi(hi);
        if (matches(filter, kHi, keyLo(hi, words[2 * i]))) out[n++] = values[i];
      }
    });
    return out;
  }

  private countDigits(filter: KeyFilter): Float64Array {
    const counts = emptyHistogram();
    this.scan((values, words) => {
      for (let i = 0; i < values.length; i++) {
        const hi = words[2 * i + 1];
        const kHi = keyHi(hi);
        const kLo = keyLo(hi, words[2 * i]);
        if (matches(filter, kHi, kLo)) counts[digitOf(kHi, kLo, filter.level)]++;
      }
    });
    return counts;
  }

  private scan(onBlock: (values: Float64Array, words: Uint32Array) => void): void {
    const block = (this.readBlock ??= new Float64Array(READ_BLOCK_BYTES / 8));
    const bytes = new Uint8Array(block.buffer);
    const words = new Uint32Array(block.buffer);
    for (let position = 0; position < this.file.bytes; position += READ_BLOCK_BYTES) {
      const length = Math.min(READ_BLOCK_BYTES, this.file.bytes - position);
      this.file.readAt(bytes, length, position);
      onBlock(block.subarray(0, length / 8), words);
    }
  }

  private valueOfKey(digits: readonly number[]): number {
    const kHi = ((digits[0] << 16) | digits[1]) >>> 0;
    const kLo = ((digits[2] << 16) | digits[3]) >>> 0;
    const negative = (kHi & 0x80000000) === 0;
    this.bits[1] = negative ? ~kHi : kHi & 0x7fffffff;
    this.bits[0] = negative ? ~kLo : kLo;
    return this.bitsAsFloat[0];
  }

  private flush(): void {
    if (this.currentCount === 0) return;
    const full = this.current;
    this.file.write(new Uint8Array(full.buffer), this.currentCount * 8, () => this.free.push(full));
    this.current = this.free.pop() ?? new Float64Array(WRITE_BUFFER_BYTES / 8);
    this.currentCount = 0;
  }
}

/** One run's part of a group of partitions: `pairs` hashes at byte `position` of the file. */
interface Slice {
  readonly position: number;
  readonly pairs: number;
}

/**
 * The row hashes (two 32-bit words each, as RowFacts holds them), spilled for the duplicate
 * count: rows equal to an earlier row = rows - distinct rows, pandas' `duplicated().sum()`.
 */
export class HashSpill {
  static async create(path: string, limits: SpillLimits = {}): Promise<HashSpill> {
    return new HashSpill(await SpillFile.create(path), limits.runHashes ?? RUN_HASHES, limits.groupLimit ?? GROUP_LIMIT);
  }

  /** Hashes written. */
  count = 0;
  private readonly run: Uint32Array;
  private runCount = 0;
  /** Per run: its byte position and where each of the 256 partitions starts (in hashes), plus the end. */
  private readonly runs: Array<{ position: number; starts: Int32Array }> = [];
  private readonly free: Uint32Array[] = [];
  /** For counting, allocated once: a set of a group's distinct hashes, a read block. */
  private counting: { table: HashSet; block: Uint32Array } | undefined;

  private constructor(private readonly file: SpillFile, private readonly runHashes: number, private readonly groupLimit: number) {
    this.run = new Uint32Array(runHashes * 2);
  }

  /** Adds `pairs` hashes from `words` (two words per hash). */
  add(words: Uint32Array, pairs: number): void {
    let done = 0;
    while (done < pairs) {
      const n = Math.min(pairs - done, this.runHashes - this.runCount);
      this.run.set(words.subarray(2 * done, 2 * (done + n)), 2 * this.runCount);
      this.runCount += n;
      done += n;
      if (this.runCount === this.runHashes) this.flushRun();
    }
    this.count += pairs;
  }

  drain(): Promise<void> {
    return this.file.drain();
  }

  /** Rows equal to an earlier row (call once, after the last add). */
  async countDuplicates(): Promise<number> {
    this.flushRun();
    await this.file.finish();
    const totals = new Float64Array(256);
    for (const run of this.runs) {
      for (let p = 0; p < 256; p++) totals[p] += run.starts[p + 1] - run.starts[p];
    }
    // Groups of consecutive partitions as small as the cache wants, as large as the largest partition needs.
    const groupHashes = Math.min(this.groupLimit, Math.max(CACHED_GROUP_HASHES, ...totals));
    let distinct = 0;
    let first = 0;
    while (first < 256) {
      // A group of consecutive partitions holding at most groupHashes hashes (or one larger one).
      let last = first;
      let total = totals[first];
      while (last + 1 < 256 && total + totals[last + 1] <= groupHashes) total += totals[++last];
      const slices = this.runs
        .map((run) => ({ position: run.position + run.starts[first] * 8, pairs: run.starts[last + 1] - run.starts[first] }))
        .filter((slice) => slice.pairs > 0);
      const filter: KeyFilter = { level: 0, digits: [], low: first << 8, high: ((last + 1) << 8) - 1 };
      if (total > 0) distinct += this.countDistinct(slices, filter, total, true);
      first = last + 1;
    }
    return this.count - distinct;
  }

  remove(): Promise<void> {
    return this.file.remove();
  }

  /** Distinct hashes among the `total` in `slices` that match `filter` (all of them when `whole`). */
  private countDistinct(slices: readonly Slice[], filter: KeyFilter, total: number, whole = false): number {
    if (total <= this.groupLimit) return this.distinctIn(slices, whole ? undefined : filter, total);
    if (filter.level === 4) return 1;
    // Too many to hold: split by the next digit (heavy duplication, or billions of rows).
    const counts = emptyHistogram();
    this.scan(slices, (words, pairs) => {
      for (let i = 0; i < pairs; i++) {
        const hi = words[2 * i + 1];
        const lo = words[2 * i];
        if (matches(filter, hi, lo)) counts[digitOf(hi, lo, filter.level)]++;
      }
    });
    let distinct = 0;
    let d = filter.low;
    while (d <= filter.high) {
      if (counts[d] > this.groupLimit) {
        distinct += this.countDistinct(slices, narrowed(filter, d), counts[d]);
        d++;
        continue;
      }
      let end = d;
      let sum = counts[d];
      while (end + 1 <= filter.high && counts[end + 1] <= this.groupLimit && sum + counts[end + 1] <= this.groupLimit) sum += counts[++end];
      if (sum > 0) distinct += this.distinctIn(slices, { ...filter, low: d, high: end }, sum);
      d = end + 1;
    }
    return distinct;
  }

  private buffers(): NonNullable<HashSpill['counting']> {
    return (this.counting ??= {
      table: new HashSet(this.groupLimit),
      block: new Uint32Array(READ_BLOCK_BYTES / 4),
    });
  }

  /** Distinct hashes in `slices` that match `filter` (all of them without one); there are `total` ≤ groupLimit. */
  private distinctIn(slices: readonly Slice[], filter: KeyFilter | undefined, total: number): number {
    const table = this.buffers().table;
    table.clear(total);
    if (filter === undefined) {
      // Whole partitions: every hash in the slices belongs.
      this.scan(slices, (words, pairs) => table.addAll(words, pairs));
      return table.size;
    }
    this.scan(slices, (words, pairs) => {
      for (let i = 0; i < pairs; i++) {
        const hi = words[2 * i + 1];
        const lo = words[2 * i];
        if (matches(filter, hi, lo)) table.add(lo, hi);
      }
    });
    return table.size;
  }

  private scan(slices: readonly Slice[], onBlock: (words: Uint32Array, pairs: number) => void): void {
    const block = this.buffers().block;
    const bytes = new Uint8Array(block.buffer);
    for (const slice of slices) {
      for (let done = 0; done < slice.pairs;) {
        const pairs = Math.min(slice.pairs - done, READ_BLOCK_BYTES / 8);
        this.file.readAt(bytes, pairs * 8, slice.position + done * 8);
        onBlock(block, pairs);
        done += pairs;
      }
    }
  }

  /** Writes the run partitioned by each hash's top 8 bits (a counting sort), and notes where the partitions start. */
  private flushRun(): void {
    const n = this.runCount;
    if (n === 0) return;
    const run = this.run;
    // Int32 counters (a run holds at most runHashes): float ones cost a conversion per hash.
    const starts = new Int32Array(257);
    for (let i = 0; i < n; i++) starts[(run[2 * i + 1] >>> 24) + 1]++;
    for (let p = 0; p < 256; p++) starts[p + 1] += starts[p];
    const next = starts.slice(0, 256);
    const out = this.free.pop() ?? new Uint32Array(this.runHashes * 2);
    for (let i = 0; i < n; i++) {
      const hi = run[2 * i + 1];
      const at = next[hi >>> 24]++;
      out[2 * at] = run[2 * i];
      out[2 * at + 1] = hi;
    }
    this.runs.push({ position: this.file.bytes, starts });
    this.file.write(new Uint8Array(out.buffer), n * 8, () => this.free.push(out));
    this.runCount = 0;
  }
}

/**
 * A set of 64-bit hashes (lo, hi words) by open addressing with linear probing, at most half
 * full: the hashes are uniformly random, so the low word is the slot. Sized once for the most
 * hashes counted at a time; {@link clear} uses only as much of it as the next group needs.
 */
class HashSet {
  /** Distinct hashes added since {@link clear}. */
  size = 0;
  private readonly slots: Uint32Array;
  private mask = 0;
  /** The all-zero hash marks an empty slot, so it is counted apart. */
  private hasZero = false;

  constructor(maxHashes: number) {
    this.slots = new Uint32Array(2 * slotsFor(maxHashes));
  }

  /** Empties the set, for at most `hashes` hashes. */
  clear(hashes: number): void {
    const slots = slotsFor(hashes);
    this.mask = slots - 1;
    this.slots.fill(0, 0, 2 * slots);
    this.size = 0;
    this.hasZero = false;
  }

  /** Adds the first `pairs` hashes of `words`. */
  addAll(words: Uint32Array, pairs: number): void {
    for (let i = 0; i < pairs; i++) this.add(words[2 * i], words[2 * i + 1]);
  }

  add(lo: number, hi: number): void {
    if ((lo | hi) === 0) {
      if (!this.hasZero) this.size++;
      this.hasZero = true;
      return;
    }
    const slots = this.slots;
    const mask = this.mask;
    for (let s = lo & mask; ; s = (s + 1) & mask) {
      const slotLo = slots[2 * s];
      const slotHi = slots[2 * s + 1];
      if ((slotLo | slotHi) === 0) {
        slots[2 * s] = lo;
        slots[2 * s + 1] = hi;
        this.size++;
        return;
      }
      if (slotLo === lo && slotHi === hi) return;
    }
  }
}

/** Slots for `hashes` hashes: a power of two, at least twice as many. */
function slotsFor(hashes: number): number {
  let slots = 2;
  while (slots < 2 * hashes) slots *= 2;
  return slots;
}
