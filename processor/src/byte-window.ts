/**
 * A growable byte buffer for chunked record streams: what is left of the previous chunk (an
 * unfinished record) followed by the next chunk, so that a record never straddles two buffers.
 * Memory stays bounded by the largest record plus one chunk.
 */
export class ByteWindow {
  /** The bytes; those from `pos` to `length` are not consumed yet. Replaced when it grows. */
  buffer: Buffer;
  /** End of the valid bytes. */
  length = 0;
  /** Start of the first byte not consumed yet; callers advance it as they consume records. */
  pos = 0;

  constructor(initialBytes: number) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Drops the consumed bytes, then appends `chunk`. Returns true when `buffer` was replaced by a larger one. */
  append(chunk: Buffer): boolean {
    if (this.pos > 0) {
      this.buffer.copy(this.buffer, 0, this.pos, this.length);
      this.length -= this.pos;
      this.pos = 0;
    }
    let grown = false;
    if (this.length + chunk.length > this.buffer.length) {
      const larger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + chunk.length));
      this.buffer.copy(larger, 0, 0, this.length);
      this.buffer = larger;
      grown = true;
    }
    chunk.copy(this.buffer, this.length);
    this.length += chunk.length;
    return grown;
  }
}
