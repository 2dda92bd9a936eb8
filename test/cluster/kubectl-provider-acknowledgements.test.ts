import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeKubectlProvider } from '../../src/cluster/kubectl-provider-acknowledgements';

/** The rule IDs acknowledged on exactly this construct. */
function acknowledgedOn(construct: IConstruct): string[] {
  return construct.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.keys(entry.data));
}

function newStack(): { stack: Stack; vpc: ec2.Vpc } {
  const stack = new Stack(new App(), 'Acknowledgements');
  return { stack, vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) };
}

describe('acknowledging the kubectl provider\'s findings', () => {
  test('a cluster\'s provider: its handler (L1, invocation of its versions) and its roles (managed policies)', () => {
    const { stack, vpc } = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', {
      version: eks.KubernetesVersion.V1_36,
      vpc,
      kubectlProviderOptions: { kubectlLayer: new KubectlV36Layer(stack, 'Kubectl') },
    });
    acknowledgeKubectlProvider(cluster);
    const provider = cluster.kubectlProvider!;
    const handler = provider.node.findAll().find((c): c is lambda.Function => c instanceof lambda.Function && c.role === provider.role)!;
    expect(acknowledgedOn(handler)).toEqual(['Annotation::AwsSolutions-L1']);
    expect(acknowledgedOn(provider)).toEqual([expect.stringMatching(/^Annotation::AwsSolutions-IAM5\[Resource::<.*Handler.*\.Arn>:\*\]$/)]);
    const roles = provider.node.findAll().filter((c) => c instanceof iam.Role);
    expect(roles.length).toBeGreaterThan(0);
    for (const role of roles) {
      expect(acknowledgedOn(role)).toEqual(expect.arrayContaining([expect.stringMatching(/^Annotation::AwsSolutions-IAM4\[Policy::/)]));
    }
  });

  test('a cluster without a kubectl provider: nothing to acknowledge, no error', () => {
    const { stack, vpc } = newStack();
    const cluster = new eks.Cluster(stack, 'Cluster', { version: eks.KubernetesVersion.V1_36, vpc });
    expect(cluster.kubectlProvider).toBeUndefined();
    expect(() => acknowledgeKubectlProvider(cluster)).not.toThrow();
    // (aws-cdk-lib acknowledges a few CloudFormation-Validate rules of its own.)
    expect(stack.node.findAll().flatMap(acknowledgedOn).filter((id) => id.includes('AwsSolutions'))).toEqual([]);
  });

  test('an imported provider with no children: no error', () => {
    const { stack } = newStack();
    const kubectlProvider = eks.KubectlProvider.fromKubectlProviderAttributes(stack, 'Provider', {
      serviceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
      role: iam.Role.fromRoleArn(stack, 'HandlerRole', 'arn:aws:iam::123456789012:role/handler'),
    });
    const cluster = eks.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'existing', kubectlProvider });
    expect(() => acknowledgeKubectlProvider(cluster)).not.toThrow();
  });

  test('a provider whose children have other construct IDs is still acknowledged, by type and role', () => {
    const { stack } = newStack();
    // Stand-in for a future aws-cdk-lib that renames 'Handler', 'Provider' and 'framework-onEvent'.
    const provider = new Construct(stack, 'RenamedProvider');
    const handler = new lambda.Function(provider, 'KubectlApplyFunction', {
      runtime: lambda.Runtime.PYTHON_3_13,
      handler: 'index.handler',
      code: lambda.Code.fromInline('def handler(event, context): pass'),
    });
    const framework = new lambda.Function(provider, 'OnEventFramework', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });
    Object.assign(provider, { role: handler.role, serviceToken: framework.functionArn });
    acknowledgeKubectlProvider({ kubectlProvider: provider } as unknown as eks.ICluster);
    expect(acknowledgedOn(handler)).toEqual(['Annotation::AwsSolutions-L1']);
    expect(acknowledgedOn(framework)).toEqual([]);
    expect(acknowledgedOn(provider)).toEqual([expect.stringMatching(/^Annotation::AwsSolutions-IAM5\[Resource::<RenamedProviderKubectlApplyFunction.*\.Arn>:\*\]$/)]);
  });
});
