/**
 * Counts rows equal to an earlier row without keeping the rows: each row's bytes are reduced to a
 * 64-bit hash (see {@link hashRow}), appended to a typed array (8 bytes per row; pass 1 knows the
 * row count, so the array is allocated once). At the end the hashes are sorted natively and equal
 * neighbours counted: duplicates = rows - distinct rows, which is pandas' `duplicated().sum()`.
 * Appending is sequential, unlike probing a hash table that does not fit in the CPU caches.
 * A false "duplicate" needs a 64-bit collision: for 2,000,000 distinct rows the chance is about
 * n^2 / 2^65, 1e-7.
 */
export class DuplicateCounter {
  private words: Uint32Array;
  private count = 0;

  constructor(expectedRows: number) {
    this.words = new Uint32Array(Math.max(1, expectedRows) * 2);
  }

  /** Records the row `buf[start, end)`. */
  add(buf: Uint8Array, start: number, end: number): void {
    if (2 * this.count === this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    hashRow(buf, start, end);
    this.words[2 * this.count] = rowHash[0];
    this.words[2 * this.count + 1] = rowHash[1];
    this.count++;
  }

  /** Rows equal to an earlier row. Sorts the recorded hashes (call once, at the end). */
  countDuplicates(): number {
    const keys = new BigUint64Array(this.words.buffer, 0, this.count);
    keys.sort();
    const words = this.words;
    let duplicates = 0;
    for (let i = 1; i < this.count; i++) {
      if (words[2 * i] === words[2 * i - 2] && words[2 * i + 1] === words[2 * i - 1]) duplicates++;
    }
    return duplicates;
  }

  /** Bytes held, for the memory report. */
  get capacityBytes(): number {
    return this.words.byteLength;
  }
}

/**
 * Read once: through a property lookup on `Math` every call, V8 does not inline it when the code
 * runs in a vm context (as under jest), which made hashing two hundred times slower there.
 */
const imul = Math.imul;

/** The 64-bit row hash: lane 0 is MurmurHash3 (x86, 32-bit), lane 1 an xxHash32-style lane. */
export const rowHash = new Int32Array(2);

/**
 * Hashes `buf[start, end)` into {@link rowHash}. The lanes mix each 4-byte block with different
 * functions, so a pair of inputs built to collide in one (MurmurHash3 has seed-independent
 * collisions) does not collide in the other.
 */
export function hashRow(buf: Uint8Array, start: number, end: number): void {
  let h1 = 0x9747b28c | 0;
  let h2 = 0x165667b1 | 0;
  const length = end - start;
  const blocksEnd = start + (length & ~3);
  for (let i = start; i < blocksEnd; i += 4) {
    const block = buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    let k = imul(block, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h1 ^= imul(k, 0x1b873593);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (imul(h1, 5) + 0xe6546b64) | 0;
    h2 = (h2 + imul(block, 0x85ebca77)) | 0;
    h2 = imul((h2 << 13) | (h2 >>> 19), 0x9e3779b1);
  }
  let tail = 0;
  for (let i = end - 1; i >= blocksEnd; i--) tail = (tail << 8) | buf[i];
  if ((length & 3) !== 0) {
    let k = imul(tail, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h1 ^= imul(k, 0x1b873593);
    h2 = (h2 + imul(tail, 0xc2b2ae3d)) | 0;
    h2 = imul((h2 << 17) | (h2 >>> 15), 0x27d4eb2f);
  }
  rowHash[0] = fmix32(h1 ^ length);
  rowHash[1] = fmix32(h2 ^ imul(length, 0x9e3779b1));
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
