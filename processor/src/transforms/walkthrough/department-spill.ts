/**
 * The department means when the departments are too many to keep in memory (more than a thread
 * numbers, stats.ts DEPARTMENT_IDS_LIMIT), spilled to the scratch directory as the median inputs
 * and the row hashes are (spill.ts), so memory stays flat whatever the number of departments.
 *
 * Each row's department, salary and age are added in row order. A run of them (RUN_BYTES) is
 * sorted by department, stably, and written; reading merges the runs, ties going to the earlier
 * run. So the departments come out in code point order (the order of their UTF-8 bytes, as
 * pandas' groupby sorts them) and each department's rows in row order, which the compensated
 * means need to give pandas' digits (compensated sums are not associative).
 *
 * Memory: a run buffer, its sorted copy being written, and a read block per run while merging
 * (MERGE_BYTES shared, at least MIN_BLOCK_BYTES each). Past MERGE_FAN_IN runs the blocks would
 * pass MERGE_BYTES, so groups of MERGE_FAN_IN consecutive runs are first merged into longer runs
 * appended to the same file (a multi-level merge; consecutive groups keep ties in row order), until
 * at most MERGE_FAN_IN runs are left.
 */
import { SpillFile } from './spill';
import { CompensatedMean } from './stats';

/** Bytes of rows sorted in memory at once (about 120,000 rows of seed-shaped departments). */
const RUN_BYTES = 4 << 20;
/** Read blocks of all runs together while merging. */
const MERGE_BYTES = 16 << 20;
const MIN_BLOCK_BYTES = 64 << 10;
/** Runs merged at once: MERGE_BYTES / MIN_BLOCK_BYTES, so the read blocks stay within MERGE_BYTES. */
export const MERGE_FAN_IN = MERGE_BYTES / MIN_BLOCK_BYTES;
/** A record: the key's length (uint32), salary and age (float64), then the key's bytes. */
const KEY_LENGTH = 0;
const SALARY = 4;
const AGE = 12;
const KEY = 20;

/** Called per department, in order: its bytes are `key[start, end)`, valid during the call only. */
export type DepartmentHandler = (key: Buffer, start: number, end: number, averageSalary: number, averageAge: number) => void;

export class DepartmentSpill {
  static async create(path: string, runBytes = RUN_BYTES, fanIn = MERGE_FAN_IN): Promise<DepartmentSpill> {
    return new DepartmentSpill(await SpillFile.create(path), runBytes, Math.max(2, fanIn));
  }

  /** Rows added. */
  rows = 0;
  private run: Buffer;
  private used = 0;
  /** Per record of the run: where it starts, and its key's first eight bytes as two big-endian words (zero-padded). */
  private starts: Int32Array;
  private high: Uint32Array;
  private low: Uint32Array;
  private records = 0;
  private readonly spare: Buffer[] = [];
  private runs: SpilledRun[] = [];
  /** Merge passes done before the final merge (0 when the runs fit one merge); for tests and the memory report. */
  mergePasses = 0;

  private constructor(private readonly file: SpillFile, private readonly runBytes: number, private readonly fanIn: number) {
    this.run = Buffer.allocUnsafe(runBytes);
    const capacity = Math.ceil(runBytes / KEY);
    this.starts = new Int32Array(capacity);
    this.high = new Uint32Array(capacity);
    this.low = new Uint32Array(capacity);
  }

  /** Adds a row whose department is `key[start, end)`. */
  add(key: Uint8Array, start: number, end: number, salary: number, age: number): void {
    const length = end - start;
    if (this.used + KEY + length > this.run.length) {
      this.flushRun();
      if (KEY + length > this.run.length) this.run = Buffer.allocUnsafe(KEY + length); // one huge department
    }
    const run = this.run;
    const at = this.used;
    run.writeUInt32LE(length, at + KEY_LENGTH);
    run.writeDoubleLE(salary, at + SALARY);
    run.writeDoubleLE(age, at + AGE);
    for (let k = 0; k < length; k++) run[at + KEY + k] = key[start + k];
    if (this.records === this.starts.length) this.growIndex();
    const r = this.records++;
    this.starts[r] = at;
    this.high[r] = prefixWord(key, start, end, 0);
    this.low[r] = prefixWord(key, start, end, 4);
    this.used = at + KEY + length;
    this.rows++;
  }

  /** Backpressure: waits while runs are being written. */
  drain(): Promise<void> {
    return this.file.drain();
  }

  /**
   * Calls `onDepartment` for each department in order with its means; `pause` every few thousand
   * departments (the caller's backpressure). Returns the number of departments. Call once, after
   * the last add.
   */
  async forEachDepartment(onDepartment: DepartmentHandler, pause: () => Promise<void>): Promise<number> {
    this.flushRun();
    await this.file.finish();
    await this.mergeDownToFanIn();
    const blockBytes = Math.max(MIN_BLOCK_BYTES, Math.floor(MERGE_BYTES / Math.max(1, this.runs.length)));
    const readers = this.runs.map((r, index) => new RunReader(this.file, r.position, r.bytes, blockBytes, index));
    const heap = new ReaderHeap(readers.filter((r) => r.at >= 0));
    let group = Buffer.allocUnsafe(256);
    let groupLength = -1;
    let salary = new CompensatedMean();
    let age = new CompensatedMean();
    let departments = 0;
    for (let reader = heap.top(); reader !== undefined; reader = heap.top()) {
      const buf = reader.buf;
      const at = reader.at;
      const length = buf.readUInt32LE(at + KEY_LENGTH);
      if (groupLength !== length || buf.compare(group, 0, length, at + KEY, at + KEY + length) !== 0) {
        if (groupLength >= 0) {
          onDepartment(group, 0, groupLength, salary.value(), age.value());
          if (++departments % 4096 === 0) await pause();
          salary = new CompensatedMean();
          age = new CompensatedMean();
        }
        if (group.length < length) group = Buffer.allocUnsafe(Math.max(length, 2 * group.length));
        buf.copy(group, 0, at + KEY, at + KEY + length);
        groupLength = length;
      }
      salary.add(buf.readDoubleLE(at + SALARY));
      age.add(buf.readDoubleLE(at + AGE));
      reader.next();
      heap.update();
    }
    if (groupLength >= 0) {
      onDepartment(group, 0, groupLength, salary.value(), age.value());
      departments++;
    }
    return departments;
  }

  remove(): Promise<void> {
    return this.file.remove();
  }

  /** Merges groups of `fanIn` consecutive runs into one each, until at most `fanIn` runs are left. */
  private async mergeDownToFanIn(): Promise<void> {
    while (this.runs.length > this.fanIn) {
      const merged: SpilledRun[] = [];
      for (let first = 0; first < this.runs.length; first += this.fanIn) {
        const group = this.runs.slice(first, first + this.fanIn);
        merged.push(group.length === 1 ? group[0] : await this.mergeRuns(group));
      }
      this.runs = merged;
      this.mergePasses++;
    }
  }

  /** Merges runs (in row order) into one run appended to the file: by department, ties to the earlier run. */
  private async mergeRuns(group: readonly SpilledRun[]): Promise<SpilledRun> {
    const blockBytes = Math.max(MIN_BLOCK_BYTES, Math.floor(MERGE_BYTES / (group.length + 1)));
    const heap = new ReaderHeap(group.map((r, index) => new RunReader(this.file, r.position, r.bytes, blockBytes, index)).filter((r) => r.at >= 0));
    const position = this.file.bytes;
    let out = Buffer.allocUnsafe(blockBytes);
    let used = 0;
    const flush = async (): Promise<void> => {
      if (used === 0) return;
      this.file.write(out, used, () => undefined);
      out = Buffer.allocUnsafe(out.length);
      used = 0;
      await this.file.drain();
    };
    for (let reader = heap.top(); reader !== undefined; reader = heap.top()) {
      const size = KEY + reader.buf.readUInt32LE(reader.at + KEY_LENGTH);
      if (used + size > out.length) {
        await flush();
        if (size > out.length) out = Buffer.allocUnsafe(size); // one huge department
      }
      reader.buf.copy(out, used, reader.at, reader.at + size);
      used += size;
      reader.next();
      heap.update();
    }
    await flush();
    await this.file.finish();
    return { position, bytes: this.file.bytes - position };
  }

  /** More records than the run's size promised (a run grown for one huge department holds more small ones). */
  private growIndex(): void {
    const capacity = 2 * this.starts.length;
    const grow = <T extends Int32Array | Uint32Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.starts = grow(this.starts, new Int32Array(capacity));
    this.high = grow(this.high, new Uint32Array(capacity));
    this.low = grow(this.low, new Uint32Array(capacity));
  }

  /** Sorts the run by department (stably: ties by row) and queues it to be written. */
  private flushRun(): void {
    const n = this.records;
    if (n === 0) return;
    const { run, starts, high, low } = this;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => {
      if (high[a] !== high[b]) return high[a] < high[b] ? -1 : 1;
      if (low[a] !== low[b]) return low[a] < low[b] ? -1 : 1;
      return compareKeys(run, starts[a], run, starts[b]) || a - b;
    });
    const out = this.spare.pop() ?? Buffer.allocUnsafe(this.runBytes);
    const sorted = out.length >= this.used ? out : Buffer.allocUnsafe(this.used);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const at = starts[order[i]];
      const size = KEY + run.readUInt32LE(at + KEY_LENGTH);
      run.copy(sorted, p, at, at + size);
      p += size;
    }
    this.runs.push({ position: this.file.bytes, bytes: p });
    this.file.write(sorted, p, () => {
      if (sorted.length === this.runBytes) this.spare.push(sorted);
    });
    this.records = 0;
    this.used = 0;
  }
}

/** Bytes [offset, offset + 4) of the key as a big-endian word, zeros past its end (so words compare as the bytes do). */
function prefixWord(key: Uint8Array, start: number, end: number, offset: number): number {
  let word = 0;
  for (let k = 0; k < 4; k++) {
    const at = start + offset + k;
    word = word * 256 + (at < end ? key[at] : 0);
  }
  return word;
}

/** Byte order of the keys of the records at `a` in `bufA` and `b` in `bufB` (a shorter key first on a common prefix). */
function compareKeys(bufA: Buffer, a: number, bufB: Buffer, b: number): number {
  const lengthA = bufA.readUInt32LE(a + KEY_LENGTH);
  const lengthB = bufB.readUInt32LE(b + KEY_LENGTH);
  const n = Math.min(lengthA, lengthB);
  for (let k = 0; k < n; k++) {
    const d = bufA[a + KEY + k] - bufB[b + KEY + k];
    if (d !== 0) return d;
  }
  return lengthA - lengthB;
}

/** Reads one sorted run a block at a time; {@link at} is the current record's offset in {@link buf}, -1 at the end. */
/** A sorted run's place in the spill file. */
interface SpilledRun {
  readonly position: number;
  readonly bytes: number;
}

class RunReader {
  buf: Buffer;
  at = -1;
  private filled = 0;
  private nextAt = 0;
  private position: number;
  private readonly end: number;

  /** `index`: the run's place in row order (ties go to the earlier run). */
  constructor(private readonly file: SpillFile, position: number, bytes: number, blockBytes: number, readonly index: number) {
    this.buf = Buffer.allocUnsafe(Math.min(blockBytes, Math.max(bytes, KEY)));
    this.position = position;
    this.end = position + bytes;
    this.load(0);
  }

  next(): void {
    this.load(this.nextAt);
  }

  /** Makes the record at `offset` of the buffer whole in it (reading more as needed), or sets at = -1 past the run's end. */
  private load(offset: number): void {
    const haveHeader = this.filled - offset >= KEY;
    const size = haveHeader ? KEY + this.buf.readUInt32LE(offset + KEY_LENGTH) : KEY;
    if (this.filled - offset < size) {
      if (this.position === this.end && this.filled === offset) {
        this.at = -1;
        return;
      }
      this.refill(offset, size);
      if (this.filled < KEY) throw new Error('the department spill ends inside a record');
      return this.load(0);
    }
    this.at = offset;
    this.nextAt = offset + size;
  }

  /** Moves bytes [offset, filled) to the front and reads after them, at least `size` bytes in all. */
  private refill(offset: number, size: number): void {
    const left = this.filled - offset;
    if (this.buf.length < size) {
      const grown = Buffer.allocUnsafe(Math.max(size, 2 * this.buf.length));
      this.buf.copy(grown, 0, offset, this.filled);
      this.buf = grown;
    } else {
      this.buf.copy(this.buf, 0, offset, this.filled);
    }
    const length = Math.min(this.buf.length - left, this.end - this.position);
    if (length <= 0) throw new Error('the department spill ends inside a record');
    this.file.readAt(this.buf.subarray(left), length, this.position);
    this.position += length;
    this.filled = left + length;
  }
}

/** A binary min-heap of run readers by their current key, the earlier run first on a tie. */
class ReaderHeap {
  private readonly items: RunReader[];

  constructor(readers: RunReader[]) {
    this.items = [...readers];
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  top(): RunReader | undefined {
    return this.items[0];
  }

  /** After the top reader moved on: drops it at its end, else puts it where it now belongs. */
  update(): void {
    const items = this.items;
    if (items[0].at < 0) {
      const last = items.pop()!;
      if (items.length === 0) return;
      items[0] = last;
    }
    this.siftDown(0);
  }

  private less(x: RunReader, y: RunReader): boolean {
    const c = compareKeys(x.buf, x.at, y.buf, y.at);
    return c < 0 || (c === 0 && x.index < y.index);
  }

  private siftDown(i: number): void {
    const items = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < items.length && this.less(items[l], items[smallest])) smallest = l;
      if (r < items.length && this.less(items[r], items[smallest])) smallest = r;
      if (smallest === i) return;
      [items[i], items[smallest]] = [items[smallest], items[i]];
      i = smallest;
    }
  }
}
