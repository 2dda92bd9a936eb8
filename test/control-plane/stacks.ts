import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CfnTemplate } from './cloudformation';
import { buildExampleApp } from '../../examples/app';
import { MlopsEksCluster, PodIdentityPreprocessing, PodIdentityPreprocessingProps, ProcessorImage } from '../../src';

export const STACK_NAME = 'EksClusterStack';

/** The example app's cluster stack (examples/app.ts), synthesized. */
export function exampleTemplate(): CfnTemplate {
  const app = new App();
  const { cluster } = buildExampleApp(app);
  return app.synth().getStackByName(cluster.stackName).template;
}

export function image(tag: string): ProcessorImage {
  return ProcessorImage.fromImageUri(`123456789012.dkr.ecr.us-east-1.amazonaws.com/preprocess:${tag}`);
}

/** A workload of the stack: its construct ID and its props (the cluster is added). */
export interface Workload {
  readonly id: string;
  readonly props: Partial<PodIdentityPreprocessingProps>;
}

/** The stack of a test: a cluster (the library's MlopsEksCluster) and these workloads on it. */
export function workloadsTemplate(...workloads: Workload[]): CfnTemplate {
  const app = new App();
  const stack = new Stack(app, STACK_NAME);
  // The version whose kubectl the library bundles, as the example app's cluster.
  const cluster = new MlopsEksCluster(stack, 'Eks', {
    vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }), kubernetesVersion: MlopsEksCluster.BUNDLED_KUBECTL_VERSION, keda: true,
  });
  for (const { id, props } of workloads) {
    new PodIdentityPreprocessing(stack, id, { cluster: cluster.cluster, image: image('1.0.0'), ...props });
  }
  return app.synth().getStackByName(STACK_NAME).template;
}
