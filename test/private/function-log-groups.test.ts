import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MlopsEksCluster, PodIdentityPreprocessing, PreprocessingTrigger } from '../../src';
import { IMAGE } from '../preprocessing/helpers';

/** A cluster stack (its name generated: the control-plane group's retention is set by aws-logs' LogRetention function) and an onUpload() workload stack. */
function synth(): { cluster: Template; workload: Template } {
  const app = new App();
  const clusterStack = new Stack(app, 'ClusterStack');
  const cluster = new MlopsEksCluster(clusterStack, 'Eks', {
    vpc: new ec2.Vpc(clusterStack, 'Vpc', { maxAzs: 2 }), kubernetesVersion: eks.KubernetesVersion.V1_36, keda: true,
  });
  const workloadStack = new Stack(app, 'WorkloadStack');
  new PodIdentityPreprocessing(workloadStack, 'Preprocessing', { cluster: cluster.cluster, image: IMAGE, trigger: PreprocessingTrigger.onUpload() });
  // A function of the user's own: not the library's to change.
  new lambda.Function(workloadStack, 'UsersOwn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}') });
  return { cluster: Template.fromStack(clusterStack), workload: Template.fromStack(workloadStack) };
}

/** Each function's description (or logical ID) → the retention and deletion policy of the log group it writes to. */
function functionLogGroups(template: Template): Record<string, { retention?: number; deletion?: string } | undefined> {
  const resources = template.toJSON().Resources;
  return Object.fromEntries(Object.entries<any>(template.findResources('AWS::Lambda::Function')).map(([id, fn]) => {
    const groupId = fn.Properties.LoggingConfig?.LogGroup?.Ref;
    const group = groupId ? resources[groupId] : undefined;
    return [fn.Properties.Description ?? id, group && { retention: group.Properties.RetentionInDays, deletion: group.DeletionPolicy }];
  }));
}

describe('every deployment-time Lambda function the library causes writes to a log group of the stack, with a retention, deleted with the stack', () => {
  let templates: { cluster: Template; workload: Template };
  beforeAll(() => {
    templates = synth();
  });

  test('cluster stack: the kubectl handler, the provider framework\'s onEvent function, the log-retention and CfnUtils functions (else /aws/lambda/* groups never expire)', () => {
    const groups = functionLogGroups(templates.cluster);
    expect(Object.keys(groups).map((name) => name.replace(/[0-9a-f]{32}.*$/, '<uuid>').replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'AWS CDK resource provider framework - onEvent (ClusterStack/Eks/Cluster/KubectlProvider/Provider)',
      'AWSCDKCfnUtilsProviderCustomResourceProviderHandler',
      'LogRetention<uuid>',
      'onEvent handler for EKS kubectl resource provider',
    ]);
    for (const group of Object.values(groups)) {
      expect(group).toEqual({ retention: 365, deletion: 'Delete' });
    }
  });

  test('workload stack: the bucket notifications handler; a function of the user\'s own is left as it is', () => {
    const groups = functionLogGroups(templates.workload);
    const names = Object.keys(groups);
    expect(names).toHaveLength(2);
    const notifications = names.find((name) => /^BucketNotificationsHandler/.test(name) || /notification/i.test(name))!;
    expect(groups[notifications]).toEqual({ retention: 365, deletion: 'Delete' });
    const usersOwn = names.find((name) => /^UsersOwn/.test(name))!;
    expect(groups[usersOwn]).toBeUndefined();
  });
});
