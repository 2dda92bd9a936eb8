import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { envOf, manifestWith, objectOfKind, schemaProblems, synth, synthWorkloads } from './helpers';
import { PodIdentityPreprocessing, PreprocessingTrigger, ProcessorImage } from '../../src';

/** KEDA's chart (the cluster also installs the Cluster Autoscaler's). */
const KEDA_CHART = { Properties: { Chart: 'keda' } };

describe('PreprocessingTrigger.schedule', () => {
  let preprocessing: PodIdentityPreprocessing;
  beforeAll(() => {
    ({ preprocessing } = synth({ trigger: PreprocessingTrigger.schedule('0 2 * * *') }));
  });

  test('a CronJob that fires on the schedule and never runs two Jobs at once', () => {
    const cronJob = objectOfKind(preprocessing.manifests, 'CronJob');
    expect(cronJob.spec).toMatchObject({ schedule: '0 2 * * *', suspend: false, concurrencyPolicy: 'Forbid' });
    expect(cronJob.spec.jobTemplate.spec.backoffLimit).toBe(2);
    expect(preprocessing.runCommand).toContain('--from=cronjob/data-preprocessing');
    expect(schemaProblems(preprocessing.manifests)).toEqual([]);
  });

  test('a schedule that is not five cron fields is refused, naming the prop', () => {
    expect(() => synth({ trigger: PreprocessingTrigger.schedule('every day') })).toThrow(/invalid 'trigger': schedule 'every day' must be a five-field cron/);
  });
});

describe('PreprocessingTrigger.onDeploy', () => {
  const onDeploy = PreprocessingTrigger.onDeploy();
  let template: Template;
  let preprocessing: PodIdentityPreprocessing;
  let jobName: string;
  beforeAll(() => {
    ({ template, preprocessing } = synth({ trigger: onDeploy }));
    jobName = objectOfKind(preprocessing.manifests, 'Job').metadata.name;
  });

  test('a one-shot Job named after a short hash of its spec, in a manifest of its own', () => {
    expect(jobName).toMatch(/^data-preprocessing-[0-9a-f]{8}$/);
    const run = manifestWith(template, 'Job');
    expect(run.objects.map((o) => o.kind)).toEqual(['Job']);
    expect(run.dependsOn).toContain(manifestWith(template, 'ServiceAccount').logicalId);
    expect(preprocessing.manifests.some((o) => o.kind === 'CronJob')).toBe(false);
    expect(preprocessing.runCommand).toBeUndefined();
    expect(schemaProblems(preprocessing.manifests)).toEqual([]);
  });

  test('a new spec is a new manifest: CloudFormation creates the new Job, then drops the old manifest from the stack', () => {
    const idWith = (props: Parameters<typeof synth>[0]): string => manifestWith(synth({ trigger: onDeploy, ...props as object }).template, 'Job').logicalId;
    const id = manifestWith(template, 'Job').logicalId;
    expect(idWith({ createAdditionalBuckets: true })).toBe(id);
    expect(idWith({ logLevel: 'DEBUG' })).not.toBe(id);
  });

  test('the old Job outlives its manifest (DeletionPolicy Retain: CloudFormation sends the kubectl handler no Delete, so a running run finishes and its ttlSecondsAfterFinished removes it)', () => {
    const resource = template.toJSON().Resources[manifestWith(template, 'Job').logicalId];
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
    expect(objectOfKind(preprocessing.manifests, 'Job').spec.ttlSecondsAfterFinished).toBe(86400);
    // Only the Job: the workload's other manifests are deleted with it (a rename must remove them).
    for (const kind of ['ServiceAccount', 'NetworkPolicy']) {
      expect(template.toJSON().Resources[manifestWith(template, kind).logicalId].DeletionPolicy).toBe('Delete');
    }
  });

  test('the same spec gives the same name; a new image, environment or resources give a new one', () => {
    const nameWith = (props: Parameters<typeof synth>[0]): string =>
      objectOfKind(synth({ trigger: onDeploy, ...props as object }).preprocessing.manifests, 'Job').metadata.name;
    expect(nameWith({})).toBe(jobName);
    expect(nameWith({ createAdditionalBuckets: true })).toBe(jobName);
    const others = [
      nameWith({ image: ProcessorImage.fromImageUri('123456789012.dkr.ecr.eu-west-1.amazonaws.com/preprocess:1.0.1') }),
      nameWith({ logLevel: 'DEBUG' }),
      nameWith({ resources: { memoryLimit: '3Gi' } }),
    ];
    expect(new Set([jobName, ...others]).size).toBe(4);
  });
});

describe('PreprocessingTrigger.onUpload', () => {
  let template: Template;
  let preprocessing: PodIdentityPreprocessing;
  let scaledJob: Record<string, any>;
  beforeAll(() => {
    ({ template, preprocessing } = synth({ trigger: PreprocessingTrigger.onUpload() }));
    scaledJob = objectOfKind(preprocessing.manifests, 'ScaledJob');
  });

  const queueId = (): string => Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }))[0];
  const deadLetterQueueId = (): string => Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.absent() } }))[0];

  test('an encrypted queue with a dead-letter queue after 3 receives, hidden longer than a Job may run', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 3600 + 300,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueueId(), 'Arn'] }, maxReceiveCount: 3 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600, RedrivePolicy: Match.absent() });
    expect(preprocessing.queue).toBeDefined();
    expect(preprocessing.deadLetterQueue).toBeDefined();
  });

  test('both queues refuse requests without TLS', () => {
    for (const id of [queueId(), deadLetterQueueId()]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
  });

  test('only S3, for this bucket and this account, may send to the queue', () => {
    const policy = Object.values<any>(template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: queueId() }] } }))[0];
    const allows = policy.Properties.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Allow');
    expect(allows).toEqual([{
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
      Resource: { 'Fn::GetAtt': [queueId(), 'Arn'] },
      Condition: {
        ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(/^Workload.*RawDataBucket[0-9A-F]{8}$/), 'Arn'] } },
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      },
    }]);
  });

  test('the raw bucket notifies the queue of every .csv object created under the input prefix', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: Match.stringLikeRegexp('^Workload.*RawDataBucket[0-9A-F]{8}$') },
      NotificationConfiguration: {
        QueueConfigurations: [{
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.csv' }, { Name: 'prefix', Value: 'data/' }] } },
          QueueArn: { 'Fn::GetAtt': [queueId(), 'Arn'] },
        }],
      },
    });
  });

  test('the pods may receive, keep, delete and measure messages of their own queue, nothing else of SQS', () => {
    const policy = Object.values<any>(template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Workload.*Role[0-9A-F]{8}$') }] },
    }))[0];
    const sqsStatements = policy.Properties.PolicyDocument.Statement.filter((s: any) => JSON.stringify(s.Action).includes('sqs:'));
    expect(sqsStatements).toEqual([{
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
      Resource: { 'Fn::GetAtt': [queueId(), 'Arn'] },
    }]);
  });

  test('KEDA is installed from its Helm chart, pinned, after its operator\'s Pod Identity association', () => {
    const charts = Object.values<any>(template.findResources('Custom::AWSCDK-EKS-HelmChart', KEDA_CHART));
    expect(charts).toHaveLength(1);
    expect(charts[0].Properties).toMatchObject({
      Chart: 'keda', Release: 'keda', Version: '2.21.1', Repository: 'https://kedacore.github.io/charts', Namespace: 'keda', CreateNamespace: true, Wait: true,
    });
    const [associationId] = Object.keys(template.findResources('AWS::EKS::PodIdentityAssociation', {
      Properties: { Namespace: 'keda', ServiceAccount: 'keda-operator' },
    }));
    expect(charts[0].DependsOn).toContain(associationId);
    expect(charts[0].Properties.Timeout).toBe('600s');
  });

  test('KEDA\'s chart waits, like the manifests, for the cluster\'s nodes and DNS (the kubectl barrier)', () => {
    const [chart] = Object.values<any>(template.findResources('Custom::AWSCDK-EKS-HelmChart', KEDA_CHART));
    const [barrierId] = Object.keys(template.findResources('AWS::SSM::Parameter', { DependsOn: Match.anyValue() }))
      .filter((id) => id.includes('KubectlReadyBarrier'));
    expect(barrierId).toBeDefined();
    expect(chart.DependsOn).toContain(barrierId);
  });

  test('the KEDA operator may only read the length of the watched queue', () => {
    const [associationProps] = Object.values<any>(template.findResources('AWS::EKS::PodIdentityAssociation', {
      Properties: { Namespace: 'keda', ServiceAccount: 'keda-operator' },
    })).map((r) => r.Properties);
    const roleId = associationProps.RoleArn['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals).toMatchObject({
      'aws:RequestTag/kubernetes-namespace': 'keda',
      'aws:RequestTag/kubernetes-service-account': 'keda-operator',
    });
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
    expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      { Effect: 'Allow', Action: 'sqs:GetQueueAttributes', Resource: { 'Fn::GetAtt': [queueId(), 'Arn'] } },
    ]);
  });

  test('a ScaledJob with the aws-sqs-queue trigger starts one Job per message, at most 4 at once', () => {
    expect(scaledJob.apiVersion).toBe('keda.sh/v1alpha1');
    expect(scaledJob.metadata).toMatchObject({ name: 'data-preprocessing', namespace: 'mlops' });
    expect(scaledJob.spec).toMatchObject({ maxReplicaCount: 4, minReplicaCount: 0 });
    const authentication = objectOfKind(preprocessing.manifests, 'TriggerAuthentication');
    expect(authentication.spec).toEqual({ podIdentity: { provider: 'aws' } });
    const [trigger] = scaledJob.spec.triggers;
    expect(trigger).toMatchObject({ type: 'aws-sqs-queue', metadata: { queueLength: '1' }, authenticationRef: { name: authentication.metadata.name } });
    const applied = objectOfKind(manifestWith(template, 'ScaledJob').objects, 'ScaledJob');
    expect(applied.spec.triggers[0].metadata).toMatchObject({ queueURL: `{{Ref:${queueId()}}}`, queueLength: '1', awsRegion: '{{Ref:AWS::Region}}' });
  });

  test('the Jobs run the processor in queue mode: the queue and the input prefix instead of one input key', () => {
    const env = envOf(objectOfKind(manifestWith(template, 'ScaledJob').objects, 'ScaledJob'));
    expect(env).toMatchObject({ QUEUE_URL: `{{Ref:${queueId()}}}`, INPUT_PREFIX: 'data/', OUTPUT_PREFIX: 'output/' });
    expect(env.INPUT_KEY).toBeUndefined();
    expect(scaledJob.spec.jobTargetRef.podFailurePolicy.rules[0]).toMatchObject({ action: 'FailJob' });
  });

  test('the ScaledJob waits for its TriggerAuthentication, which waits for KEDA\'s chart (its CRDs) and the service account', () => {
    const [chartId] = Object.keys(template.findResources('Custom::AWSCDK-EKS-HelmChart', KEDA_CHART));
    const authentication = manifestWith(template, 'TriggerAuthentication');
    expect(authentication.dependsOn).toEqual(expect.arrayContaining([chartId, manifestWith(template, 'ServiceAccount').logicalId]));
    expect(manifestWith(template, 'ScaledJob').dependsOn).toContain(authentication.logicalId);
  });

  test('a redeploy that changes the ScaledJob lets running Jobs finish (KEDA\'s gradual rollout)', () => {
    expect(scaledJob.spec.rollout).toEqual({ strategy: 'gradual' });
  });

  test('no update prunes the Jobs KEDA starts: they carry the ScaledJob\'s labels, and no manifest\'s prune selector matches them', () => {
    const resources = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const run = manifestWith(template, 'ScaledJob');
    expect(resources[run.logicalId].Properties.PruneLabel).toBeUndefined();
    // KEDA (pkg/scaling/executor/scale_jobs.go) labels each Job with its own labels and every label of the ScaledJob.
    const applied = objectOfKind(run.objects, 'ScaledJob');
    const jobLabels = { 'scaledjob.keda.sh/name': applied.metadata.name, ...applied.metadata.labels };
    const pruneSelectors = Object.values<any>(resources).map((r) => r.Properties.PruneLabel).filter((label) => label !== undefined);
    for (const label of pruneSelectors) {
      expect(Object.keys(jobLabels)).not.toContain(label);
    }
  });

  test('retries come from the queue only: the Jobs have backoffLimit 0', () => {
    expect(scaledJob.spec.jobTargetRef.backoffLimit).toBe(0);
  });

  test('KEDA counts only visible messages, and starts Jobs for them less the pending ones (accurate)', () => {
    expect(scaledJob.spec.triggers[0].metadata.scaleOnInFlight).toBe('false');
    expect(scaledJob.spec.scalingStrategy).toEqual({ strategy: 'accurate' });
  });

  test('the processor keeps messages hidden for the queue\'s own visibility timeout', () => {
    const [queue] = Object.values<any>(template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }));
    expect(envOf(scaledJob).VISIBILITY_TIMEOUT_SECONDS).toBe(String(queue.Properties.VisibilityTimeout));
  });

  test('the deadline counts running time only: on the pod, not on the Job', () => {
    expect(scaledJob.spec.jobTargetRef.template.spec.activeDeadlineSeconds).toBe(3600);
    expect(scaledJob.spec.jobTargetRef.activeDeadlineSeconds).toBeUndefined();
  });

  test('the Cluster Autoscaler never removes a node under a running Job\'s pod', () => {
    expect(scaledJob.spec.jobTargetRef.template.metadata.annotations).toMatchObject({ 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false', 'karpenter.sh/do-not-disrupt': 'true' });
  });

  test('the dead-letter queue accepts messages only from its source queue (RedriveAllowPolicy)', () => {
    const resources = template.toJSON().Resources;
    const queueName = resources[queueId()].Properties.QueueName;
    expect(typeof queueName).toBe('string');
    const policy = resources[deadLetterQueueId()].Properties.RedriveAllowPolicy;
    expect(policy.redrivePermission).toBe('byQueue');
    expect(policy.sourceQueueArns).toHaveLength(1);
    expect(JSON.stringify(policy.sourceQueueArns[0])).toContain(`:${queueName}`);
  });

  test('the ScaledJob and TriggerAuthentication validate against KEDA\'s schema', () => {
    expect(schemaProblems(preprocessing.manifests)).toEqual([]);
  });
});

describe('PreprocessingTrigger.onUpload with two workloads on one cluster', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synthWorkloads(
      { trigger: PreprocessingTrigger.onUpload() },
      { jobName: 'second', namespace: 'second', inputPrefix: 'second/', inputKey: 'second/x.csv', trigger: PreprocessingTrigger.onUpload({ maxParallelJobs: 2, suffix: '.txt' }) },
    ));
  });

  test('KEDA (the cluster\'s) is there once, and its operator may read the length of both queues', () => {
    expect(Object.keys(template.findResources('Custom::AWSCDK-EKS-HelmChart', KEDA_CHART))).toHaveLength(1);
    const queueArns = Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }))
      .map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }));
    expect(queueArns).toHaveLength(2);
    const [association] = Object.values<any>(template.findResources('AWS::EKS::PodIdentityAssociation', { Properties: { Namespace: 'keda' } }));
    const roleId = association.Properties.RoleArn['Fn::GetAtt'][0];
    const statements = Object.values<any>(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(2);
    expect(statements).toEqual(expect.arrayContaining(queueArns.map((arn) => ({ Effect: 'Allow', Action: 'sqs:GetQueueAttributes', Resource: arn }))));
  });
});

describe('PreprocessingTrigger.onUpload validation names the prop', () => {
  test('parallel Jobs must fit the namespace quota together', () => {
    expect(() => synth({ trigger: PreprocessingTrigger.onUpload({ maxParallelJobs: 5 }) }))
      .toThrow(/invalid 'trigger.maxParallelJobs': 5 parallel runs × resources.cpuLimit 2 are more than the namespace quota's limits.cpu 8/);
  });

  test('a retry inside the Job is refused: the queue redelivers', () => {
    expect(() => synth({ trigger: PreprocessingTrigger.onUpload(), backoffLimit: 2 }))
      .toThrow(/invalid 'backoffLimit': 2 cannot be used with onUpload\(\)/);
  });

  test('two workloads whose upload notifications overlap on one bucket are refused, naming both', () => {
    const shared = (inputPrefix: string, suffix: string, jobName?: string) => (stack: Stack) => ({
      jobName,
      inputBucket: (stack.node.tryFindChild('Shared') as s3.Bucket | undefined) ?? new s3.Bucket(stack, 'Shared'),
      inputKey: `${inputPrefix}x.csv`,
      inputPrefix,
      trigger: PreprocessingTrigger.onUpload({ suffix, maxParallelJobs: 1 }),
    });
    expect(() => synthWorkloads(shared('data/', '.csv'), shared('data/2026/', '.csv', 'second')))
      .toThrow(/EksClusterStack\/Preprocessing2 \(prefix 'data\/2026\/', suffix '.csv'\) overlap those of EksClusterStack\/Preprocessing \(prefix 'data\/'/);
    expect(() => synthWorkloads(shared('data/', ''), shared('other/', '.csv', 'second'))).not.toThrow();
    expect(() => synthWorkloads(shared('data/', '.csv'), shared('data/', '.txt', 'second'))).not.toThrow();
  });

  test('a Job may not outlive the longest time a message can stay hidden', () => {
    expect(() => synth({ trigger: PreprocessingTrigger.onUpload(), activeDeadline: Duration.hours(12) }))
      .toThrow(/invalid 'activeDeadline': 12 hours is too long for onUpload/);
  });

  test('outputs may not land where uploads start runs', () => {
    expect(() => synth((stack) => {
      const bucket = new s3.Bucket(stack, 'Shared');
      return { inputBucket: bucket, outputBucket: bucket, inputKey: 'data/x.csv', outputPrefix: 'data/out/', trigger: PreprocessingTrigger.onUpload() };
    })).toThrow(/invalid 'outputPrefix': 'data\/out\/' overlaps inputPrefix 'data\/'/);
  });

  test.each([0, 101, 1.5])('maxParallelJobs %p', (maxParallelJobs) => {
    expect(() => synth({ trigger: PreprocessingTrigger.onUpload({ maxParallelJobs }) })).toThrow(/invalid 'trigger.maxParallelJobs'/);
  });
});
