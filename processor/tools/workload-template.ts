/**
 * Reads what the demo runs from a synthesized stack template, as CloudFormation and the kubectl
 * provider would apply it:
 *
 * - the preprocessing workload in the `Custom::AWSCDK-EKS-KubernetesResource` manifests: a
 *   `batch/v1` Job (pod template at `spec.template`), a `batch/v1` CronJob
 *   (`spec.jobTemplate.spec.template`) or a KEDA `ScaledJob` (`spec.jobTargetRef.template`,
 *   `spec.maxReplicaCount` parallel Jobs, an `aws-sqs-queue` trigger);
 * - the `AWS::SQS::Queue` resources, with their dead-letter queues (RedrivePolicy);
 * - the buckets' queue notifications (`Custom::S3BucketNotifications`, as aws-s3's
 *   addEventNotification synthesizes them).
 *
 * References are resolved to local stand-ins: pseudo parameters to fixed values, buckets to their
 * names, and whatever the caller knows (the local queues' URLs and ARNs) to that.
 */
import { readFileSync } from 'node:fs';

export interface StackTemplate {
  readonly path: string;
  readonly resources: Readonly<Record<string, any>>;
}

/** What references resolve to locally. */
export interface LocalValues {
  readonly region: string;
  readonly account: string;
  /** `{"Ref": id}` → value (e.g. a local queue's URL). */
  readonly refs?: Readonly<Record<string, string>>;
  /** `{"Fn::GetAtt": [id, attribute]}` → value, keyed `id.attribute`. */
  readonly attributes?: Readonly<Record<string, string>>;
}

export type WorkloadKind = 'Job' | 'CronJob' | 'ScaledJob';

export interface Workload {
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly namespace: string;
  /** The first container's environment (literal values). */
  readonly env: Readonly<Record<string, string>>;
  /** ScaledJob: at most this many Jobs at once (KEDA's default 100 when unset). */
  readonly maxReplicaCount?: number;
  /** ScaledJob: its aws-sqs-queue trigger. */
  readonly queueTrigger?: QueueTrigger;
}

export interface QueueTrigger {
  readonly queueUrl: string;
  /** Messages per Job (KEDA's `queueLength`, default 5). */
  readonly queueLength: number;
}

export interface TemplateQueue {
  readonly logicalId: string;
  /** QueueName when literal, else the logical id. */
  readonly name: string;
  readonly visibilityTimeoutSeconds?: number;
  readonly deadLetter?: { readonly logicalId: string; readonly maxReceiveCount: number };
}

export interface TemplateQueueNotification {
  readonly bucket: string;
  readonly queueLogicalId: string;
  readonly events: readonly string[];
  readonly prefix?: string;
  readonly suffix?: string;
}

const KEDA_DEFAULT_MAX_REPLICA_COUNT = 100;
const KEDA_DEFAULT_QUEUE_LENGTH = 5;

export function readTemplate(path: string): StackTemplate {
  let template: any;
  try {
    template = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${path} (run 'npm run synth:example' first): ${(error as Error).message}`);
  }
  if (typeof template?.Resources !== 'object') throw new Error(`${path} is not a CloudFormation template (no Resources)`);
  return { path, resources: template.Resources };
}

/** Resolves the intrinsics the manifests use: Ref, Fn::GetAtt, Fn::Join, Fn::Sub. */
export function resolveValue(value: unknown, template: StackTemplate, local: LocalValues): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const intrinsic = value as Record<string, any>;
  if ('Ref' in intrinsic) return resolveRef(intrinsic.Ref, template, local);
  if ('Fn::GetAtt' in intrinsic) {
    const [id, attribute] = intrinsic['Fn::GetAtt'] as [string, string];
    return local.attributes?.[`${id}.${attribute}`] ?? `<${id}.${attribute}>`;
  }
  if ('Fn::Join' in intrinsic) {
    const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolveValue(part, template, local)).join(separator);
  }
  if ('Fn::Sub' in intrinsic) {
    const text: string = Array.isArray(intrinsic['Fn::Sub']) ? intrinsic['Fn::Sub'][0] : intrinsic['Fn::Sub'];
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      const [id, attribute] = name.split('.');
      return attribute === undefined ? resolveRef(id, template, local) : resolveValue({ 'Fn::GetAtt': [id, attribute] }, template, local);
    });
  }
  throw new Error(`cannot resolve ${JSON.stringify(value).slice(0, 120)} locally`);
}

function resolveRef(name: string, template: StackTemplate, local: LocalValues): string {
  if (name === 'AWS::Region') return local.region;
  if (name === 'AWS::AccountId') return local.account;
  if (name === 'AWS::Partition') return 'aws';
  if (name === 'AWS::URLSuffix') return 'amazonaws.com';
  const known = local.refs?.[name];
  if (known !== undefined) return known;
  const resource = template.resources[name];
  const bucketName = resource?.Properties?.BucketName;
  if (resource?.Type === 'AWS::S3::Bucket' && typeof bucketName === 'string') return bucketName;
  return `<${name}>`;
}

/** Every Kubernetes object in the template's manifests, references resolved. */
export function kubernetesObjects(template: StackTemplate, local: LocalValues): any[] {
  return Object.values(template.resources)
    .filter((resource) => resource.Type === 'Custom::AWSCDK-EKS-KubernetesResource')
    .flatMap((resource) => JSON.parse(resolveValue(resource.Properties.Manifest, template, local)) as any[]);
}

/** The preprocessing workload: the first Job, CronJob or ScaledJob in the manifests. */
export function findWorkload(template: StackTemplate, local: LocalValues): Workload {
  for (const object of kubernetesObjects(template, local)) {
    const podTemplate = podTemplateOf(object);
    if (podTemplate === undefined) continue;
    const container = podTemplate.spec?.containers?.[0];
    const env: Record<string, string> = Object.fromEntries((container?.env ?? [])
      .filter((e: { value?: unknown }) => typeof e.value === 'string')
      .map((e: { name: string; value: string }) => [e.name, e.value]));
    const workload = { kind: object.kind as WorkloadKind, name: object.metadata.name, namespace: object.metadata.namespace, env };
    if (object.kind !== 'ScaledJob') return workload;
    const trigger = (object.spec.triggers ?? []).find((t: { type?: string }) => t.type === 'aws-sqs-queue');
    return {
      ...workload,
      maxReplicaCount: object.spec.maxReplicaCount ?? KEDA_DEFAULT_MAX_REPLICA_COUNT,
      ...(trigger ? {
        queueTrigger: { queueUrl: trigger.metadata.queueURL, queueLength: Number(trigger.metadata.queueLength ?? KEDA_DEFAULT_QUEUE_LENGTH) },
      } : {}),
    };
  }
  throw new Error(`no Job, CronJob or ScaledJob manifest in ${template.path}`);
}

function podTemplateOf(object: any): any {
  if (object?.apiVersion === 'batch/v1' && object.kind === 'Job') return object.spec?.template;
  if (object?.apiVersion === 'batch/v1' && object.kind === 'CronJob') return object.spec?.jobTemplate?.spec?.template;
  if (typeof object?.apiVersion === 'string' && object.apiVersion.startsWith('keda.sh/') && object.kind === 'ScaledJob') {
    return object.spec?.jobTargetRef?.template;
  }
  return undefined;
}

/** The stack's SQS queues, each dead-letter queue before the queues that use it. */
export function findQueues(template: StackTemplate, local: LocalValues): TemplateQueue[] {
  const queues = Object.entries(template.resources)
    .filter(([, resource]) => resource.Type === 'AWS::SQS::Queue')
    .map(([logicalId, resource]): TemplateQueue => {
      const properties = resource.Properties ?? {};
      const redrive = properties.RedrivePolicy;
      return {
        logicalId,
        name: properties.QueueName === undefined ? logicalId : resolveValue(properties.QueueName, template, local),
        ...(properties.VisibilityTimeout === undefined ? {} : { visibilityTimeoutSeconds: Number(properties.VisibilityTimeout) }),
        ...(redrive ? { deadLetter: { logicalId: logicalIdOf(redrive.deadLetterTargetArn, 'RedrivePolicy.deadLetterTargetArn'), maxReceiveCount: Number(redrive.maxReceiveCount) } } : {}),
      };
    });
  return [...queues.filter((q) => !q.deadLetter), ...queues.filter((q) => q.deadLetter)];
}

/** Queue configurations of the buckets' notification resources. */
export function findQueueNotifications(template: StackTemplate, local: LocalValues): TemplateQueueNotification[] {
  return Object.values(template.resources)
    .filter((resource) => resource.Type === 'Custom::S3BucketNotifications')
    .flatMap((resource) => {
      const bucket = resolveValue(resource.Properties.BucketName, template, local);
      return (resource.Properties.NotificationConfiguration?.QueueConfigurations ?? []).map((config: any): TemplateQueueNotification => {
        const rules: Array<{ Name: string; Value: unknown }> = config.Filter?.Key?.FilterRules ?? [];
        const rule = (name: string) => rules.find((r) => r.Name.toLowerCase() === name)?.Value;
        const prefix = rule('prefix');
        const suffix = rule('suffix');
        return {
          bucket,
          queueLogicalId: logicalIdOf(config.QueueArn, 'QueueConfigurations.QueueArn'),
          events: config.Events ?? [],
          ...(prefix === undefined ? {} : { prefix: resolveValue(prefix, template, local) }),
          ...(suffix === undefined ? {} : { suffix: resolveValue(suffix, template, local) }),
        };
      });
    });
}

/** The logical id a queue ARN refers to: `{"Fn::GetAtt": [id, "Arn"]}`. */
function logicalIdOf(arn: unknown, where: string): string {
  const getAtt = (arn as Record<string, unknown> | undefined)?.['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  throw new Error(`${where} is not a Fn::GetAtt of a queue's Arn: ${JSON.stringify(arn)}`);
}

/** The input file the demo uploads and a single run reads (the walkthrough's). */
export const DEMO_INPUT_FILE = 'mock_data.csv';

/**
 * The container environment for one run of the workload on one input, without a queue: a Job's
 * or CronJob's environment as it is; a ScaledJob's without QUEUE_URL, reading
 * `<INPUT_PREFIX>mock_data.csv` (INPUT_KEY).
 */
export function singleRunEnvironment(workload: Workload): Record<string, string> {
  if (workload.kind !== 'ScaledJob') return { ...workload.env };
  const { QUEUE_URL: _queueUrl, ...env } = workload.env;
  return { ...env, INPUT_KEY: `${env.INPUT_PREFIX ?? ''}${DEMO_INPUT_FILE}` };
}
