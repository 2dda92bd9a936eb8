import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
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
