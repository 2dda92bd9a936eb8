/**
 * Counts rows equal to an earlier row without keeping the rows: each row's bytes are reduced to a
 * 64-bit hash (see {@link hashRow}) stored in an open-addressing
 * table of typed arrays, 8 bytes per slot at most half full. A false "duplicate" needs a 64-bit
 * collision: for 2,000,000 distinct rows the chance is about n²/2⁶⁵ ≈ 1e-7.
 */
export class DuplicateCounter {
  private keysLow: Int32Array;
  private keysHigh: Int32Array;
  private mask: number;
  private used = 0;
  /** Rows seen before (the count pandas' `duplicated().sum()` gives). */
  duplicates = 0;

  /** `expectedRows` sizes the table once (pass 1 knows it), avoiding rehashing. */
  constructor(expectedRows: number) {
    const capacity = nextPowerOfTwo(Math.max(16, expectedRows * 2));
    this.keysLow = new Int32Array(capacity);
    this.keysHigh = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Records the row `buf[start, end)`; returns true when an equal row was recorded before. */
  add(buf: Uint8Array, start: number, end: number): boolean {
    hashRow(buf, start, end);
    let low = rowHash[0];
    const high = rowHash[1];
    if (low === 0 && high === 0) low = 1; // (0, 0) marks an empty slot
    if (this.used * 2 >= this.keysLow.length) this.grow();
    if (this.insert(low, high)) return false;
    this.duplicates++;
    return true;
  }

  /** Bytes held, for the memory report. */
  get capacityBytes(): number {
    return this.keysLow.byteLength + this.keysHigh.byteLength;
  }

  /** Inserts the key; false when it was already present. */
  private insert(low: number, high: number): boolean {
    const keysLow = this.keysLow;
    const keysHigh = this.keysHigh;
    let slot = (low ^ high) & this.mask;
    for (;;) {
      const l = keysLow[slot];
      const h = keysHigh[slot];
      if (l === 0 && h === 0) {
        keysLow[slot] = low;
        keysHigh[slot] = high;
        this.used++;
        return true;
      }
      if (l === low && h === high) return false;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const oldLow = this.keysLow;
    const oldHigh = this.keysHigh;
    this.keysLow = new Int32Array(oldLow.length * 2);
    this.keysHigh = new Int32Array(oldHigh.length * 2);
    this.mask = this.keysLow.length - 1;
    this.used = 0;
    for (let i = 0; i < oldLow.length; i++) {
      if (oldLow[i] !== 0 || oldHigh[i] !== 0) this.insert(oldLow[i], oldHigh[i]);
    }
  }
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

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
    let k = Math.imul(block, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h1 ^= Math.imul(k, 0x1b873593);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 = (h2 + Math.imul(block, 0x85ebca77)) | 0;
    h2 = Math.imul((h2 << 13) | (h2 >>> 19), 0x9e3779b1);
  }
  let tail = 0;
  for (let i = end - 1; i >= blocksEnd; i--) tail = (tail << 8) | buf[i];
  if ((length & 3) !== 0) {
    let k = Math.imul(tail, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h1 ^= Math.imul(k, 0x1b873593);
    h2 = (h2 + Math.imul(tail, 0xc2b2ae3d)) | 0;
    h2 = Math.imul((h2 << 17) | (h2 >>> 15), 0x27d4eb2f);
  }
  rowHash[0] = fmix32(h1 ^ length);
  rowHash[1] = fmix32(h2 ^ Math.imul(length, 0x9e3779b1));
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
