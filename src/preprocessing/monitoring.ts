import { Annotations, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { longestGapMinutes } from './schedule-period';
import { VISIBILITY_MARGIN } from './upload-queue';
import { acknowledgeWildcardResource } from '../private/acknowledgements';
import { checkIntegerInRange, PropValidationError } from '../private/validation';

/**
 * The CloudWatch namespace that every workload's processor publishes its run metrics to
 * (processor/src/runtime/metrics.ts), with the dimensions of {@link METRIC_DIMENSION_NAMES}.
 */
export const METRICS_NAMESPACE = 'CdkMlopsEks/Preprocessing';

/**
 * The dimensions of the run metrics. `KubernetesNamespace`, not `Namespace`, so it is never taken
 * for the CloudWatch namespace. `Cluster` keeps apart two clusters' workloads of the same
 * namespace and name; its value is plain text known at synth (see clusterDimensionValue), not the
 * cluster's name as such: most clusters' names are known only at deploy time, and the manifests
 * of a GitOps workload (`applyManifests: false`) must stay plain YAML.
 */
export const METRIC_DIMENSION_NAMES = {
  cluster: 'Cluster',
  kubernetesNamespace: 'KubernetesNamespace',
  workload: 'Workload',
} as const;

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
/** Container Insights' metric of pods in phase Failed (enhanced observability, namespace `ContainerInsights`). */
export const CONTAINER_INSIGHTS_FAILED_PODS_METRIC = 'pod_status_failed';

/** Thresholds, periods and behaviour of a workload's alarms; each has a default that fits its trigger. */
export interface WorkloadAlarmOptions {
  /**
   * The period over which failed and stopped runs are counted.
   *
   * @default Duration.minutes(5)
   */
  readonly failedRunsPeriod?: Duration;

  /**
   * Failed runs (exit 1: S3 or SQS unavailable after retries, output not writable, …) plus
   * stopped runs (SIGTERM: the deadline, an eviction) within `failedRunsPeriod` that raise the
   * failed-runs alarm.
   *
   * @default 1
   */
  readonly failedRunsThreshold?: number;

  /**
   * Whether to alarm on failed pods in the workload's namespace, seen by Container Insights
   * (metric `pod_status_failed`): OOM kills, deadline kills and other failures that publish no run
   * metric. Created only when the cluster is an `MlopsEksCluster` with
   * `ClusterObservability.containerInsights()` (the default).
   *
   * @default true
   */
  readonly failedPodsAlarm?: boolean;

  /**
   * `onUpload()`: the age of the queue's oldest message that raises the queue-age alarm.
   *
   * @default - (`maxReceiveCount` + ⌈`expectedBacklog` / `maxParallelJobs`⌉) × (`activeDeadline`
   * + 5 minutes of visibility margin + 10 minutes for a pod to start): the longest a message waits
   * in a queue that works (see the README)
   */
  readonly maxMessageAge?: Duration;

  /**
   * `onUpload()`: how many uploads may wait on the queue at once in normal operation (a burst); the
   * default queue-age threshold lets a message wait behind that many.
   *
   * @default - `maxParallelJobs` of the trigger
   */
  readonly expectedBacklog?: number;

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

  /**
   * The number of periods over which each alarm is evaluated (CloudWatch's "N" of "M out of N";
   * the periods together may span at most 7 days, 1 day for periods under an hour).
   *
   * @default 1
   */
  readonly evaluationPeriods?: number;

  /**
   * The number of breaching periods within `evaluationPeriods` that raise each alarm
   * (CloudWatch's "M out of N").
   *
   * @default - `evaluationPeriods`
   */
  readonly datapointsToAlarm?: number;

  /**
   * Whether the alarms' actions run. `false` keeps the alarms and their state but notifies nobody
   * (AWS Control Tower's CT.CLOUDWATCH.PR.4 refuses such alarms).
   *
   * @default true
   */
  readonly actionsEnabled?: boolean;
}

/**
 * A workload's CloudWatch alarms by what they watch. An alarm that the trigger does not have, or
 * that `createAlarms: false` turned off, is absent.
 */
export interface WorkloadAlarms {
  /** Failed plus stopped runs (every trigger). */
  readonly failedRuns?: cloudwatch.IAlarm;
  /** Failed pods in the workload's namespace, from Container Insights (cluster with Container Insights metrics). */
  readonly failedPods?: cloudwatch.IAlarm;
  /** Messages in the dead-letter queue (`onUpload()`). */
  readonly deadLetters?: cloudwatch.IAlarm;
  /** The age of the queue's oldest message (`onUpload()`). */
  readonly queueAge?: cloudwatch.IAlarm;
  /** No successful run within the schedule's period (`schedule()`). */
  readonly missedRun?: cloudwatch.IAlarm;
}

/** The alarms that exist, in a stable order (failed runs, failed pods, dead letters, queue age, missed run). */
export function alarmList(alarms: WorkloadAlarms): cloudwatch.IAlarm[] {
  return [alarms.failedRuns, alarms.failedPods, alarms.deadLetters, alarms.queueAge, alarms.missedRun]
    .filter((alarm): alarm is cloudwatch.IAlarm => alarm !== undefined);
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

/** Where Container Insights sees the workload's pods. */
export interface ContainerInsightsScope {
  /** The EKS cluster's name (Container Insights' `ClusterName`); may be a token. */
  readonly clusterName: string;
  /** The workload's Kubernetes namespace (Container Insights' `Namespace`). */
  readonly namespace: string;
}

/** The trigger facts the alarms depend on. */
export interface AlarmContext {
  readonly activeDeadline: Duration;
  /** The `schedule()` trigger's cron expression. */
  readonly schedule?: string;
  /** `onUpload()`: how often a message is received before it goes to the dead-letter queue. */
  readonly maxReceiveCount?: number;
  /** How many runs may be active at once. */
  readonly maxParallelRuns: number;
  /** Set when the cluster publishes Container Insights metrics. */
  readonly containerInsights?: ContainerInsightsScope;
  /** The topic every alarm notifies in ALARM. */
  readonly alarmTopic: sns.ITopic;
  readonly options: WorkloadAlarmOptions;
}

/** How every alarm of the workload is evaluated and whether its actions run. */
interface Evaluation {
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly actionsEnabled: boolean;
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

/** `Cluster=…,KubernetesNamespace=…,Workload=…` for the processor's METRICS_DIMENSIONS. */
export function dimensionsEnv(dimensions: { [name: string]: string }): string {
  return Object.entries(dimensions).map(([name, value]) => `${name}=${value}`).join(',');
}

/**
 * The value of the `Cluster` dimension: plain text known at synth, so that a GitOps workload's
 * manifests stay plain YAML. The given value; else the cluster's name when it is known at synth
 * (a name given to `MlopsEksCluster`, or an imported cluster's); else the cluster's stack name and
 * construct path inside it (CloudFormation stack names are unique within an account and region).
 */
export function clusterDimensionValue(cluster: eks.ICluster, given: string | undefined): string {
  if (given !== undefined) {
    if (Token.isUnresolved(given) || given.trim() !== given || given.length < 1 || given.length > 255 || given.includes(',')) {
      throw new PropValidationError(CONSTRUCT, 'metricsClusterName',
        `'${given}' must be plain text known at synth (not a token), 1 to 255 characters, without commas or surrounding spaces`);
    }
    return given;
  }
  const named = literalClusterName(cluster);
  if (named !== undefined) return named;
  const stack = Stack.of(cluster);
  const inStack = cluster.node.path.slice(stack.node.path.length + 1);
  const value = Token.isUnresolved(stack.stackName) ? cluster.node.path : `${stack.stackName}/${inStack}`;
  return value.replace(/,/g, '_').slice(0, 255);
}

function literalClusterName(cluster: eks.ICluster): string | undefined {
  if (!Token.isUnresolved(cluster.clusterName)) return cluster.clusterName;
  const resource = cluster.node.defaultChild;
  if (resource instanceof eks.CfnCluster && typeof resource.name === 'string' && !Token.isUnresolved(resource.name)) {
    return resource.name;
  }
  return undefined;
}

/**
 * The topic the alarms notify unless one is given: SNS encrypted with a KMS key of its own (a
 * CloudWatch alarm cannot publish to a topic under the AWS-managed `alias/aws/sns` key, whose policy
 * cannot let CloudWatch use it), TLS only. Subscribe to it (email, chat, a pager) to be told.
 */
export function createAlarmTopic(scope: Construct): sns.Topic {
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    description: 'Encrypts the preprocessing workload\'s alarm topic',
    enableKeyRotation: true,
    // It encrypts only notifications in flight: deleted with its topic (after KMS's waiting period), not billed on.
    removalPolicy: RemovalPolicy.DESTROY,
    pendingWindow: Duration.days(7),
  });
  // CloudWatch publishes the alarm notifications and must encrypt them with the topic's key.
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
  }));
  return new sns.Topic(scope, 'AlarmTopic', { masterKey: key, enforceSSL: true });
}

/**
 * The workload's alarms: failed or stopped runs always; failed pods when the cluster publishes
 * Container Insights metrics; for `onUpload()` a message in the dead-letter queue and a queue
 * whose oldest message is older than a working queue keeps one; for `schedule()` no successful run
 * within the schedule's period (missing data breaching: no run at all is the failure). Every one
 * notifies the alarm topic in ALARM.
 */
export function createWorkloadAlarms(scope: Construct, workload: MonitoredWorkload, context: AlarmContext): WorkloadAlarms {
  const evaluation = evaluationOf(context.options);
  const alarms: WorkloadAlarms = {
    failedRuns: failedRunsAlarm(scope, workload, context, evaluation),
    failedPods: (context.options.failedPodsAlarm ?? true) && context.containerInsights
      ? failedPodsAlarm(scope, context.containerInsights, evaluation)
      : undefined,
    ...(workload.queue ? queueAlarms(scope, workload, context, evaluation) : {}),
    missedRun: context.schedule !== undefined ? missedRunAlarm(scope, workload, context, context.schedule, evaluation) : undefined,
  };
  const action = new cloudwatchActions.SnsAction(context.alarmTopic);
  alarmList(alarms).forEach((alarm) => (alarm as cloudwatch.Alarm).addAlarmAction(action));
  return alarms;
}

function evaluationOf(options: WorkloadAlarmOptions): Evaluation {
  const evaluationPeriods = options.evaluationPeriods ?? 1;
  checkIntegerInRange(CONSTRUCT, 'alarmOptions.evaluationPeriods', evaluationPeriods, 1, 10_080);
  const datapointsToAlarm = options.datapointsToAlarm ?? evaluationPeriods;
  checkIntegerInRange(CONSTRUCT, 'alarmOptions.datapointsToAlarm', datapointsToAlarm, 1, evaluationPeriods);
  return { evaluationPeriods, datapointsToAlarm, actionsEnabled: options.actionsEnabled ?? true };
}

/** A metric alarm with the workload's evaluation; its period × evaluation periods within CloudWatch's range. */
function newAlarm(
  scope: Construct,
  id: string,
  evaluation: Evaluation,
  props: Omit<cloudwatch.AlarmProps, 'evaluationPeriods' | 'datapointsToAlarm' | 'actionsEnabled'>,
  periodProp: string,
  period: Duration,
): cloudwatch.Alarm {
  checkEvaluationRange(periodProp, period, evaluation.evaluationPeriods);
  return new cloudwatch.Alarm(scope, id, {
    ...props,
    evaluationPeriods: evaluation.evaluationPeriods,
    datapointsToAlarm: evaluation.datapointsToAlarm,
    actionsEnabled: evaluation.actionsEnabled,
  });
}

function failedRunsAlarm(scope: Construct, workload: MonitoredWorkload, context: AlarmContext, evaluation: Evaluation): cloudwatch.Alarm {
  const period = context.options.failedRunsPeriod ?? Duration.minutes(5);
  checkAlarmPeriod('alarmOptions.failedRunsPeriod', period);
  const threshold = context.options.failedRunsThreshold ?? 1;
  checkIntegerInRange(CONSTRUCT, 'alarmOptions.failedRunsThreshold', threshold, 1, 1_000_000);
  return newAlarm(scope, 'FailedRunsAlarm', evaluation, {
    alarmDescription: 'Runs of the preprocessing workload failed (exit 1) or were stopped (SIGTERM: the deadline, an eviction). '
      + 'Read their logs in CloudWatch Logs; onUpload() retries them from the queue.',
    // Every run publishes every outcome (0 for the others), so both metrics have data or neither.
    metric: new cloudwatch.MathExpression({
      expression: 'failed + stopped',
      usingMetrics: {
        failed: workload.metricFailedRuns({ period }),
        stopped: workload.metric(RUN_METRIC_NAMES.stoppedRuns, { period }),
      },
      label: 'failed + stopped runs',
      period,
    }),
    threshold,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  }, 'alarmOptions.failedRunsPeriod', period);
}

/**
 * Container Insights (enhanced observability) publishes `pod_status_failed` (1 for a pod in phase
 * Failed) per pod with the dimensions ClusterName, Namespace and PodName, from the API server's pod
 * list, so a failed pod counts until it is deleted (its Job's TTL). Its PodName for a Job's pod is
 * cut from the Job's name by the agent and cannot tell one workload from another: the query takes
 * the namespace.
 */
function failedPodsAlarm(scope: Construct, where: ContainerInsightsScope, evaluation: Evaluation): cloudwatch.Alarm {
  const period = Duration.minutes(5);
  return newAlarm(scope, 'FailedPodsAlarm', evaluation, {
    alarmDescription: `A pod in namespace ${where.namespace} is Failed (Container Insights' pod_status_failed): an OOM kill, a deadline, `
      + 'an eviction, exit 1 or exit 2 (bad input). `kubectl get pods` and the pod\'s events say which; the alarm clears when the Job is deleted (its TTL).',
    metric: new cloudwatch.MathExpression({
      expression: `SELECT MAX(${CONTAINER_INSIGHTS_FAILED_PODS_METRIC}) FROM SCHEMA("ContainerInsights", ClusterName, Namespace, PodName) `
        + `WHERE ClusterName = '${where.clusterName}' AND Namespace = '${where.namespace}'`,
      label: 'failed pods',
      period,
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  }, 'failedPods', period);
}

/**
 * The longest a message waits in a queue that works: its turn comes after at most
 * ⌈expectedBacklog / maxParallelRuns⌉ rounds of runs, then it may be received `maxReceiveCount`
 * times; each round or receive holds a Job for at most a pod start plus the visibility timeout
 * (activeDeadline + margin). ApproximateAgeOfOldestMessage counts from the message's first
 * arrival, through its retries.
 */
export function defaultMaxMessageAge(context: AlarmContext): Duration {
  const expectedBacklog = context.options.expectedBacklog ?? context.maxParallelRuns;
  checkIntegerInRange(CONSTRUCT, 'alarmOptions.expectedBacklog', expectedBacklog, 1, 1_000_000);
  const rounds = Math.ceil(expectedBacklog / context.maxParallelRuns) + (context.maxReceiveCount ?? 1);
  const slot = POD_START_ALLOWANCE.plus(context.activeDeadline).plus(VISIBILITY_MARGIN);
  return Duration.seconds(rounds * slot.toSeconds());
}

function queueAlarms(scope: Construct, workload: MonitoredWorkload, context: AlarmContext, evaluation: Evaluation): WorkloadAlarms {
  const maxMessageAge = context.options.maxMessageAge ?? defaultMaxMessageAge(context);
  const deadLetterThreshold = context.options.deadLetterQueueThreshold ?? 1;
  checkIntegerInRange(CONSTRUCT, 'alarmOptions.deadLetterQueueThreshold', deadLetterThreshold, 1, 1_000_000);
  const period = Duration.minutes(5);
  return {
    deadLetters: newAlarm(scope, 'DeadLetterQueueAlarm', evaluation, {
      alarmDescription: 'Uploads failed maxReceiveCount times and wait in the dead-letter queue. Fix the cause, then redrive them to the queue.',
      metric: workload.metricDeadLetterQueueVisibleMessages({ statistic: cloudwatch.Stats.MAXIMUM, period }),
      threshold: deadLetterThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }, 'deadLetters', period),
    queueAge: newAlarm(scope, 'QueueAgeAlarm', evaluation, {
      alarmDescription: `An upload has waited on the queue longer than ${maxMessageAge.toHumanString()}, more than a working queue keeps one `
        + '(its turn behind the expected backlog, then every try): Jobs do not start (KEDA, quota, nodes) or do not finish.',
      metric: workload.metricQueueOldestMessageAge({ statistic: cloudwatch.Stats.MAXIMUM, period }),
      threshold: maxMessageAge.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }, 'queueAge', period),
  };
}

function missedRunAlarm(
  scope: Construct,
  workload: MonitoredWorkload,
  context: AlarmContext,
  cron: string,
  evaluation: Evaluation,
): cloudwatch.Alarm | undefined {
  const period = context.options.missedRunPeriod ?? defaultMissedRunPeriod(cron, context.activeDeadline);
  if (period === undefined) {
    Annotations.of(scope).addWarningV2('cdk-mlops-eks:missedRunAlarm',
      `No missed-run alarm: schedule '${cron}' has runs more than 7 days apart (CloudWatch alarms look back at most 7 days), or a token; set alarmOptions.missedRunPeriod.`);
    return undefined;
  }
  checkAlarmPeriod('alarmOptions.missedRunPeriod', period);
  return newAlarm(scope, 'MissedRunAlarm', evaluation, {
    alarmDescription: `No successful run within ${period.toHumanString()} (schedule '${cron}'). Look for failed or missing Jobs and their logs. `
      + 'Right after a deploy it is in ALARM until the first successful run (no data yet counts as a missed run): start one with the RunCommand output to clear it.',
    metric: workload.metricSucceededRuns({ period }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    // No data means no run finished: that is what this alarm is for.
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  }, 'alarmOptions.missedRunPeriod', period);
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

/** CloudWatch evaluates at most 7 days (1 day when the period is under an hour) of an alarm's periods. */
function checkEvaluationRange(alarmName: string, period: Duration, evaluationPeriods: number): void {
  if (period.isUnresolved()) return;
  const range = period.toSeconds() * evaluationPeriods;
  const limit = period.toSeconds() < 3600 ? Duration.days(1) : MAX_ALARM_RANGE;
  if (range > limit.toSeconds()) {
    throw new PropValidationError(CONSTRUCT, 'alarmOptions.evaluationPeriods',
      `${evaluationPeriods} periods of ${period.toHumanString()} (${alarmName}) span more than CloudWatch's ${limit.toHumanString()}`);
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
