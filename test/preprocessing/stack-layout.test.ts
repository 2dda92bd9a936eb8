import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IMAGE, testCluster } from './helpers';
import { PodIdentityPreprocessing, PreprocessingTrigger } from '../../src';

describe('a workload in a stack other than the cluster\'s', () => {
  const triggers = {
    onDemand: PreprocessingTrigger.onDemand(),
    schedule: PreprocessingTrigger.schedule('0 2 * * *'),
    onDeploy: PreprocessingTrigger.onDeploy(),
    onUpload: PreprocessingTrigger.onUpload({ maxParallelJobs: 1 }),
  };
  let app: App;
  let clusterStack: Stack;
  let workloadStacks: Stack[];
  beforeAll(() => {
    app = new App();
    clusterStack = new Stack(app, 'ClusterStack');
    const cluster = testCluster(clusterStack);
    workloadStacks = [];
    for (const applyManifests of [true, false]) {
      for (const [name, trigger] of Object.entries(triggers)) {
        const workload = `${name}${applyManifests ? '' : 'GitOps'}`;
        const stack = new Stack(app, `${workload}Stack`);
        new PodIdentityPreprocessing(stack, 'Preprocessing', { cluster: cluster.cluster, image: IMAGE, trigger, applyManifests, namespace: workload.toLowerCase() });
        workloadStacks.push(stack);
      }
    }
  });

  test('synthesizes for every trigger, applied or GitOps, without a dependency cycle', () => {
    expect(() => app.synth()).not.toThrow();
    for (const stack of workloadStacks) {
      expect(stack.dependencies.map((d) => d.stackName)).toEqual(['ClusterStack']);
    }
    expect(clusterStack.dependencies).toEqual([]);
  });

  test('KEDA may read the length of each upload queue through a policy in the workload\'s stack', () => {
    for (const stack of workloadStacks.filter((s) => s.stackName.startsWith('onUpload'))) {
      const policies = Object.values<any>(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.PolicyDocument.Statement) === JSON.stringify([
          { Action: 'sqs:GetQueueAttributes', Effect: 'Allow', Resource: p.Properties.PolicyDocument.Statement[0].Resource },
        ]));
      expect(policies).toHaveLength(1);
      expect(JSON.stringify(policies[0].Properties.Roles)).toContain('Fn::ImportValue');
    }
  });
});

describe('onUpload() with an input bucket owned by another stack', () => {
  /** Cluster stack, optional data stack holding the bucket, and the workload's stack. */
  function layout(bucketIn: 'cluster' | 'data'): { app: App; stacks: Record<string, Stack> } {
    const app = new App();
    const clusterStack = new Stack(app, 'ClusterStack');
    const cluster = testCluster(clusterStack);
    const dataStack = bucketIn === 'data' ? new Stack(app, 'DataStack') : clusterStack;
    const bucket = new s3.Bucket(dataStack, 'Uploads', { enforceSSL: true });
    const workloadStack = new Stack(app, 'WorkloadStack');
    new PodIdentityPreprocessing(workloadStack, 'Preprocessing', {
      cluster: cluster.cluster, image: IMAGE, inputBucket: bucket, trigger: PreprocessingTrigger.onUpload({ maxParallelJobs: 1 }),
    });
    return { app, stacks: { clusterStack, dataStack, workloadStack } };
  }

  test.each(['cluster', 'data'] as const)('bucket in the %s stack: synthesizes without a cycle; the notification is configured from the workload\'s stack, unmanaged (it keeps the bucket\'s other notifications, as aws-s3 does for an imported bucket)', (bucketIn) => {
    const { app, stacks } = layout(bucketIn);
    const assembly = app.synth();
    expect(stacks.workloadStack.dependencies.map((d) => d.stackName).sort()).toEqual([...new Set(['ClusterStack', stacks.dataStack.stackName])].sort());
    expect(stacks.dataStack.dependencies.map((d) => d.stackName)).not.toContain('WorkloadStack');
    const dataTemplate = Template.fromJSON(assembly.getStackByName(stacks.dataStack.stackName).template);
    expect(dataTemplate.findResources('Custom::S3BucketNotifications')).toEqual({});
    const workload = Template.fromJSON(assembly.getStackByName('WorkloadStack').template);
    const [notification] = Object.values<any>(workload.findResources('Custom::S3BucketNotifications'));
    expect(notification.Properties.Managed).toBe(false);
    expect(JSON.stringify(notification.Properties.BucketName)).toContain('Fn::ImportValue');
    expect(notification.Properties.NotificationConfiguration.QueueConfigurations).toHaveLength(1);
    // The queue admits S3 for that bucket only.
    const s3Statements = Object.values<any>(workload.findResources('AWS::SQS::QueuePolicy'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((s: any) => s.Principal?.Service === 's3.amazonaws.com');
    expect(s3Statements).toHaveLength(1);
    const [s3Statement] = s3Statements;
    expect(JSON.stringify(s3Statement.Condition.ArnLike['aws:SourceArn'])).toContain('Fn::ImportValue');
  });

  test('a managed notification of the bucket in its own stack would overwrite the workload\'s (S3 keeps one configuration per bucket): refused at synth', () => {
    const { app, stacks } = layout('data');
    const bucket = stacks.dataStack.node.findChild('Uploads') as s3.Bucket;
    bucket.addEventNotification(s3.EventType.OBJECT_REMOVED, new s3n.SqsDestination(new sqs.Queue(stacks.dataStack, 'Removals')));
    expect(() => app.synth()).toThrow(/DataStack\/Uploads.*its own stack.*notifications/);
  });
});
