/**
 * The row hash behind the duplicate count: each transformed_data row's bytes reduced to 64 bits
 * (see {@link hashRow}). spill.ts counts the distinct hashes: duplicates = rows - distinct rows,
 * which is pandas' `duplicated().sum()`. A false "duplicate" needs a 64-bit collision: for
 * 10,000,000 distinct rows the chance is about n^2 / 2^65, 3e-6.
 */

/**
 * Read once: through a property lookup on `Math` every call, V8 does not inline it when the code
 * runs in a vm context (as under jest), which made hashing two hundred times slower there.
 */
const imul = Math.imul;

/** The 64-bit row hash: lane 0 is MurmurHash3 (x86, 32-bit), lane 1 an xxHash32-style lane. */
export const rowHash = new Int32Array(2);

/**
 * Hashes bytes [start, end) of `bytes` into {@link rowHash}. The lanes mix each 4-byte block
 * (read little-endian through the DataView, a quarter of the loads of a byte-wise read) with
 * different functions, so a pair of inputs built to collide in one (MurmurHash3 has
 * seed-independent collisions) does not collide in the other.
 */
export function hashRow(bytes: DataView, start: number, end: number): void {
  let h1 = 0x9747b28c | 0;
  let h2 = 0x165667b1 | 0;
  const length = end - start;
  const blocksEnd = start + (length & ~3);
  for (let i = start; i < blocksEnd; i += 4) {
    const block = bytes.getInt32(i, true);
    let k = imul(block, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h1 ^= imul(k, 0x1b873593);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (imul(h1, 5) + 0xe6546b64) | 0;
    h2 = (h2 + imul(block, 0x85ebca77)) | 0;
    h2 = imul((h2 << 13) | (h2 >>> 19), 0x9e3779b1);
  }
  let tail = 0;
  for (let i = end - 1; i >= blocksEnd; i--) tail = (tail << 8) | bytes.getUint8(i);
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
