import { KubectlV32Layer } from '@aws-cdk/lambda-layer-kubectl-v32';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IMAGE } from './helpers';
import { MlopsEksCluster, PodIdentityPreprocessing, PreprocessingTrigger } from '../../src';
import { kedaChartFor } from '../../src/preprocessing/keda';

/** The KEDA chart version a cluster of this Kubernetes version gets for onUpload(). */
function kedaChartOnCluster(version: eks.KubernetesVersion, kubectlLayer?: (stack: Stack) => any, kedaVersion?: string): string {
  const stack = new Stack(new App(), 'Stack');
  const cluster = new MlopsEksCluster(stack, 'Eks', {
    vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }), kubernetesVersion: version, kubectlLayer: kubectlLayer?.(stack),
  });
  new PodIdentityPreprocessing(stack, 'Preprocessing', { cluster: cluster.cluster, image: IMAGE, trigger: PreprocessingTrigger.onUpload({ kedaVersion }) });
  const [chart] = Object.values<any>(Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'keda' } }));
  return chart.Properties.Version;
}

describe('KEDA follows the cluster\'s Kubernetes version (KEDA\'s compatibility matrix)', () => {
  test.each([['1.32', '2.19.0'], ['1.33', '2.20.2'], ['1.34', '2.21.1'], ['1.35', '2.21.1'], ['1.36', '2.21.1']])('Kubernetes %s gets KEDA %s', (kubernetes, keda) => {
    expect(kedaChartFor(kubernetes, undefined)).toBe(keda);
  });

  test.each(['1.29', '1.37'])('Kubernetes %s, on which no KEDA release is tested, is refused, naming KEDA and the versions it supports', (kubernetes) => {
    expect(() => kedaChartFor(kubernetes, undefined)).toThrow(
      new RegExp(`invalid 'trigger.kedaVersion': no KEDA release is tested on Kubernetes ${kubernetes.replace('.', '\\.')}, which onUpload\\(\\) needs \\(KEDA 2\\.21: 1\\.34-1\\.36, KEDA 2\\.20: 1\\.33-1\\.35, KEDA 2\\.19: 1\\.32-1\\.34`));
  });

  test('the cluster\'s version is read from the cluster: 1.32 and 1.36 get their pinned charts', () => {
    expect(kedaChartOnCluster(eks.KubernetesVersion.V1_32, (stack) => new KubectlV32Layer(stack, 'Kubectl'))).toBe('2.19.0');
    expect(kedaChartOnCluster(eks.KubernetesVersion.V1_36)).toBe('2.21.1');
  });

  test('the chart version stays overridable: a newer KEDA than the matrix knows is taken as given', () => {
    expect(kedaChartFor('1.36', '2.22.0')).toBe('2.22.0');
    expect(kedaChartOnCluster(eks.KubernetesVersion.V1_36, undefined, '2.22.0')).toBe('2.22.0');
  });

  test('a given KEDA release that the matrix does not list for the cluster\'s version is refused', () => {
    expect(() => kedaChartFor('1.34', '2.18.2')).toThrow(/invalid 'trigger.kedaVersion': KEDA 2.18.2 is tested on Kubernetes 1.31 to 1.33 .*not on the cluster's 1.34/);
  });

  test('a cluster whose version is unknown at synth (imported) gets the newest pinned chart', () => {
    expect(kedaChartFor(undefined, undefined)).toBe('2.21.1');
  });
});
