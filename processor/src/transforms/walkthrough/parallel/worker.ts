/** A worker thread's entry point: runs the range tasks WorkerPool sends (see executor.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerData } from './executor';
import { errorFields } from '../../../runtime/errors';
import { RangeWorker } from '../passes';

const { thread, slots } = workerData as WorkerData;
const rangeWorker = new RangeWorker(thread, slots);
const port = parentPort!;

port.on('message', (message: ToWorker) => {
  if ('endRun' in message) {
    rangeWorker.end(message.endRun);
    return;
  }
  try {
    const { result, transfer } = rangeWorker.run(message.task);
    port.postMessage({ id: message.id, result } satisfies FromWorker, transfer);
  } catch (error) {
    const { name, message: text } = errorFields(error);
    const stack = error instanceof Error ? error.stack : undefined;
    port.postMessage({ id: message.id, error: { name, message: text, stack } } satisfies FromWorker);
  }
});
