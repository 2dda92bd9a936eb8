import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { validateKubernetesObjects } from './k8s-schema';
import { MlopsEksCluster, MlopsEksClusterProps, PodIdentityPreprocessing, PodIdentityPreprocessingProps, ProcessorImage } from '../../src';

export const IMAGE_URI = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preprocess:1.0.0';
export const IMAGE = ProcessorImage.fromImageUri(IMAGE_URI);

export interface Synthesized {
  readonly stack: Stack;
  readonly cluster: MlopsEksCluster;
  readonly workloads: PodIdentityPreprocessing[];
  readonly template: Template;
}

/** Props of a workload, or a function that makes them in the stack (to import buckets into it, say). */
export type WorkloadProps = Partial<PodIdentityPreprocessingProps> | ((stack: Stack) => Partial<PodIdentityPreprocessingProps>);

/** A cluster of Kubernetes 1.36, the example's version, with KEDA (2.21 is tested on it) unless `props` say otherwise. */
export function testCluster(stack: Stack, props: Partial<MlopsEksClusterProps> = {}): MlopsEksCluster {
  return new MlopsEksCluster(stack, 'Eks', {
    vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }),
    kubernetesVersion: eks.KubernetesVersion.V1_36,
    keda: true,
    ...props,
  });
}

/** A stack with a cluster and one workload per props object (ids Preprocessing, Preprocessing2, …). */
export function synthWorkloads(...propsList: WorkloadProps[]): Synthesized {
  const stack = new Stack(new App(), 'EksClusterStack');
  const cluster = testCluster(stack);
  const workloads = propsList.map((props, i) => new PodIdentityPreprocessing(stack, i === 0 ? 'Preprocessing' : `Preprocessing${i + 1}`, {
    cluster: cluster.cluster,
    image: IMAGE,
    ...(typeof props === 'function' ? props(stack) : props),
  }));
  return { stack, cluster, workloads, template: Template.fromStack(stack) };
}

export function synth(props: WorkloadProps = {}): Synthesized & { readonly preprocessing: PodIdentityPreprocessing } {
  const synthesized = synthWorkloads(props);
  return { ...synthesized, preprocessing: synthesized.workloads[0] };
}

/** One Custom::AWSCDK-EKS-KubernetesResource, its objects parsed. */
export interface AppliedManifest {
  readonly logicalId: string;
  readonly objects: Array<Record<string, any>>;
  readonly overwrite: boolean;
  readonly dependsOn: string[];
}

/**
 * The manifests the kubectl provider applies. Values CloudFormation resolves at deploy time are
 * rendered as `{{Ref:LogicalId}}` or `{{GetAtt:LogicalId.Attribute}}` inside the JSON strings.
 */
export function appliedManifests(template: Template): AppliedManifest[] {
  return Object.entries<any>(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).map(([logicalId, resource]) => ({
    logicalId,
    objects: JSON.parse(renderIntrinsics(resource.Properties.Manifest)),
    overwrite: resource.Properties.Overwrite === true,
    dependsOn: resource.DependsOn ?? [],
  }));
}

function renderIntrinsics(value: any): string {
  if (typeof value === 'string') return value;
  if (value.Ref !== undefined) return `{{Ref:${value.Ref}}}`;
  if (value['Fn::GetAtt'] !== undefined) return `{{GetAtt:${value['Fn::GetAtt'].join('.')}}}`;
  if (value['Fn::Join'] !== undefined) return value['Fn::Join'][1].map(renderIntrinsics).join(value['Fn::Join'][0]);
  if (value['Fn::Sub'] !== undefined) return String(value['Fn::Sub']);
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** The applied manifest that holds an object of this kind (exactly one must). */
export function manifestWith(template: Template, kind: string): AppliedManifest {
  const found = appliedManifests(template).filter((m) => m.objects.some((o) => o.kind === kind));
  expect(found.map((m) => m.logicalId)).toHaveLength(1);
  return found[0];
}

export function objectOfKind(objects: Array<Record<string, any>>, kind: string): Record<string, any> {
  const found = objects.filter((o) => o.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
}

/** The pod spec of a Job, CronJob or ScaledJob. */
export function podSpecOf(object: Record<string, any>): Record<string, any> {
  switch (object.kind) {
    case 'Job': return object.spec.template.spec;
    case 'CronJob': return object.spec.jobTemplate.spec.template.spec;
    case 'ScaledJob': return object.spec.jobTargetRef.template.spec;
    default: throw new Error(`${object.kind} has no pod template`);
  }
}

export function envOf(object: Record<string, any>): Record<string, string> {
  return Object.fromEntries(podSpecOf(object).containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
}

/** Schema problems of the objects (empty when all validate): strict Kubernetes 1.36 and KEDA schemas. */
export function schemaProblems(objects: Array<Record<string, any>>): string[] {
  return validateKubernetesObjects(objects);
}
