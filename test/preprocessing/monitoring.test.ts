import { App, Duration, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { envOf, IMAGE, manifestWith, objectOfKind, synth } from './helpers';
import { METRIC_NAMES, RUN_OUTCOMES, outcomeMetricName } from '../../processor/src/runtime/metrics';
import { ClusterObservability, MlopsEksCluster, PodIdentityPreprocessing, PodIdentityPreprocessingProps, PreprocessingTrigger } from '../../src';
import { METRICS_NAMESPACE, RUN_METRIC_NAMES, WorkloadAlarms } from '../../src/preprocessing/monitoring';

type Alarm = Record<string, any>;

/** The stack's alarms by the id of the construct that made them (`FailedRunsAlarm`, …). */
function alarmsById(template: Template): Record<string, Alarm> {
  return Object.fromEntries(Object.entries(template.findResources('AWS::CloudWatch::Alarm'))
    .map(([logicalId, resource]) => [/^Preprocessing\d?(\w+Alarm)[0-9A-F]{8}$/.exec(logicalId)![1], resource.Properties]));
}

/** The construct id of each named alarm of the workload. */
function alarmIds(alarms: WorkloadAlarms): Record<string, string> {
  return Object.fromEntries(Object.entries(alarms).filter(([, alarm]) => alarm !== undefined)
    .map(([name, alarm]) => [name, (alarm as cloudwatch.Alarm).node.id]));
}

/** A math alarm's metric of this id (`failed`, `stopped`). */
function metricStat(alarm: Alarm, id: string): Record<string, any> {
  return alarm.Metrics.find((m: { Id: string }) => m.Id === id).MetricStat;
}

function dimensionNames(dimensions: Array<{ Name: string }>): string[] {
  return dimensions.map((d) => d.Name).sort();
}

/** A cluster with the given observability and name, and one workload on it. */
function synthOn(observability: ClusterObservability, workload: Partial<PodIdentityPreprocessingProps> = {}, clusterName?: string) {
  const stack = new Stack(new App(), 'EksClusterStack');
  const cluster = new MlopsEksCluster(stack, 'Eks', {
    vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }),
    kubernetesVersion: eks.KubernetesVersion.V1_36,
    observability,
    clusterName,
    keda: true,
  });
  const preprocessing = new PodIdentityPreprocessing(stack, 'Preprocessing', { cluster: cluster.cluster, image: IMAGE, ...workload });
  return { stack, template: Template.fromStack(stack), preprocessing };
}

describe('PodIdentityPreprocessing with onUpload(): metrics and alarms', () => {
  let stack: Stack;
  let template: Template;
  let workload: PodIdentityPreprocessing;
  let cluster: MlopsEksCluster;
  let alarms: Record<string, Alarm>;
  let topic: sns.Topic;
  beforeAll(() => {
    const synthesized = synth((s) => {
      topic = new sns.Topic(s, 'Alerts', { enforceSSL: true });
      return { trigger: PreprocessingTrigger.onUpload(), alarmTopic: topic, createDashboard: true, activeDeadline: Duration.minutes(30) };
    });
    ({ stack, template, preprocessing: workload, cluster } = synthesized);
    alarms = alarmsById(template);
  });

  test('job.alarms names each alarm by what it watches: failed runs, failed pods, dead letters, queue age; no missed run', () => {
    expect(Object.keys(alarms).sort()).toEqual(['DeadLetterQueueAlarm', 'FailedPodsAlarm', 'FailedRunsAlarm', 'QueueAgeAlarm']);
    expect(alarmIds(workload.alarms)).toEqual({
      failedRuns: 'FailedRunsAlarm', failedPods: 'FailedPodsAlarm', deadLetters: 'DeadLetterQueueAlarm', queueAge: 'QueueAgeAlarm',
    });
    expect(workload.alarms.missedRun).toBeUndefined();
  });

  test('failed runs: failed plus stopped runs (a deadline\'s SIGTERM) in 5 minutes, of this workload\'s dimensions; no data is no failure', () => {
    expect(alarms.FailedRunsAlarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(alarms.FailedRunsAlarm.Metrics.find((m: { Expression?: string }) => m.Expression)).toMatchObject({ Expression: 'failed + stopped' });
    for (const [id, metricName] of [['failed', 'FailedRuns'], ['stopped', 'StoppedRuns']]) {
      const stat = metricStat(alarms.FailedRunsAlarm, id);
      expect(stat).toMatchObject({ Metric: { Namespace: METRICS_NAMESPACE, MetricName: metricName }, Period: 300, Stat: 'Sum' });
      expect(dimensionNames(stat.Metric.Dimensions)).toEqual(['Cluster', 'KubernetesNamespace', 'Workload']);
      expect(stat.Metric.Dimensions).toEqual(expect.arrayContaining([
        { Name: 'KubernetesNamespace', Value: 'mlops' }, { Name: 'Workload', Value: 'data-preprocessing' },
      ]));
    }
  });

  test('failed pods: a Metrics Insights query of Container Insights\' pod_status_failed in the workload\'s namespace of this cluster', () => {
    expect(alarms.FailedPodsAlarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    expect(alarms.FailedPodsAlarm.Metrics).toHaveLength(1);
    expect(alarms.FailedPodsAlarm.Metrics[0].Period).toBe(300);
    const query = JSON.stringify(alarms.FailedPodsAlarm.Metrics[0].Expression);
    expect(query).toContain('SELECT MAX(pod_status_failed) FROM SCHEMA(\\"ContainerInsights\\", ClusterName, Namespace, PodName)');
    expect(query).toContain("AND Namespace = 'mlops'");
    // The cluster's name is known only at deploy time here: CloudFormation joins it into the query.
    expect(query).toContain(JSON.stringify(stack.resolve(cluster.cluster.clusterName)));
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

  test('queue age: a message behind a backlog of maxParallelJobs uploads and tried maxReceiveCount times does not raise it', () => {
    // (1 round of waiting + 3 receives) × (10 min pod start + 30 min deadline + 5 min visibility margin)
    expect(alarms.QueueAgeAlarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Statistic: 'Maximum',
      Threshold: 4 * 45 * 60,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(alarms.QueueAgeAlarm.Dimensions).toEqual([{ Name: 'QueueName', Value: stack.resolve(workload.queue!.queueName) }]);
  });

  test('alarmTopic: every alarm notifies the given topic, actions enabled, and no topic of the workload\'s own is created', () => {
    const topicRef = stack.resolve(topic.topicArn);
    for (const alarm of Object.values(alarms)) expect(alarm).toMatchObject({ AlarmActions: [topicRef], ActionsEnabled: true });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(workload.alarmTopic).toBe(topic);
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

  test('the processor gets the dimensions the metric methods use: Cluster (plain text: stack and path of a cluster named at deploy time), KubernetesNamespace, Workload', () => {
    const env = envOf(objectOfKind(manifestWith(template, 'ScaledJob').objects, 'ScaledJob'));
    expect(env.METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
    expect(env.METRICS_DIMENSIONS).toBe('Cluster=EksClusterStack/Eks/Cluster,KubernetesNamespace=mlops,Workload=data-preprocessing');
    expect(workload.metricDimensions).toEqual({ Cluster: 'EksClusterStack/Eks/Cluster', KubernetesNamespace: 'mlops', Workload: 'data-preprocessing' });
    expect(workload.metricFailedRuns().dimensions).toEqual(workload.metricDimensions);
  });

  test('createDashboard: one dashboard with runs, rows, duration, the queues and the alarms', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(stack.resolve(Object.values(dashboards)[0].Properties.DashboardBody));
    for (const title of ['Runs by outcome', 'Rows', 'Run duration (seconds)', 'Upload queue', 'Alarms']) expect(body).toContain(title);
  });
});

describe('PodIdentityPreprocessing with schedule() and no alarmTopic: the missed-run alarm and the default topic', () => {
  let stack: Stack;
  let template: Template;
  let alarms: Record<string, Alarm>;
  let workload: PodIdentityPreprocessing;
  beforeAll(() => {
    ({ stack, template, preprocessing: workload } = synth({ trigger: PreprocessingTrigger.schedule('0 2 * * *') }));
    alarms = alarmsById(template);
  });

  test('job.alarms holds failed runs, failed pods and a missed run, no queue alarms', () => {
    expect(Object.keys(alarms).sort()).toEqual(['FailedPodsAlarm', 'FailedRunsAlarm', 'MissedRunAlarm']);
    expect(alarmIds(workload.alarms)).toEqual({ failedRuns: 'FailedRunsAlarm', failedPods: 'FailedPodsAlarm', missedRun: 'MissedRunAlarm' });
  });

  test('no SucceededRuns within a day plus the 1-hour deadline, and no data at all, raise it; it says it is in ALARM from deploy to the first run', () => {
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
    expect(alarms.MissedRunAlarm.AlarmDescription).toMatch(/in ALARM until the first successful run .*RunCommand/);
  });

  test('without alarmTopic every alarm notifies a topic the workload creates (CT.CLOUDWATCH.PR.1: an action for the ALARM state)', () => {
    const topics = template.findResources('AWS::SNS::Topic');
    expect(Object.keys(topics)).toHaveLength(1);
    expect(workload.alarmTopic).toBeDefined();
    const topicRef = stack.resolve(workload.alarmTopic!.topicArn);
    expect(topicRef).toEqual({ Ref: Object.keys(topics)[0] });
    for (const alarm of Object.values(alarms)) expect(alarm).toMatchObject({ AlarmActions: [topicRef], ActionsEnabled: true });
  });

  test('the default topic is encrypted with a rotating KMS key that CloudWatch may use (not alias/aws/sns, which alarms cannot publish to), deleted with the stack, and TLS only', () => {
    const [topic] = Object.values<any>(template.findResources('AWS::SNS::Topic'));
    const keyId = topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    const key = template.toJSON().Resources[keyId];
    expect(key).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true, PendingWindowInDays: 7 }, DeletionPolicy: 'Delete' });
    expect(key.Properties.KeyPolicy.Statement).toEqual(expect.arrayContaining([expect.objectContaining({
      Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    })]));
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('a metric method without a queue names the trigger it needs', () => {
    expect(() => workload.metricQueueOldestMessageAge()).toThrow(/metricQueueOldestMessageAge\(\) needs the onUpload\(\) trigger/);
  });
});

describe('alarm options', () => {
  test('createAlarms: false creates no alarm and no topic', () => {
    const { template, preprocessing } = synth({ createAlarms: false });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    expect(preprocessing.alarms).toEqual({});
    expect(preprocessing.alarmTopic).toBeUndefined();
  });

  test('thresholds, periods, M out of N and actionsEnabled are overridable', () => {
    const { template } = synth({
      trigger: PreprocessingTrigger.schedule('*/15 * * * *'),
      alarmOptions: {
        failedRunsThreshold: 3,
        failedRunsPeriod: Duration.hours(1),
        missedRunPeriod: Duration.hours(2),
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        actionsEnabled: false,
        failedPodsAlarm: false,
      },
    });
    const alarms = alarmsById(template);
    expect(Object.keys(alarms).sort()).toEqual(['FailedRunsAlarm', 'MissedRunAlarm']);
    expect(alarms.FailedRunsAlarm).toMatchObject({ Threshold: 3 });
    expect(metricStat(alarms.FailedRunsAlarm, 'failed').Period).toBe(3600);
    expect(alarms.MissedRunAlarm).toMatchObject({ Period: 7200 });
    for (const alarm of Object.values(alarms)) expect(alarm).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 2, ActionsEnabled: false });
  });

  test('queue age scales with maxReceiveCount and with the expected backlog over maxParallelJobs', () => {
    const { template } = synth({
      trigger: PreprocessingTrigger.onUpload({ maxParallelJobs: 4, maxReceiveCount: 5 }),
      activeDeadline: Duration.minutes(15),
      alarmOptions: { expectedBacklog: 40 },
    });
    // (⌈40 / 4⌉ rounds + 5 receives) × (10 + 15 + 5 minutes)
    expect(alarmsById(template).QueueAgeAlarm.Threshold).toBe(15 * 30 * 60);
  });

  test('datapointsToAlarm above evaluationPeriods fails naming the prop', () => {
    expect(() => synth({ alarmOptions: { evaluationPeriods: 2, datapointsToAlarm: 3 } })).toThrow(/alarmOptions.datapointsToAlarm/);
  });

  test('evaluation periods beyond CloudWatch\'s range fail naming the prop', () => {
    expect(() => synth({ alarmOptions: { evaluationPeriods: 289 } })).toThrow(/alarmOptions.evaluationPeriods/);
  });

  test('a schedule with runs more than 7 days apart gets no missed-run alarm, and a warning says why', () => {
    const { stack, template } = synth({ trigger: PreprocessingTrigger.schedule('0 3 1 * *') });
    expect(Object.keys(alarmsById(template)).sort()).toEqual(['FailedPodsAlarm', 'FailedRunsAlarm']);
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('No missed-run alarm'));
  });

  test('an alarm period that is not whole minutes fails naming the prop', () => {
    expect(() => synth({ alarmOptions: { failedRunsPeriod: Duration.seconds(90) } }))
      .toThrow(/alarmOptions.failedRunsPeriod/);
  });
});

describe('the Cluster dimension and Container Insights', () => {
  test('a cluster named at synth gives its name to the Cluster dimension; logsOnly() publishes no Container Insights metrics, so no failed-pods alarm', () => {
    const { template, preprocessing } = synthOn(ClusterObservability.logsOnly(), {}, 'analytics');
    expect(preprocessing.metricDimensions.Cluster).toBe('analytics');
    expect(Object.keys(alarmsById(template)).sort()).toEqual(['FailedRunsAlarm']);
  });

  test('two clusters\' workloads of the same namespace and name publish under different Cluster values', () => {
    const first = synthOn(ClusterObservability.none(), {}, 'blue').preprocessing;
    const second = synthOn(ClusterObservability.none(), {}, 'green').preprocessing;
    expect(first.metricDimensions.Cluster).not.toBe(second.metricDimensions.Cluster);
  });

  test('metricsClusterName sets the Cluster dimension; a token or a comma fails naming the prop', () => {
    expect(synthOn(ClusterObservability.none(), { metricsClusterName: 'prod-eu' }).preprocessing.metricDimensions.Cluster).toBe('prod-eu');
    expect(() => synthOn(ClusterObservability.none(), { metricsClusterName: Token.asString({ Ref: 'X' }) })).toThrow(/metricsClusterName/);
    expect(() => synthOn(ClusterObservability.none(), { metricsClusterName: 'a,b' })).toThrow(/metricsClusterName/);
  });
});

describe('AWS Control Tower\'s CloudWatch proactive controls, as the README\'s table says', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synthOn(ClusterObservability.containerInsights({ logRetention: logs.RetentionDays.ONE_YEAR }), {
      trigger: PreprocessingTrigger.onUpload(),
    }, 'governed'));
  });

  test('CT.CLOUDWATCH.PR.1 and PR.4: every alarm of the defaults has an ALARM action and its actions activated', () => {
    const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions?.length).toBeGreaterThan(0);
      expect(alarm.Properties.ActionsEnabled).toBe(true);
    }
  });

  test('CT.CLOUDWATCH.PR.2: with logRetention ONE_YEAR the container log groups are kept at least a year, as is the control-plane group (a named cluster\'s is in the template)', () => {
    const groups = Object.values<any>(template.findResources('AWS::Logs::LogGroup'))
      .filter((group) => /\/aws\/(containerinsights|eks)\//.test(JSON.stringify(group.Properties.LogGroupName)));
    expect(groups.length).toBeGreaterThanOrEqual(5);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBeGreaterThanOrEqual(365);
  });
});

describe('the construct and the processor agree on the metric names', () => {
  test('every outcome and count the processor publishes has its name here', () => {
    const processorNames = [...RUN_OUTCOMES.map(outcomeMetricName), ...Object.values(METRIC_NAMES)].sort();
    expect(Object.values(RUN_METRIC_NAMES).sort()).toEqual(processorNames);
  });
});
