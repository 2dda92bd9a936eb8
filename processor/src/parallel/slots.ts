/**
 * Fixed buffers shared by the main thread and the worker threads, referred to by index.
 *
 * Input ranges and a worker's outputs live in these slots: allocated once, handed between threads
 * as a number, never copied or transferred, never freed while the executor lives. So memory is
 * the slots' total whatever the input size, and no buffer churn reaches the garbage collector or
 * the allocator (buffers moved between threads and freed elsewhere made glibc's per-thread arenas
 * keep tens of megabytes). Bytes that do not fit a slot (a record longer than a range, an
 * unusually large output) travel in a buffer of their own instead: see {@link Block}.
 */

/** Bytes handed between threads: `length` bytes in slot `slot`, or in `own` when given. */
export interface Block {
  /** The slot the block holds (-1: none); its owner releases it when done with the block. */
  readonly slot: number;
  /** A buffer of its own (transferred), when the bytes did not fit the slot. */
  readonly own?: ArrayBuffer;
  readonly length: number;
}

export class Slots {
  readonly buffers: readonly ArrayBufferLike[];
  private readonly free: number[];
  private readonly waiting: Array<(slot: number) => void> = [];

  /**
   * @param shared SharedArrayBuffers (for worker threads) or plain ones (one thread)
   */
  constructor(count: number, readonly bytes: number, shared: boolean) {
    this.buffers = Array.from({ length: count }, () => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)));
    this.free = this.buffers.map((_, i) => count - 1 - i);
  }

  /** A free slot, waiting for one when all are in use. */
  acquire(): Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * Marks every slot free, for the next run (slots a failed run still held are not given back one
   * by one). Only between runs: an executor serves one run at a time.
   */
  reset(): void {
    this.free.length = 0;
    for (let i = this.buffers.length - 1; i >= 0; i--) this.free.push(i);
  }

  release(slot: number): void {
    if (slot < 0) return;
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }

  /** A block's bytes. */
  bytesOf(block: Block): Buffer {
    return blockBytes(this.buffers, block);
  }
}

/** A block's bytes, given the slots' buffers as a thread sees them. */
export function blockBytes(buffers: readonly ArrayBufferLike[], block: Block): Buffer {
  return Buffer.from(block.own ?? buffers[block.slot], 0, block.length);
}
