/**
 * The walkthrough transform: the pandas script of the walkthrough (SPEC §5), streaming, on worker
 * threads (engine.ts). This module is light: it loads the engine on first run, so that the worker
 * threads warmUp starts boot while the engine's modules load.
 */
import type { EngineOptions } from './engine';
import { DEFAULT_RANGE_BYTES, WorkerPool } from './parallel/executor';
import { defaultThreadCount } from './parallel/threads';
import type { Transform, TransformOptions, TransformRequest, TransformResult } from '../../runtime/transform';

export { walkthroughFileNames } from './names';
export type { EngineOptions as WalkthroughOptions, QualityMetrics } from './engine';

export class WalkthroughTransform implements Transform {
  private startedPool: WorkerPool | undefined;

  constructor(private readonly options: EngineOptions = {}) {
    this.startedPool = options.startedPool;
  }

  /** Starts the worker threads a run of more than one thread would start (the CLI does, first thing). */
  warmUp(options: TransformOptions): void {
    const threads = options.threads ?? defaultThreadCount();
    if (this.startedPool === undefined && this.options.executor === undefined && threads > 1) {
      this.startedPool = new WorkerPool(threads, this.options.rangeBytes ?? DEFAULT_RANGE_BYTES);
    }
  }

  run(request: TransformRequest): Promise<TransformResult> {
    return engineModule().runWalkthrough(request, { ...this.options, startedPool: this.startedPool });
  }

  /** Stops threads started ahead that no run took (a run stops the ones it uses itself; twice does no harm). */
  async close(): Promise<void> {
    await this.startedPool?.close().catch(() => undefined);
  }
}

/** The engine and everything it processes with (about 10 ms of modules), loaded on first use. */
function engineModule(): typeof import('./engine') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./engine');
}
