/**
 * Metrics per run (SPEC §11): each run of the processor publishes its outcome, input rows,
 * rejected rows, duplicate rows, input bytes and duration to CloudWatch with PutMetricData, in
 * the namespace and with the dimensions that the workload's environment names:
 *
 * - METRICS_NAMESPACE: the CloudWatch namespace (the construct sets `CdkMlopsEks/Preprocessing`);
 *   unset, nothing is published.
 * - METRICS_DIMENSIONS: `Name=Value` pairs separated by commas (the construct sets
 *   `Namespace=…,Workload=…`).
 * - METRICS_DESTINATION: `cloudwatch` (default) sends them; `log` only logs the request it would
 *   send, one JSON line (the demo).
 * - AWS_ENDPOINT_URL_CLOUDWATCH (or AWS_ENDPOINT_URL): a local CloudWatch-compatible server.
 *
 * PutMetricData rather than the Embedded Metric Format: one request per run reaches CloudWatch
 * whether or not a log agent runs on the node, and needs no log group of the workload's own (the
 * README's "Operating it" says more). A publish that fails is logged and never changes the run's
 * exit code; it is bounded (a few attempts, short timeouts) so that it cannot hold a Job open.
 */
import type { CloudWatchClient, MetricDatum, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { EXIT_BAD_INPUT, EXIT_OK, EXIT_TERMINATED, describeError, errorFields } from './errors';
import { awsClientSettings } from './io/aws-client';
import { Logger } from './log';

/** How a run ended; each outcome is a metric `<Outcome>Runs` that the run sets to 1 (the others 0). */
export enum RunOutcome {
  /** Every input processed, outputs and manifest written (exit 0). */
  SUCCEEDED = 'Succeeded',
  /** The input cannot be processed as given; an error report says why (exit 2). */
  BAD_INPUT = 'BadInput',
  /** Any other failure: S3 or SQS unavailable after retries, output not writable, … (exit 1). */
  FAILED = 'Failed',
  /** A newer version of the input exists; this one was not processed. */
  SUPERSEDED = 'Superseded',
  /** Nothing to do: no message on the queue, S3's test event, or an input already processed. */
  SKIPPED = 'Skipped',
  /** Stopped from outside (SIGTERM: node drain, Spot reclaim, the Job's deadline; exit 143). */
  STOPPED = 'Stopped',
}

export const RUN_OUTCOMES: readonly RunOutcome[] = Object.values(RunOutcome);

/** The metric that counts runs with this outcome, e.g. `SucceededRuns`. */
export function outcomeMetricName(outcome: RunOutcome): string {
  return `${outcome}Runs`;
}

/** Names of the metrics besides the outcome counts (the construct's metric methods use the same). */
export const METRIC_NAMES = {
  inputRows: 'InputRows',
  rejectedRows: 'RejectedRows',
  duplicateRows: 'DuplicateRows',
  inputBytes: 'InputBytes',
  duration: 'Duration',
} as const;

/** What one input's run of the pipeline counted. */
export interface InputCounts {
  readonly inputRows: number;
  readonly rejectedRows: number;
  readonly duplicateRows: number;
  readonly inputBytes: number;
}

/** The metrics of one run, ready to publish. */
export interface RunMetrics {
  readonly outcome: RunOutcome;
  readonly durationSeconds: number;
  /** Sums over the inputs the run processed; absent when it processed none. */
  readonly counts?: InputCounts;
}

/**
 * Collects what a run did while it runs: the counts of every input it processed, and an outcome
 * that the exit code alone does not tell (nothing to do, superseded).
 */
export class RunRecorder {
  private readonly startedAt: number;
  private counts: InputCounts | undefined;
  private outcome: RunOutcome | undefined;

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
  }

  /** Adds one processed input's counts. */
  addInput(counts: InputCounts): void {
    const sum = this.counts;
    this.counts = sum === undefined ? { ...counts } : {
      inputRows: sum.inputRows + counts.inputRows,
      rejectedRows: sum.rejectedRows + counts.rejectedRows,
      duplicateRows: sum.duplicateRows + counts.duplicateRows,
      inputBytes: sum.inputBytes + counts.inputBytes,
    };
  }

  /** Says how the run ended when it ends well without processing anything (skipped, superseded). */
  markOutcome(outcome: RunOutcome): void {
    this.outcome = outcome;
  }

  /** The run's metrics for its exit code. */
  finish(exitCode: number): RunMetrics {
    return {
      outcome: this.outcomeFor(exitCode),
      durationSeconds: Math.max(0, (this.now() - this.startedAt) / 1000),
      ...(this.counts ? { counts: this.counts } : {}),
    };
  }

  private outcomeFor(exitCode: number): RunOutcome {
    if (exitCode === EXIT_BAD_INPUT) return RunOutcome.BAD_INPUT;
    if (exitCode === EXIT_TERMINATED) return RunOutcome.STOPPED;
    if (exitCode !== EXIT_OK) return RunOutcome.FAILED;
    if (this.outcome !== undefined) return this.outcome;
    return this.counts === undefined ? RunOutcome.SKIPPED : RunOutcome.SUCCEEDED;
  }
}

/** Where and how a run's metrics go, from the environment. */
export interface MetricsConfig {
  readonly namespace: string;
  readonly dimensions: ReadonlyArray<{ readonly Name: string; readonly Value: string }>;
  /** `cloudwatch` sends them; `log` logs the request instead. */
  readonly destination: 'cloudwatch' | 'log';
}

/** The metrics settings of the environment; undefined when METRICS_NAMESPACE is unset (no metrics). */
export function metricsConfigFromEnv(env: NodeJS.ProcessEnv): MetricsConfig | undefined {
  const namespace = env.METRICS_NAMESPACE?.trim();
  if (!namespace) return undefined;
  const destination = (env.METRICS_DESTINATION?.trim() || 'cloudwatch').toLowerCase();
  if (destination !== 'cloudwatch' && destination !== 'log') {
    throw new Error(`METRICS_DESTINATION must be 'cloudwatch' or 'log', not '${env.METRICS_DESTINATION}'`);
  }
  return { namespace, dimensions: parseDimensions(env.METRICS_DIMENSIONS ?? ''), destination };
}

/** `A=x,B=y` → [{ Name: 'A', Value: 'x' }, …]; empty pairs are skipped. */
export function parseDimensions(text: string): Array<{ Name: string; Value: string }> {
  return text.split(',').map((pair) => pair.trim()).filter((pair) => pair !== '').map((pair) => {
    const equals = pair.indexOf('=');
    if (equals <= 0 || equals === pair.length - 1) {
      throw new Error(`METRICS_DIMENSIONS must be Name=Value pairs separated by commas; '${pair}' is not one`);
    }
    return { Name: pair.slice(0, equals).trim(), Value: pair.slice(equals + 1).trim() };
  });
}

/**
 * The data points of one run: every outcome's count (1 for this run's, 0 for the others, so a sum
 * over any period counts runs and an alarm on "no successful run" sees zeros, not gaps), the
 * duration, and the row and byte counts when the run processed an input.
 */
export function runMetricData(run: RunMetrics, config: MetricsConfig, timestamp: Date): MetricDatum[] {
  const datum = (name: string, value: number, unit: StandardUnit): MetricDatum => ({
    MetricName: name, Value: value, Unit: unit, Timestamp: timestamp, Dimensions: [...config.dimensions],
  });
  const data = RUN_OUTCOMES.map((outcome) => datum(outcomeMetricName(outcome), outcome === run.outcome ? 1 : 0, 'Count'));
  data.push(datum(METRIC_NAMES.duration, roundTo(run.durationSeconds, 3), 'Seconds'));
  if (run.counts) {
    data.push(
      datum(METRIC_NAMES.inputRows, run.counts.inputRows, 'Count'),
      datum(METRIC_NAMES.rejectedRows, run.counts.rejectedRows, 'Count'),
      datum(METRIC_NAMES.duplicateRows, run.counts.duplicateRows, 'Count'),
      datum(METRIC_NAMES.inputBytes, run.counts.inputBytes, 'Bytes'),
    );
  }
  return data;
}

/** Time a publish may take in all, attempts included: a Job must not hang on its metrics. */
const PUBLISH_TIMEOUT_MS = 10_000;
const PUBLISH_ATTEMPTS = 3;

export interface PublishOptions {
  /** Client to use; default one from `env` (AWS_ENDPOINT_URL_CLOUDWATCH, region, credentials). */
  readonly client?: CloudWatchClient;
  readonly env?: NodeJS.ProcessEnv;
  /** The data points' time; default now. */
  readonly timestamp?: Date;
}

/**
 * Publishes a run's metrics, or logs them with METRICS_DESTINATION=log. Never throws: a failure is
 * logged as a warning and the run's outcome stands. Resolves to whether the metrics were sent.
 */
export async function publishRunMetrics(run: RunMetrics, config: MetricsConfig, log: Logger, options: PublishOptions = {}): Promise<boolean> {
  const data = runMetricData(run, config, options.timestamp ?? new Date());
  const summary = describeData(data, config);
  if (config.destination === 'log') {
    log.info(`Run metrics (METRICS_DESTINATION=log, not sent): ${summary}`, { namespace: config.namespace });
    return false;
  }
  let client = options.client;
  try {
    // Loaded on first use, like the other AWS clients: local runs without metrics never load it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { CloudWatchClient: Client, PutMetricDataCommand } = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
    client ??= new Client({ ...awsClientSettings(options.env ?? process.env, 'AWS_ENDPOINT_URL_CLOUDWATCH', 5_000), maxAttempts: PUBLISH_ATTEMPTS });
    await client.send(new PutMetricDataCommand({ Namespace: config.namespace, MetricData: data }), {
      abortSignal: AbortSignal.timeout(PUBLISH_TIMEOUT_MS),
    });
    log.info(`Published run metrics to CloudWatch: ${summary}`, { namespace: config.namespace });
    return true;
  } catch (error) {
    log.warn(`Could not publish the run metrics to CloudWatch (the run's outcome stands): ${errorFields(error).name}: ${describeError(error)}`,
      { namespace: config.namespace, outcome: run.outcome });
    return false;
  } finally {
    if (options.client === undefined) client?.destroy();
  }
}

/** `SucceededRuns=1 BadInputRuns=0 … Duration=0.7s InputRows=50000 … (dimensions Namespace=…,…)` for the log line. */
function describeData(data: readonly MetricDatum[], config: MetricsConfig): string {
  const values = data.map((d) => `${d.MetricName}=${d.Value}${d.Unit === 'Seconds' ? 's' : ''}`).join(' ');
  const dimensions = config.dimensions.map((d) => `${d.Name}=${d.Value}`).join(',');
  return `${values} (dimensions ${dimensions || 'none'})`;
}

function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
