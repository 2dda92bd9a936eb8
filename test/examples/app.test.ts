import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildExampleApp } from '../../examples/app';
import { runAwsSolutions } from '../nag';

function findOne(template: Template, type: string, props: any = {}): any {
  const found = Object.values<any>(template.findResources(type, props));
  expect(found).toHaveLength(1);
  return found[0];
}

describe('the example app reproduces the walkthrough', () => {
  let network: Template;
  let cluster: Template;
  beforeAll(() => {
    const app = new App();
    const stacks = buildExampleApp(app);
    network = Template.fromStack(stacks.network);
    cluster = Template.fromStack(stacks.cluster);
  });

  test('NetworkStack: eks-demo-vpc, 10.10.0.0/16, the walkthrough subnets and one NAT gateway', () => {
    network.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: '10.10.0.0/16',
      Tags: Match.arrayWith([{ Key: 'Name', Value: 'eks-demo-vpc' }]),
    });
    const cidrs = Object.values<any>(network.findResources('AWS::EC2::Subnet')).map((s) => s.Properties.CidrBlock).sort();
    expect(cidrs).toEqual(['10.10.0.0/24', '10.10.1.0/24', '10.10.10.0/24', '10.10.11.0/24']);
    network.resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  test('every resource carries the walkthrough tags', () => {
    const expected = [
      { Key: 'Application', Value: 'eks-demo' },
      { Key: 'Environment', Value: 'Sandbox' },
      { Key: 'ManagedBy', Value: 'CDK' },
      { Key: 'Owner', Value: 'mlops-team' },
      { Key: 'Project', Value: 'AWSInfra' },
    ];
    network.hasResourceProperties('AWS::EC2::VPC', { Tags: Match.arrayWith(expected) });
    cluster.hasResourceProperties('AWS::EKS::Cluster', { Tags: Match.arrayWith(expected) });
    cluster.hasResourceProperties('AWS::S3::Bucket', { Tags: Match.arrayWith(expected) });
  });

  test('EksClusterStack: cluster eks-demo-eks-cluster with node group eks-demo-primary-nodegroup', () => {
    cluster.hasResourceProperties('AWS::EKS::Cluster', { Name: 'eks-demo-eks-cluster', Version: '1.34' });
    cluster.hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: 'eks-demo-primary-nodegroup',
      InstanceTypes: ['t3.medium'],
      ScalingConfig: { MinSize: 1, MaxSize: 5, DesiredSize: 1 },
    });
  });

  test('the node group grows and shrinks by itself: the Cluster Autoscaler, for this cluster\'s tagged groups', () => {
    const chart = findOne(cluster, 'Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'cluster-autoscaler' } });
    expect(chart.Properties.Values['Fn::Join'][1].join('')).toContain('"tags":["k8s.io/cluster-autoscaler/enabled","k8s.io/cluster-autoscaler/eks-demo-eks-cluster"]');
    cluster.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'kube-system', ServiceAccount: 'cluster-autoscaler' });
  });

  test('the five eks-demo buckets exist and are destroyed with the demo', () => {
    const buckets = Object.values<any>(cluster.findResources('AWS::S3::Bucket'));
    expect(buckets.map((b) => b.Properties.BucketName).sort()).toEqual([
      'eks-demo-feature-store-bucket', 'eks-demo-logs-bucket', 'eks-demo-model-artifacts-bucket',
      'eks-demo-processed-data-bucket', 'eks-demo-raw-data-bucket',
    ]);
    expect(new Set(buckets.map((b) => b.DeletionPolicy))).toEqual(new Set(['Delete']));
  });

  test('the data-preprocessing role is associated with mlops/data-preprocessing-sa', () => {
    const role = findOne(cluster, 'AWS::IAM::Role', { Properties: { RoleName: 'eks-demo-data-preprocessing-role' } });
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
    cluster.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'mlops', ServiceAccount: 'data-preprocessing-sa' });
  });

  test('the ScaledJob data-preprocessing runs the bundled image once per upload, with the walkthrough env', () => {
    const manifests = Object.values<any>(cluster.findResources('Custom::AWSCDK-EKS-KubernetesResource'));
    const text = JSON.stringify(manifests.map((m) => m.Properties.Manifest));
    expect(text).toContain('\\"kind\\":\\"ScaledJob\\",\\"metadata\\":{\\"name\\":\\"data-preprocessing\\",\\"namespace\\":\\"mlops\\"');
    for (const env of ['QUEUE_URL', 'INPUT_BUCKET', 'INPUT_PREFIX', 'OUTPUT_BUCKET', 'OUTPUT_PREFIX', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'LOG_LEVEL']) {
      expect(text).toContain(`\\"name\\":\\"${env}\\"`);
    }
    expect(text).toContain('cdk-hnb659fds-container-assets');
  });

  test('an upload to s3://eks-demo-raw-data-bucket/data/ starts the pipeline', () => {
    cluster.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [Match.objectLike({
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: Match.arrayWith([{ Name: 'prefix', Value: 'data/' }]) } },
        })],
      },
    });
    const bucketId = Object.keys(cluster.findResources('AWS::S3::Bucket', { Properties: { BucketName: 'eks-demo-raw-data-bucket' } }))[0];
    cluster.hasResourceProperties('Custom::S3BucketNotifications', { BucketName: { Ref: bucketId } });
  });

  test('the data buckets log their access to the walkthrough\'s logs bucket', () => {
    const logsId = Object.keys(cluster.findResources('AWS::S3::Bucket', { Properties: { BucketName: 'eks-demo-logs-bucket' } }))[0];
    const logged = Object.values<any>(cluster.findResources('AWS::S3::Bucket', {
      Properties: { LoggingConfiguration: { DestinationBucketName: { Ref: logsId } } },
    })).map((b) => b.Properties.BucketName).sort();
    expect(logged).toEqual(['eks-demo-feature-store-bucket', 'eks-demo-model-artifacts-bucket', 'eks-demo-processed-data-bucket', 'eks-demo-raw-data-bucket']);
  });
});

describe('the example app with context bucketNamePrefix', () => {
  test('names the five buckets with the prefix (bucket names are global)', () => {
    const app = new App({ context: { bucketNamePrefix: 'acme-eks-demo' } });
    const names = Object.values<any>(Template.fromStack(buildExampleApp(app).cluster).findResources('AWS::S3::Bucket'))
      .map((b) => b.Properties.BucketName).sort();
    expect(names).toEqual(['acme-eks-demo-feature-store-bucket', 'acme-eks-demo-logs-bucket', 'acme-eks-demo-model-artifacts-bucket',
      'acme-eks-demo-processed-data-bucket', 'acme-eks-demo-raw-data-bucket']);
  });
});

describe('the example app\'s API endpoint', () => {
  test('is private unless context publicAccessCidrs is given', () => {
    const { cluster } = buildExampleApp(new App());
    Template.fromStack(cluster).hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false }),
    });
  });

  test('with -c publicAccessCidrs=<ip>/32,<cidr> is public from those CIDRs only', () => {
    const app = new App({ context: { publicAccessCidrs: '203.0.113.7/32, 198.51.100.0/24' } });
    const { cluster } = buildExampleApp(app);
    Template.fromStack(cluster).hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({
        EndpointPrivateAccess: true,
        EndpointPublicAccess: true,
        PublicAccessCidrs: ['203.0.113.7/32', '198.51.100.0/24'],
      }),
    });
  });

  test('refuses a malformed CIDR, naming the prop', () => {
    const app = new App({ context: { publicAccessCidrs: '203.0.113.7' } });
    expect(() => buildExampleApp(app)).toThrow(/invalid 'publicAccessCidrs'/);
  });
});

describe('the example app with context kubernetesVersion=1.32', () => {
  test('uses Kubernetes 1.32 with the kubectl 1.32 layer', () => {
    const app = new App({ context: { kubernetesVersion: '1.32' } });
    const { cluster } = buildExampleApp(app);
    Template.fromStack(cluster).hasResourceProperties('AWS::EKS::Cluster', { Version: '1.32' });
  });

  test('refuses any other version, naming the context key', () => {
    const app = new App({ context: { kubernetesVersion: '1.20' } });
    expect(() => buildExampleApp(app)).toThrow(/context kubernetesVersion/);
  });
});

describe('cdk-nag AwsSolutions on the example', () => {
  test('no unacknowledged error or warning, and every acknowledgement has a reason', () => {
    const { violations, acknowledgements } = runAwsSolutions((app) => buildExampleApp(app));
    expect(violations).toEqual([]);
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { id, reason } of acknowledgements) {
      expect(`${id}: ${reason}`).toMatch(/: \S.{30,}/);
    }
  });
});
