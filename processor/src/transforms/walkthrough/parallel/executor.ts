/**
 * Where range tasks run: worker threads ({@link WorkerPool}), or the main thread itself when one
 * thread is asked for (InlineExecutor, inline.ts). Both run the same RangeWorker code, so the
 * outputs are the same bytes either way. Tasks and results are a few numbers plus transferred
 * ArrayBuffers (the range's bytes, the output bytes): no per-row messages, no copies.
 *
 * This module loads no processing code (passes.ts is imported for its types only), so the CLI
 * can start the worker threads before it loads the rest of the program.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SlotPlan, Slots } from './slots';
import { MAX_QUEUED_APPENDS } from '../csv/writer';
import type { PrepareResult, PrepareTask, RangeTask, RangeTaskResult, WriteResult, WriteTask } from '../passes';

/** Input bytes per range: enough to keep messages between threads rare, few enough to keep memory small. */
export const DEFAULT_RANGE_BYTES = 1024 * 1024;

export interface RangeExecutor {
  /** Threads that run tasks. */
  readonly threads: number;
  /** The buffers tasks read and write. */
  readonly slots: Slots;
  prepare(task: PrepareTask): Promise<PrepareResult>;
  write(task: WriteTask): Promise<WriteResult>;
  /** Starts a run: one at a time per executor. */
  beginRun(run: number): void;
  /** Ends a run: drops the threads' state for it (department ids, the open spool file). */
  endRun(run: number): void;
  close(): Promise<void>;
}

/**
 * Slots for `threads` threads on ranges of `rangeBytes`. Large ones (1.5 ranges: the spool is
 * about 10 % larger than its input, and cleaned and transformed smaller than the spool) for the
 * ranges in flight (a range's input and spool in pass 1, its cleaned and transformed outputs and
 * its Parquet pages in pass 2; a slot never written is never resident), the outputs queued to be written (MAX_QUEUED_APPENDS + 1 per output stream) and the
 * range being read ahead; small ones (a quarter range: 16 bytes per row for ages and salaries,
 * 28 for RowFacts) for each range in flight. Bytes that do not fit go in buffers of their own.
 */
export function slotPlan(threads: number, rangeBytes: number): SlotPlan {
  const inFlight = rangesInFlight(threads);
  return {
    large: 3 * inFlight + 2 * (MAX_QUEUED_APPENDS + 1) + 2,
    largeBytes: Math.ceil(rangeBytes * 1.5) + 65536,
    small: inFlight + 2,
    smallBytes: Math.ceil(rangeBytes / 4) + 4096,
  };
}

/** Ranges handed out ahead of the one being taken: each thread has one running and one waiting. */
export function rangesInFlight(threads: number): number {
  return 2 * threads + 1;
}

/** Keeps one run at a time on an executor (its slots are reset between runs). */
export class RunGuard {
  private current: number | undefined;

  begin(run: number, slots: Slots): void {
    if (this.current !== undefined) throw new Error(`run ${run} started while run ${this.current} still uses these threads`);
    this.current = run;
    slots.reset();
  }

  end(run: number): void {
    if (this.current === run) this.current = undefined;
  }
}

/** What the main thread sends a worker. */
export type ToWorker = { readonly id: number; readonly task: RangeTask } | { readonly endRun: number };

/** What a worker answers. */
export type FromWorker =
  | { readonly id: number; readonly result: RangeTaskResult }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string; readonly stack?: string } };

export interface WorkerData {
  readonly thread: number;
  readonly slots: readonly SharedArrayBuffer[];
}

/** Tasks queued on one worker at most: one running, one waiting, so it never waits for the main thread. */
const TASKS_PER_WORKER = 2;
/** A worker's young generation stays small, as NODE_FLAGS (processor/src/runtime/config.ts) keep the main thread's. */
const resourceLimits = { maxYoungGenerationSizeMb: 6 };
/** When the processor runs from its TypeScript sources (tests), workers compile them as the tests' child processes do. */
const TS_NODE_REGISTER = 'ts-node/register/transpile-only';

interface Job {
  readonly id: number;
  readonly task: RangeTask;
  readonly transfer: ArrayBuffer[];
  readonly resolve: (result: RangeTaskResult) => void;
  readonly reject: (error: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  /** Tasks sent and not answered yet. */
  readonly jobs: Map<number, Job>;
}

/** A fixed set of worker threads taking tasks from one queue, least busy first. */
export class WorkerPool implements RangeExecutor {
  readonly slots: Slots;
  private readonly workers: Thread[];
  private readonly queue: Job[] = [];
  private readonly guard = new RunGuard();
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;

  /** Starts `threads` worker threads for ranges of at most `rangeBytes`. */
  constructor(readonly threads: number, readonly rangeBytes: number) {
    this.slots = new Slots(slotPlan(threads, rangeBytes), true);
    this.workers = Array.from({ length: threads }, (_, thread) => this.startThread(thread));
  }

  prepare(task: PrepareTask): Promise<PrepareResult> {
    return this.submit(task, task.input.own ? [task.input.own] : []) as Promise<PrepareResult>;
  }

  write(task: WriteTask): Promise<WriteResult> {
    return this.submit(task, []) as Promise<WriteResult>;
  }

  beginRun(run: number): void {
    this.guard.begin(run, this.slots);
  }

  endRun(run: number): void {
    this.guard.end(run);
    if (this.failure !== undefined) return;
    for (const thread of this.workers) thread.worker.postMessage({ endRun: run } satisfies ToWorker);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new Error('the worker threads were stopped'));
    await Promise.all(this.workers.map((thread) => thread.worker.terminate()));
  }

  private submit(task: RangeTask, transfer: ArrayBuffer[]): Promise<RangeTaskResult> {
    return new Promise((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(this.failure);
        return;
      }
      this.queue.push({ id: this.nextId++, task, transfer, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let idlest: Thread | undefined;
      for (const candidate of this.workers) {
        if (candidate.jobs.size < TASKS_PER_WORKER && (idlest === undefined || candidate.jobs.size < idlest.jobs.size)) idlest = candidate;
      }
      if (idlest === undefined) return;
      const job = this.queue.shift()!;
      idlest.jobs.set(job.id, job);
      idlest.worker.postMessage({ id: job.id, task: job.task } satisfies ToWorker, job.transfer);
    }
  }

  private startThread(thread: number): Thread {
    const workerData: WorkerData = { thread, slots: this.slots.buffers as SharedArrayBuffer[] };
    const worker = __filename.endsWith('.ts')
      ? new Worker(`require(${JSON.stringify(require.resolve(TS_NODE_REGISTER))});require(${JSON.stringify(join(__dirname, 'worker.ts'))});`, {
        eval: true,
        workerData,
        resourceLimits,
      })
      : new Worker(join(__dirname, 'worker.js'), { workerData, resourceLimits });
    const state: Thread = { worker, jobs: new Map() };
    worker.on('message', (message: FromWorker) => {
      const job = state.jobs.get(message.id);
      if (job === undefined) return;
      state.jobs.delete(message.id);
      if ('error' in message) {
        const error = new Error(`worker thread ${thread}: ${message.error.message}`);
        error.stack = `${error.message}\n${message.error.stack ?? ''}`;
        job.reject(error);
      } else {
        job.resolve(message.result);
      }
      this.pump();
    });
    worker.on('error', (error) => this.fail(new Error(`worker thread ${thread} failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`worker thread ${thread} exited unexpectedly (code ${code})`));
    });
    return state;
  }

  /** Rejects every queued and running task; the pool takes no more. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const job of this.queue.splice(0)) job.reject(this.failure);
    for (const thread of this.workers ?? []) {
      for (const job of thread.jobs.values()) job.reject(this.failure);
      thread.jobs.clear();
    }
  }
}
