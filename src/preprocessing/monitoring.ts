import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { longestGapMinutes } from './schedule-period';
import { acknowledgeWildcardResource } from '../private/acknowledgements';
import { checkIntegerInRange, PropValidationError } from '../private/validation';

/**
 * The CloudWatch namespace that every workload's processor publishes its run metrics to
 * (processor/src/runtime/metrics.ts), with the dimensions Namespace and Workload. The cluster's name is
 * not one of them: most clusters' names are known only at deploy time, and the manifests of a
 * GitOps workload (`applyManifests: false`) must stay plain YAML.
 */
export const METRICS_NAMESPACE = 'CdkMlopsEks/Preprocessing';

/** Metric names the processor publishes (processor/src/runtime/metrics.ts; a test keeps the two in step). */
export const RUN_METRIC_NAMES = {
  succeededRuns: 'SucceededRuns',
  failedRuns: 'FailedRuns',
  badInputRuns: 'BadInputRuns',
  supersededRuns: 'SupersededRuns',
  skippedRuns: 'SkippedRuns',
  stoppedRuns: 'StoppedRuns',
  inputRows: 'InputRows',
  rejectedRows: 'RejectedRows',
  duplicateRows: 'DuplicateRows',
  inputBytes: 'InputBytes',
  duration: 'Duration',
} as const;

/** How long a Job's pod may take to start (a node scaled up, the image pulled) before it runs. */
export const POD_START_ALLOWANCE = Duration.minutes(10);

const CONSTRUCT = 'PodIdentityPreprocessing';
/** CloudWatch's longest evaluation range of a metric alarm (period × evaluation periods). */
const MAX_ALARM_RANGE = Duration.days(7);

/** Thresholds and periods of a workload's alarms; each has a default that fits its trigger. */
export interface WorkloadAlarmOptions {
  /**
   * The period over which failed runs are counted.
   *
   * @default Duration.minutes(5)
   */
  readonly failedRunsPeriod?: Duration;

  /**
   * Failed runs (exit 1: S3 or SQS unavailable after retries, output not writable, …) within
   * `failedRunsPeriod` that raise the failed-runs alarm.
   *
   * @default 1
   */
  readonly failedRunsThreshold?: number;

  /**
   * `onUpload()`: the age of the queue's oldest message that raises the queue-age alarm: a message
   * that waits longer than a run can take means that runs do not start or do not finish.
   *
   * @default - `activeDeadline` plus 10 minutes for a pod to start
   */
  readonly maxMessageAge?: Duration;

  /**
   * `onUpload()`: messages in the dead-letter queue that raise the dead-letter alarm.
   *
   * @default 1
   */
  readonly deadLetterQueueThreshold?: number;

  /**
   * `schedule()`: how long without a successful run raises the missed-run alarm (at most 7 days,
   * a whole number of minutes).
   *
   * @default - the longest time between two scheduled runs plus `activeDeadline`
   */
  readonly missedRunPeriod?: Duration;
}

/** What the alarms and the dashboard read from the workload (its metric methods and queues). */
export interface MonitoredWorkload {
  readonly queue?: sqs.IQueue;
  readonly deadLetterQueue?: sqs.IQueue;
  metricSucceededRuns(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricFailedRuns(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricBadInputRuns(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricInputRows(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricRejectedRows(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricDuplicateRows(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricQueueVisibleMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricQueueOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricDeadLetterQueueVisibleMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** The trigger facts the alarms depend on. */
export interface AlarmContext {
  readonly activeDeadline: Duration;
  /** The `schedule()` trigger's cron expression. */
  readonly schedule?: string;
  readonly alarmTopic?: sns.ITopic;
  readonly options: WorkloadAlarmOptions;
}

/**
 * Lets the pods publish run metrics to {@link METRICS_NAMESPACE} and nowhere else. PutMetricData
 * has no resource-level permissions: its resource is `*`, and the `cloudwatch:namespace`
 * condition is what scopes it.
 */
export function grantPutRunMetrics(role: iam.IRole): void {
  const statement = new iam.PolicyStatement({
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'],
    conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
  });
  const result = role.addToPrincipalPolicy(statement);
  if (result.policyDependable) {
    acknowledgeWildcardResource(role, '*',
      `cloudwatch:PutMetricData has no resource-level permissions; the cloudwatch:namespace condition limits it to ${METRICS_NAMESPACE}.`);
  }
}

/** `Namespace=…,Workload=…` for the processor's METRICS_DIMENSIONS. */
export function dimensionsEnv(dimensions: { [name: string]: string }): string {
  return Object.entries(dimensions).map(([name, value]) => `${name}=${value}`).join(',');
}

/**
 * The workload's alarms: failed runs always; for `onUpload()` a message in the dead-letter queue
 * and a queue whose oldest message is older than a run can take; for `schedule()` no successful
 * run within the schedule's period (missing data breaching: no run at all is the failure).
 */
export function createWorkloadAlarms(scope: Construct, workload: MonitoredWorkload, context: AlarmContext): cloudwatch.Alarm[] {
  const options = context.options;
  const failedRunsPeriod = options.failedRunsPeriod ?? Duration.minutes(5);
  checkAlarmPeriod('alarmOptions.failedRunsPeriod', failedRunsPeriod);
  const failedRunsThreshold = options.failedRunsThreshold ?? 1;
  checkIntegerInRange(CONSTRUCT, 'alarmOptions.failedRunsThreshold', failedRunsThreshold, 1, 1_000_000);
  const alarms = [
    new cloudwatch.Alarm(scope, 'FailedRunsAlarm', {
      alarmDescription: 'A run of the preprocessing workload failed (exit 1). Read its logs in CloudWatch Logs; onUpload() retries it from the queue.',
      metric: workload.metricFailedRuns({ period: failedRunsPeriod }),
      threshold: failedRunsThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  ];
  if (workload.queue) alarms.push(...queueAlarms(scope, workload, context));
  if (context.schedule !== undefined) {
    const missedRun = missedRunAlarm(scope, workload, context, context.schedule);
    if (missedRun) alarms.push(missedRun);
  }
  if (context.alarmTopic) {
    const action = new cloudwatchActions.SnsAction(context.alarmTopic);
    alarms.forEach((alarm) => alarm.addAlarmAction(action));
  }
  return alarms;
}

function queueAlarms(scope: Construct, workload: MonitoredWorkload, context: AlarmContext): cloudwatch.Alarm[] {
  const maxMessageAge = context.options.maxMessageAge ?? context.activeDeadline.plus(POD_START_ALLOWANCE);
  const deadLetterThreshold = context.options.deadLetterQueueThreshold ?? 1;
  checkIntegerInRange(CONSTRUCT, 'alarmOptions.deadLetterQueueThreshold', deadLetterThreshold, 1, 1_000_000);
  return [
    new cloudwatch.Alarm(scope, 'DeadLetterQueueAlarm', {
      alarmDescription: 'Uploads failed maxReceiveCount times and wait in the dead-letter queue. Fix the cause, then redrive them to the queue.',
      metric: workload.metricDeadLetterQueueVisibleMessages({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }),
      threshold: deadLetterThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
    new cloudwatch.Alarm(scope, 'QueueAgeAlarm', {
      alarmDescription: 'An upload has waited on the queue longer than a run can take: Jobs do not start (KEDA, quota, nodes) or do not finish.',
      metric: workload.metricQueueOldestMessageAge({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }),
      threshold: maxMessageAge.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }),
  ];
}

function missedRunAlarm(scope: Construct, workload: MonitoredWorkload, context: AlarmContext, cron: string): cloudwatch.Alarm | undefined {
  const period = context.options.missedRunPeriod ?? defaultMissedRunPeriod(cron, context.activeDeadline);
  if (period === undefined) {
    Annotations.of(scope).addWarningV2('cdk-mlops-eks:missedRunAlarm',
      `No missed-run alarm: schedule '${cron}' has runs more than 7 days apart (CloudWatch alarms look back at most 7 days), or a token; set alarmOptions.missedRunPeriod.`);
    return undefined;
  }
  checkAlarmPeriod('alarmOptions.missedRunPeriod', period);
  return new cloudwatch.Alarm(scope, 'MissedRunAlarm', {
    alarmDescription: `No successful run within ${period.toHumanString()} (schedule '${cron}'). Look for failed or missing Jobs and their logs.`,
    metric: workload.metricSucceededRuns({ period }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: 1,
    // No data means no run finished: that is what this alarm is for.
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
}

/** The longest gap between two scheduled runs plus the run's deadline, in whole minutes; undefined if over 7 days. */
function defaultMissedRunPeriod(cron: string, activeDeadline: Duration): Duration | undefined {
  if (activeDeadline.isUnresolved()) return undefined;
  let gap: number | undefined;
  try {
    gap = longestGapMinutes(cron);
  } catch {
    return undefined;
  }
  if (gap === undefined) return undefined;
  const minutes = gap + Math.ceil(activeDeadline.toSeconds() / 60);
  return minutes * 60 <= MAX_ALARM_RANGE.toSeconds() ? Duration.minutes(minutes) : undefined;
}

/** A metric alarm's period: whole minutes, and at most CloudWatch's 7-day range (1 day below an hour's period). */
function checkAlarmPeriod(prop: string, period: Duration): void {
  if (period.isUnresolved()) return;
  const seconds = period.toSeconds();
  if (seconds < 60 || seconds % 60 !== 0 || seconds > MAX_ALARM_RANGE.toSeconds()) {
    throw new PropValidationError(CONSTRUCT, prop, `${period.toHumanString()} must be a whole number of minutes from 1 minute to 7 days`);
  }
}

/** A dashboard of the workload: runs by outcome, rows, duration, and for onUpload() the queues; its alarms. */
export function createWorkloadDashboard(
  scope: Construct,
  workload: MonitoredWorkload,
  title: string,
  alarms: cloudwatch.IAlarm[],
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { defaultInterval: Duration.days(7) });
  const hourly = { period: Duration.hours(1) };
  dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `# ${title}`, width: 24, height: 1 }));
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Runs by outcome',
      left: [
        workload.metricSucceededRuns({ ...hourly, label: 'succeeded' }),
        workload.metricFailedRuns({ ...hourly, label: 'failed' }),
        workload.metricBadInputRuns({ ...hourly, label: 'bad input' }),
        workload.metric(RUN_METRIC_NAMES.stoppedRuns, { ...hourly, label: 'stopped' }),
        workload.metric(RUN_METRIC_NAMES.skippedRuns, { ...hourly, label: 'skipped' }),
        workload.metric(RUN_METRIC_NAMES.supersededRuns, { ...hourly, label: 'superseded' }),
      ],
      stacked: true,
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Rows',
      left: [
        workload.metricInputRows({ ...hourly, label: 'input' }),
        workload.metricRejectedRows({ ...hourly, label: 'rejected' }),
        workload.metricDuplicateRows({ ...hourly, label: 'duplicate' }),
      ],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Run duration (seconds)',
      left: [
        workload.metricDuration({ ...hourly, label: 'average' }),
        workload.metricDuration({ ...hourly, statistic: cloudwatch.Stats.MAXIMUM, label: 'maximum' }),
      ],
      width: 8,
    }),
  );
  if (workload.queue) {
    const fiveMinutesMax = { period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM };
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Upload queue',
        left: [
          workload.metricQueueVisibleMessages({ ...fiveMinutesMax, label: 'waiting' }),
          workload.metricDeadLetterQueueVisibleMessages({ ...fiveMinutesMax, label: 'dead-letter queue' }),
        ],
        right: [workload.metricQueueOldestMessageAge({ ...fiveMinutesMax, label: 'oldest message age (s)' })],
        width: 16,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 8 }),
    );
  } else if (alarms.length > 0) {
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 }));
  }
  return dashboard;
}

/** The metric of the queue behind `onUpload()`; other triggers have none, so asking is a mistake. */
export function requireQueue(queue: sqs.IQueue | undefined, method: string): sqs.IQueue {
  if (!queue) {
    throw new Error(`${method}() needs the onUpload() trigger: this workload has no queue`);
  }
  return queue;
}

/** One of the processor's run metrics of this workload, summed over 5 minutes unless `props` say otherwise. */
export function runMetric(
  scope: Construct,
  metricName: string,
  dimensions: { [name: string]: string },
  props: cloudwatch.MetricOptions,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: dimensions,
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(5),
    ...props,
  }).attachTo(scope);
}
