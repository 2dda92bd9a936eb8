/** An input read front to back. Implementations may read ahead (an S3 object as parallel ranged GETs). */
export interface ByteSource {
  /** Reads up to `length` bytes into `buf` at `offset`; resolves 0 at the end of the input. */
  read(buf: Uint8Array, offset: number, length: number): Promise<number>;
  /**
   * Optional: writes the whole input to a new file at `path`, instead of reading it (an S3 object
   * writes its parallel ranged GETs at their offsets, holding no part in memory).
   */
  saveTo?(path: string): Promise<void>;
  /** Stops reading ahead and releases what the source holds (after the end or a failure). */
  close(): Promise<void>;
}

