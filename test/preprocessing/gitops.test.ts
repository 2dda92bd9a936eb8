import { App, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as YAML from 'yaml';
import { envOf, IMAGE, objectOfKind, synth } from './helpers';
import { MlopsEksCluster, PodIdentityPreprocessing, PreprocessingTrigger } from '../../src';

/** Helm charts other than the cluster's own (the Cluster Autoscaler, KEDA). */
function workloadCharts(template: Template): string[] {
  return Object.entries<any>(template.findResources('Custom::AWSCDK-EKS-HelmChart'))
    // The cluster's own charts (the Cluster Autoscaler, KEDA with keda: true) are not the workload's.
    .filter(([, chart]) => !['cluster-autoscaler', 'keda'].includes(chart.Properties.Chart))
    .map(([id]) => id);
}

describe('GitOps (applyManifests: false) with literal inputs', () => {
  let template: Template;
  let preprocessing: PodIdentityPreprocessing;
  beforeAll(() => {
    const stack = new Stack(new App(), 'GitOps', { env: { account: '123456789012', region: 'eu-west-1' } });
    const cluster = new MlopsEksCluster(stack, 'Eks', {
      vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }), kubernetesVersion: eks.KubernetesVersion.V1_36,
    });
    preprocessing = new PodIdentityPreprocessing(stack, 'Preprocessing', {
      cluster: cluster.cluster,
      image: IMAGE,
      applyManifests: false,
      inputBucket: s3.Bucket.fromBucketName(stack, 'In', 'acme-raw'),
      outputBucket: s3.Bucket.fromBucketName(stack, 'Out', 'acme-processed'),
    });
    template = Template.fromStack(stack);
  });

  test('nothing is applied through the cluster', () => {
    template.resourceCountIs('Custom::AWSCDK-EKS-KubernetesResource', 0);
    expect(workloadCharts(template)).toEqual([]);
  });

  test('manifestYaml is plain YAML a GitOps tool can apply: no token, the real names', () => {
    expect(Token.isUnresolved(preprocessing.manifestYaml)).toBe(false);
    expect(preprocessing.manifestYaml).not.toContain('${Token');
    const documents = YAML.parseAllDocuments(preprocessing.manifestYaml).map((d) => d.toJS());
    expect(documents.map((d) => d.kind)).toEqual(['Namespace', 'ResourceQuota', 'LimitRange', 'ServiceAccount', 'NetworkPolicy', 'CronJob']);
    expect(envOf(objectOfKind(documents, 'CronJob'))).toMatchObject({ INPUT_BUCKET: 'acme-raw', OUTPUT_BUCKET: 'acme-processed', AWS_REGION: 'eu-west-1' });
  });

  test('nothing needs publishing', () => {
    expect(preprocessing.manifestParameter).toBeUndefined();
    expect(Object.keys(template.findResources('AWS::SSM::Parameter', { Properties: { Description: Match.stringLikeRegexp('Kubernetes manifests') } }))).toHaveLength(0);
  });
});

describe('GitOps with values known only at deploy time', () => {
  let template: Template;
  let preprocessing: PodIdentityPreprocessing;
  beforeAll(() => {
    ({ template, preprocessing } = synth({ applyManifests: false, trigger: PreprocessingTrigger.onUpload() }));
  });

  test('the YAML is published resolved in an SSM parameter named in a stack output', () => {
    expect(preprocessing.manifestParameter).toBeDefined();
    const [parameter] = Object.values<any>(template.findResources('AWS::SSM::Parameter', { Properties: { Description: Match.stringLikeRegexp('Kubernetes manifests') } }));
    expect(parameter.Properties.Tier).toBe('Intelligent-Tiering');
    const parts: any[] = parameter.Properties.Value['Fn::Join'][1];
    const literal = parts.filter((p) => typeof p === 'string').join('');
    expect(literal).toContain('kind: ScaledJob');
    expect(literal).not.toContain('${Token');
    expect(parts).toContainEqual({ Ref: expect.stringMatching(/^Workload.*RawDataBucket/) });
    expect(parts).toContainEqual({ Ref: expect.stringMatching(/^Workload.*UploadQueueQueue/) });
    template.hasOutput('*', { Value: { Ref: Object.keys(template.findResources('AWS::SSM::Parameter', { Properties: { Tier: 'Intelligent-Tiering' } }))[0] } });
  });

  test('the AWS side of onUpload is created; KEDA is the cluster\'s (keda: true), never the workload\'s', () => {
    expect(workloadCharts(template)).toEqual([]);
    template.resourceCountIs('Custom::AWSCDK-EKS-KubernetesResource', 0);
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'keda', ServiceAccount: 'keda-operator' });
    template.resourceCountIs('AWS::SQS::Queue', 2);
  });
});
