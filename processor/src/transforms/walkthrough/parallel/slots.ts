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

/** How many slots of each size, and their sizes. */
export interface SlotPlan {
  /** Slots for a range's input and its larger outputs (spool, cleaned_data, transformed_data). */
  readonly large: number;
  readonly largeBytes: number;
  /** Slots for a range's per-row values (ages and salaries, pass 2's RowFacts). */
  readonly small: number;
  readonly smallBytes: number;
}

export class Slots {
  /** The large slots first, then the small ones. */
  readonly buffers: readonly ArrayBufferLike[];
  private readonly free: [number[], number[]] = [[], []];
  private readonly waiting: [Array<(slot: number) => void>, Array<(slot: number) => void>] = [[], []];

  /**
   * @param shared SharedArrayBuffers (for worker threads) or plain ones (one thread)
   */
  constructor(readonly plan: SlotPlan, shared: boolean) {
    const allocate = (bytes: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    this.buffers = [
      ...Array.from({ length: plan.large }, () => allocate(plan.largeBytes)),
      ...Array.from({ length: plan.small }, () => allocate(plan.smallBytes)),
    ];
    this.reset();
  }

  /** Size of a large slot. */
  get bytes(): number {
    return this.plan.largeBytes;
  }

  /** A free slot, waiting for one when all of that size are in use. */
  acquire(small = false): Promise<number> {
    const size = small ? 1 : 0;
    const slot = this.free[size].pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting[size].push(resolve));
  }

  /**
   * Marks every slot free, for the next run (slots a failed run still held are not given back one
   * by one). Only between runs: an executor serves one run at a time.
   */
  reset(): void {
    const { large, small } = this.plan;
    this.free[0] = Array.from({ length: large }, (_, i) => large - 1 - i);
    this.free[1] = Array.from({ length: small }, (_, i) => large + small - 1 - i);
  }

  release(slot: number): void {
    if (slot < 0) return;
    const size = slot < this.plan.large ? 0 : 1;
    const next = this.waiting[size].shift();
    if (next) next(slot);
    else this.free[size].push(slot);
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
