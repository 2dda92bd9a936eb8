/** The executor for one thread: range tasks run on the calling (main) thread. */
import { RangeExecutor, RunGuard, slotPlan } from './executor';
import { Slots } from './slots';
import { PrepareResult, PrepareTask, RangeWorker, WriteResult, WriteTask } from '../passes';

/** Runs tasks on the calling thread, at once. */
export class InlineExecutor implements RangeExecutor {
  readonly threads = 1;
  readonly slots: Slots;
  private readonly worker: RangeWorker;
  private readonly guard = new RunGuard();

  constructor(rangeBytes: number) {
    this.slots = new Slots(slotPlan(1, rangeBytes), false);
    this.worker = new RangeWorker(0, this.slots.buffers);
  }

  prepare(task: PrepareTask): Promise<PrepareResult> {
    return new Promise((resolve) => resolve(this.worker.prepare(task)));
  }

  write(task: WriteTask): Promise<WriteResult> {
    return new Promise((resolve) => resolve(this.worker.write(task)));
  }

  beginRun(run: number): void {
    this.guard.begin(run, this.slots);
  }

  endRun(run: number): void {
    this.worker.end(run);
    this.guard.end(run);
  }

  async close(): Promise<void> {}
}
