import { KubectlV32Layer } from '@aws-cdk/lambda-layer-kubectl-v32';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IMAGE, testCluster } from './helpers';
import { MlopsEksCluster, PodIdentityPreprocessing, PreprocessingTrigger } from '../../src';
import { kedaChartFor } from '../../src/preprocessing/keda';

/** The KEDA chart version a cluster of this Kubernetes version installs with `keda: true`. */
function kedaChartOnCluster(version: eks.KubernetesVersion, kubectlLayer?: (stack: Stack) => any, kedaVersion?: string): string {
  const stack = new Stack(new App(), 'Stack');
  new MlopsEksCluster(stack, 'Eks', {
    vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }), kubernetesVersion: version, kubectlLayer: kubectlLayer?.(stack), keda: true, kedaVersion,
  });
  const [chart] = Object.values<any>(Template.fromStack(stack).findResources('Custom::AWSCDK-EKS-HelmChart', KEDA_CHART));
  return chart.Properties.Version;
}

const KEDA_CHART = { Properties: { Chart: 'keda' } };

function exportNames(template: Record<string, any>): string[] {
  return Object.values<any>(template.Outputs ?? {}).map((o) => o.Export?.Name).filter(Boolean);
}

describe('KEDA is a feature of the cluster, never of a workload', () => {
  /** A cluster stack and a workload stack; the workload's trigger is what changes between deploys. */
  function twoStacks(keda: boolean, trigger?: PreprocessingTrigger): { cluster: Record<string, any>; workload?: Record<string, any> } {
    const app = new App();
    const clusterStack = new Stack(app, 'ClusterStack');
    const cluster = testCluster(clusterStack, { keda });
    if (trigger) {
      new PodIdentityPreprocessing(new Stack(app, 'WorkloadStack'), 'Preprocessing', { cluster: cluster.cluster, image: IMAGE, trigger });
    }
    // Read at once: every app of this file synthesizes into the same output directory.
    const assembly = app.synth();
    return { cluster: assembly.getStackByName('ClusterStack').template, workload: trigger && assembly.getStackByName('WorkloadStack').template };
  }

  test('keda: true installs the chart and the operator\'s role and association with no workload at all', () => {
    const { cluster } = twoStacks(true);
    const template = Template.fromJSON(cluster);
    template.resourceCountIs('Custom::AWSCDK-EKS-HelmChart', 2); // KEDA and the Cluster Autoscaler
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { Chart: 'keda', Version: '2.21.1' });
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'keda', ServiceAccount: 'keda-operator' });
  });

  test('switching the last onUpload() workload of another stack to another trigger leaves the cluster stack unchanged: the KEDA role\'s export it imported stays (Stack.exportValue)', () => {
    const withUpload = twoStacks(true, PreprocessingTrigger.onUpload());
    const switched = twoStacks(true, PreprocessingTrigger.onDemand());
    expect(switched.cluster).toEqual(withUpload.cluster);
    // The workload stack imports the operator role's name under an export the cluster stack has with or without it.
    const imported = JSON.stringify(withUpload.workload);
    const importNames = [...imported.matchAll(/"Fn::ImportValue":"([^"]+)"/g)].map((m) => m[1]);
    const kedaRoleExports = exportNames(withUpload.cluster).filter((name) => importNames.includes(name) && /Keda/.test(name));
    expect(kedaRoleExports).toHaveLength(1);
    expect(exportNames(twoStacks(true).cluster)).toContain(kedaRoleExports[0]);
  });

  test('an onUpload() workload on a cluster without KEDA fails at synth, naming the cluster\'s keda prop', () => {
    expect(() => twoStacks(false, PreprocessingTrigger.onUpload()))
      .toThrow(/PodIdentityPreprocessing: invalid 'trigger': onUpload\(\) needs KEDA on the cluster ClusterStack\/Eks\/Cluster, which does not have it: create the cluster with MlopsEksCluster prop `keda: true`/);
  });

  test('without keda, nothing of KEDA is installed, and kedaVersion alone is refused', () => {
    const template = Template.fromJSON(twoStacks(false, PreprocessingTrigger.onDemand()).cluster);
    expect(template.findResources('Custom::AWSCDK-EKS-HelmChart', KEDA_CHART)).toEqual({});
    expect(template.findResources('AWS::EKS::PodIdentityAssociation', { Properties: { Namespace: 'keda' } })).toEqual({});
    const stack = new Stack(new App(), 'Stack');
    expect(() => testCluster(stack, { keda: false, kedaVersion: '2.21.1' })).toThrow(/MlopsEksCluster: invalid 'kedaVersion': needs keda: true/);
  });
});

describe('KEDA follows the cluster\'s Kubernetes version (KEDA\'s compatibility matrix)', () => {
  test.each([['1.32', '2.19.0'], ['1.33', '2.20.2'], ['1.34', '2.21.1'], ['1.35', '2.21.1'], ['1.36', '2.21.1']])('Kubernetes %s gets KEDA %s', (kubernetes, keda) => {
    expect(kedaChartFor(kubernetes, undefined)).toBe(keda);
  });

  test.each(['1.29', '1.37'])('Kubernetes %s, on which no KEDA release is tested, is refused, naming KEDA and the versions it supports', (kubernetes) => {
    expect(() => kedaChartFor(kubernetes, undefined)).toThrow(
      new RegExp(`MlopsEksCluster: invalid 'kedaVersion': no KEDA release is tested on Kubernetes ${kubernetes.replace('.', '\\.')}, which keda: true needs \\(KEDA 2\\.21: 1\\.34-1\\.36, KEDA 2\\.20: 1\\.33-1\\.35, KEDA 2\\.19: 1\\.32-1\\.34`));
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
    expect(() => kedaChartFor('1.34', '2.18.2')).toThrow(/MlopsEksCluster: invalid 'kedaVersion': KEDA 2.18.2 is tested on Kubernetes 1.31 to 1.33 .*not on the cluster's 1.34/);
  });

  test('a cluster whose version is unknown at synth (imported) gets the newest pinned chart', () => {
    expect(kedaChartFor(undefined, undefined)).toBe('2.21.1');
  });
});
