import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { MlopsEksCluster, MlopsNetwork, PodIdentityPreprocessing, ProcessorImage } from '../../src';

/** Every object the stack's Kubernetes manifest resources apply; references become `TOKEN`. */
function appliedObjects(template: Template): Array<Record<string, any>> {
  return Object.values<any>(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).flatMap((resource) => {
    const manifest = resource.Properties.Manifest;
    const text = typeof manifest === 'string' ? manifest : manifest['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : 'TOKEN')).join('');
    return JSON.parse(text);
  });
}

/** The JobSpec that runs the pods, whichever object (Job, CronJob, ScaledJob) carries it. */
function jobSpecOf(objects: Array<Record<string, any>>): Record<string, any> {
  const carriers = objects.flatMap((o) => {
    switch (o.kind) {
      case 'Job': return [o.spec];
      case 'CronJob': return [o.spec.jobTemplate.spec];
      case 'ScaledJob': return [o.spec.jobTargetRef];
      default: return [];
    }
  });
  expect(carriers).toHaveLength(1);
  return carriers[0];
}

describe('a workload on a Spot Graviton node group', () => {
  let template: Template;
  let jobSpec: Record<string, any>;
  beforeAll(() => {
    const stack = new Stack(new App(), 'Graviton');
    const cluster = new MlopsEksCluster(stack, 'Eks', {
      vpc: new MlopsNetwork(stack, 'Network').vpc,
      kubernetesVersion: eks.KubernetesVersion.V1_36,
      capacityType: eks.CapacityType.SPOT,
      nodeArchitecture: ec2.InstanceArchitecture.ARM_64,
    });
    new PodIdentityPreprocessing(stack, 'Preprocessing', {
      cluster: cluster.cluster,
      image: ProcessorImage.bundled({ platform: cluster.imagePlatform }),
    });
    template = Template.fromStack(stack);
    jobSpec = jobSpecOf(appliedObjects(template));
  });

  test('the image\'s platform and the pods\' node selector match the arm64 node group', () => {
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      AmiType: 'AL2023_ARM_64_STANDARD',
      CapacityType: 'SPOT',
      InstanceTypes: ['t4g.medium', 'c6g.large', 'c7g.large'],
    });
    expect(jobSpec.template.spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64' });
  });

  test('a reclaimed Spot node re-runs the pod instead of failing the Job', () => {
    expect(jobSpec.podFailurePolicy.rules).toContainEqual({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] });
  });
});
