#!/usr/bin/env node
/**
 * Command-line entry point: the package's `cdk-mlops-eks-preprocess` bin, the image's ENTRYPOINT,
 * and what `npm run preprocess` runs (scripts/preprocess.js). A thin wrapper around runPipeline
 * (one input) or runQueueJob (queue mode, one SQS message) that maps the outcome to the exit
 * code: 0 done, 2 bad input, 1 other failure, 143 stopped by SIGTERM.
 */
import { CliConfig, parseConfig, runIdFor, USAGE } from './config';
import { BadInputError, EXIT_OK, EXIT_TERMINATED, describeError, exitCodeFor } from './errors';
import { queueModule, runModule } from './io/lazy';
import { Logger, createLogger } from './log';
import { MetricsConfig, RunRecorder, metricsConfigFromEnv, publishRunMetrics } from './metrics';
import type { Transform } from './transform';
import { CommandTransform } from '../transforms/command';
import { WalkthroughTransform } from '../transforms/walkthrough';

export interface MainOptions {
  /** Stops the run (the process wires SIGTERM and SIGINT to it). */
  readonly signal?: AbortSignal;
  /** Log line sink; default stderr. */
  readonly write?: (line: string) => void;
  /**
   * Start the worker threads of a one-input run first thing, so that they boot (about 30 ms)
   * while the rest of the program loads and the input is opened. The process entry point does;
   * in-process callers (tests) mostly run small inputs on one thread and do not.
   */
  readonly startThreadsEarly?: boolean;
}

/**
 * Runs the job for these arguments and environment and returns the exit code; never throws. With
 * METRICS_NAMESPACE set, the run's metrics are published at the end (processor/src/runtime/metrics.ts).
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, options: MainOptions = {}): Promise<number> {
  let log: Logger = createLogger({ write: options.write });
  const recorder = new RunRecorder();
  // The metrics settings first: a Job whose other settings are wrong must still show up (BadInput
  // or Failed), or KEDA keeps starting Jobs that exit 2 without a trace on the dashboard.
  let metrics: MetricsConfig | undefined;
  let metricsProblem: string | undefined;
  try {
    metrics = metricsConfigFromEnv(env);
  } catch (error) {
    // Metrics never decide a run's outcome, not even when their settings are wrong.
    metricsProblem = describeError(error);
  }
  let config: CliConfig;
  try {
    config = parseConfig(argv, env);
    log = createLogger({ level: config.logLevel, format: config.logFormat, write: options.write });
  } catch (error) {
    const code = failed(error, log);
    if (metrics) await publishRunMetrics(recorder.finish(code), metrics, log, { env });
    return code;
  }
  if (metricsProblem !== undefined) log.warn(`No run metrics: ${metricsProblem}`);
  if (config.help) {
    (options.write ?? ((line: string) => process.stderr.write(line)))(USAGE + '\n');
    return EXIT_OK;
  }
  const command = commandTransformOf(config);
  let code = await runJob(config, env, options, log, recorder, command);
  if (command) code = await shutDown(command, code, log);
  if (metrics) await publishRunMetrics(recorder.finish(code), metrics, log, { env });
  return code;
}

/** The program of `-- <program>` / TRANSFORM=command as the transform, or undefined for the built-in one. */
function commandTransformOf(config: CliConfig): CommandTransform | undefined {
  if (config.command === undefined) return undefined;
  return new CommandTransform({
    command: config.command.argv,
    handoffDir: config.command.handoffDir,
    logFormat: config.logFormat,
    killGraceSeconds: config.command.killGraceSeconds,
    launcherStartTimeoutSeconds: config.command.launcherStartTimeoutSeconds,
  });
}

/** Tells the launcher (if any) the run's exit code, so that both containers of the pod agree on it. */
async function shutDown(command: CommandTransform, code: number, log: Logger): Promise<number> {
  try {
    await command.shutdown(code);
    return code;
  } catch (error) {
    log.error(`Could not tell the launcher to stop: ${describeError(error)}`);
    return code === EXIT_OK ? 1 : code;
  }
}

async function runJob(
  config: CliConfig,
  env: NodeJS.ProcessEnv,
  options: MainOptions,
  log: Logger,
  recorder: RunRecorder,
  command: CommandTransform | undefined,
): Promise<number> {
  let jobLog = log;
  try {
    options.signal?.addEventListener('abort', () => {
      log.warn(`Stop requested; aborting the run (open uploads are aborted, no manifest is written${config.queue ? ', the message goes back to the queue' : ''})`);
    }, { once: true });
    const run = {
      output: config.output,
      runId: config.runId,
      scratchDir: config.scratchDir,
      scratchVolumeBytes: config.scratchVolumeBytes,
      threads: config.threads,
      naValues: config.naValues,
      outputFormat: config.outputFormat,
      log,
      signal: options.signal,
      env,
      recorder,
      ...(command ? { transform: command } : {}),
    };
    if (config.queue) {
      const { runQueueJob } = queueModule();
      return await runQueueJob({ ...config.queue, ...run });
    }
    const transform: Transform = command ?? new WalkthroughTransform();
    if (options.startThreadsEarly) transform.warmUp?.({ naValues: config.naValues, threads: config.threads });
    // runPipeline stops the threads whatever happens (a run module that fails to load can only be
    // the process entry point's, which exits).
    // The run id is chosen here so that every line, this function's last one included, names it.
    const runId = config.runId ?? runIdFor(new Date());
    jobLog = log.withContext({ runId });
    const result = await runModule().runPipeline({ input: config.input, ...run, runId, log: jobLog, transform });
    recorder.addInput(result.counts);
    return EXIT_OK;
  } catch (error) {
    return failed(error, jobLog);
  }
}

function failed(error: unknown, log: Logger): number {
  const code = exitCodeFor(error);
  const kind = error instanceof BadInputError ? 'Bad input' : 'Preprocessing failed';
  log.error(`${kind}: ${describeError(error)}`, { exitCode: code });
  return code;
}

/** Runs the job as this process: SIGTERM and SIGINT stop it, and it exits with the job's code. */
export function runAsProcess(argv: readonly string[]): void {
  const controller = new AbortController();
  const stop = (): void => {
    // A second signal means "now": skip the cleanup.
    if (controller.signal.aborted) process.exit(EXIT_TERMINATED);
    controller.abort();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Exit explicitly: idle keep-alive sockets must not hold the process open after the job.
  void main(argv, process.env, { signal: controller.signal, startThreadsEarly: true }).then((code) => process.exit(code));
}

if (require.main === module) runAsProcess(process.argv.slice(2));
