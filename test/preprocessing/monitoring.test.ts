import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { envOf, manifestWith, objectOfKind, synth } from './helpers';
import { METRIC_NAMES, RUN_OUTCOMES, outcomeMetricName } from '../../processor/src/runtime/metrics';
import { PodIdentityPreprocessing, PreprocessingTrigger } from '../../src';
import { METRICS_NAMESPACE, RUN_METRIC_NAMES } from '../../src/preprocessing/monitoring';

type Alarm = Record<string, any>;

/** The stack's alarms by the id of the construct that made them (`FailedRunsAlarm`, …). */
function alarmsById(template: Template): Record<string, Alarm> {
  return Object.fromEntries(Object.entries(template.findResources('AWS::CloudWatch::Alarm'))
    .map(([logicalId, resource]) => [/^Preprocessing(\w+Alarm)[0-9A-F]{8}$/.exec(logicalId)![1], resource.Properties]));
}

function dimensionNames(alarm: Alarm): string[] {
  return alarm.Dimensions.map((d: { Name: string }) => d.Name).sort();
}

describe('PodIdentityPreprocessing with onUpload(): metrics and alarms', () => {
  let stack: Stack;
  let template: Template;
  let workload: PodIdentityPreprocessing;
  let alarms: Record<string, Alarm>;
  let topic: sns.Topic;
  beforeAll(() => {
    const synthesized = synth((s) => {
      topic = new sns.Topic(s, 'Alerts', { enforceSSL: true });
      return { trigger: PreprocessingTrigger.onUpload(), alarmTopic: topic, createDashboard: true, activeDeadline: Duration.minutes(30) };
    });
    ({ stack, template, preprocessing: workload } = synthesized);
    alarms = alarmsById(template);
  });

  test('job.alarms holds a failed-runs, a dead-letter-queue and a queue-age alarm', () => {
    expect(Object.keys(alarms).sort()).toEqual(['DeadLetterQueueAlarm', 'FailedRunsAlarm', 'QueueAgeAlarm']);
    expect(workload.alarms).toHaveLength(3);
  });

  test('failed runs: any FailedRuns in 5 minutes, of this workload\'s dimensions; no data is no failure', () => {
    expect(alarms.FailedRunsAlarm).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: 'FailedRuns',
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(dimensionNames(alarms.FailedRunsAlarm)).toEqual(['Namespace', 'Workload']);
    expect(alarms.FailedRunsAlarm.Dimensions).toEqual(expect.arrayContaining([
      { Name: 'Namespace', Value: 'mlops' }, { Name: 'Workload', Value: 'data-preprocessing' },
    ]));
  });

  test('dead-letter queue: any visible message in the DLQ', () => {
    expect(alarms.DeadLetterQueueAlarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const dlq = stack.resolve(workload.deadLetterQueue!.queueName);
    expect(alarms.DeadLetterQueueAlarm.Dimensions).toEqual([{ Name: 'QueueName', Value: dlq }]);
  });

  test('queue age: the oldest message older than activeDeadline plus 10 minutes of pod start', () => {
    expect(alarms.QueueAgeAlarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Threshold: 40 * 60,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarms.QueueAgeAlarm.Dimensions).toEqual([{ Name: 'QueueName', Value: stack.resolve(workload.queue!.queueName) }]);
  });

  test('alarmTopic: every alarm notifies the topic', () => {
    const topicRef = stack.resolve(topic.topicArn);
    for (const alarm of Object.values(alarms)) expect(alarm.AlarmActions).toEqual([topicRef]);
  });

  test('the queue metric methods read the workload\'s own queues', () => {
    expect(stack.resolve(workload.metricQueueVisibleMessages().dimensions)).toEqual({ QueueName: stack.resolve(workload.queue!.queueName) });
    expect(workload.metricDeadLetterQueueVisibleMessages().metricName).toBe('ApproximateNumberOfMessagesVisible');
    const deadLetterQueueName = stack.resolve(workload.deadLetterQueue!.queueName);
    expect(stack.resolve(workload.metricDeadLetterQueueOldestMessageAge().dimensions)).toEqual({ QueueName: deadLetterQueueName });
    expect(workload.metricDeadLetterQueueOldestMessageAge().metricName).toBe('ApproximateAgeOfOldestMessage');
  });

  test('the pods may put metrics only in the workload namespace', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: 'cloudwatch:PutMetricData',
          Effect: 'Allow',
          Resource: '*',
          Condition: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
        }]),
      },
    });
  });

  test('the processor gets the namespace and the dimensions the metric methods use', () => {
    const env = envOf(objectOfKind(manifestWith(template, 'ScaledJob').objects, 'ScaledJob'));
    expect(env.METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
    expect(env.METRICS_DIMENSIONS).toBe('Namespace=mlops,Workload=data-preprocessing');
    expect(workload.metricDimensions).toEqual({ Namespace: 'mlops', Workload: 'data-preprocessing' });
  });

  test('createDashboard: one dashboard with runs, rows, duration, the queues and the alarms', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(stack.resolve(Object.values(dashboards)[0].Properties.DashboardBody));
    for (const title of ['Runs by outcome', 'Rows', 'Run duration (seconds)', 'Upload queue', 'Alarms']) expect(body).toContain(title);
  });
});

describe('PodIdentityPreprocessing with schedule(): the missed-run alarm', () => {
  let alarms: Record<string, Alarm>;
  let workload: PodIdentityPreprocessing;
  beforeAll(() => {
    const synthesized = synth({ trigger: PreprocessingTrigger.schedule('0 2 * * *') });
    workload = synthesized.preprocessing;
    alarms = alarmsById(synthesized.template);
  });

  test('job.alarms holds a failed-runs and a missed-run alarm, no queue alarms', () => {
    expect(Object.keys(alarms).sort()).toEqual(['FailedRunsAlarm', 'MissedRunAlarm']);
    expect(workload.alarms).toHaveLength(2);
  });

  test('no SucceededRuns within a day plus the 1-hour deadline, and no data at all, raise it', () => {
    expect(alarms.MissedRunAlarm).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: 'SucceededRuns',
      Statistic: 'Sum',
      Period: 25 * 3600,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'breaching',
    });
    expect(alarms.MissedRunAlarm.AlarmActions).toBeUndefined();
  });

  test('a metric method without a queue names the trigger it needs', () => {
    expect(() => workload.metricQueueOldestMessageAge()).toThrow(/metricQueueOldestMessageAge\(\) needs the onUpload\(\) trigger/);
  });
});

describe('alarm options', () => {
  test('createAlarms: false creates none', () => {
    const { template, preprocessing } = synth({ createAlarms: false });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(preprocessing.alarms).toEqual([]);
  });

  test('thresholds and periods are overridable', () => {
    const { template } = synth({
      trigger: PreprocessingTrigger.schedule('*/15 * * * *'),
      alarmOptions: { failedRunsThreshold: 3, failedRunsPeriod: Duration.hours(1), missedRunPeriod: Duration.hours(2) },
    });
    const alarms = alarmsById(template);
    expect(alarms.FailedRunsAlarm).toMatchObject({ Threshold: 3, Period: 3600 });
    expect(alarms.MissedRunAlarm).toMatchObject({ Period: 7200 });
  });

  test('a schedule with runs more than 7 days apart gets no missed-run alarm, and a warning says why', () => {
    const { stack, template } = synth({ trigger: PreprocessingTrigger.schedule('0 3 1 * *') });
    expect(Object.keys(alarmsById(template))).toEqual(['FailedRunsAlarm']);
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('No missed-run alarm'));
  });

  test('an alarm period that is not whole minutes fails naming the prop', () => {
    expect(() => synth({ alarmOptions: { failedRunsPeriod: Duration.seconds(90) } }))
      .toThrow(/alarmOptions.failedRunsPeriod/);
  });
});

describe('the construct and the processor agree on the metric names', () => {
  test('every outcome and count the processor publishes has its name here', () => {
    const processorNames = [...RUN_OUTCOMES.map(outcomeMetricName), ...Object.values(METRIC_NAMES)].sort();
    expect(Object.values(RUN_METRIC_NAMES).sort()).toEqual(processorNames);
  });
});
