import { dirname, join } from 'node:path';
import { controlPlane, kubectlRun, runWithDeadline } from './cluster';

/**
 * CloudFormation's part in a stack's life, for the resources that the kubectl provider handles:
 * the Create, Update and Delete events it would send, in its order, with tokens resolved to
 * fixtures, each run through aws-eks-v2's own kubectl handler (unchanged, Python) with the kubectl
 * of the kubectl layer package. The provider's Lambda functions and everything else in the
 * template are not played: only what reaches the cluster.
 */

export const KUBERNETES_RESOURCE = 'Custom::AWSCDK-EKS-KubernetesResource';
/** Helm charts cannot be fetched here: KEDA is installed by the control plane's script instead. */
const HELM_CHART = 'Custom::AWSCDK-EKS-HelmChart';
const KUBECTL_HANDLER = 'custom-resource-handlers/dist/aws-eks-v2/kubectl-handler';
/**
 * How long one handler run may take. Its Lambda function may run 15 minutes, but here it applies a
 * few objects to a local API server in seconds, and a deadline under jest's per-test timeout
 * (spawnSync blocks the event loop, so jest could not stop it) makes a hang fail the test.
 */
export const HANDLER_TIMEOUT_MS = 300_000;

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  /** `Retain`: CloudFormation forgets the resource when it leaves the template, without a Delete. */
  readonly DeletionPolicy?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** One event as the handler received it, for the test's own record. */
export interface SentEvent {
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly logicalId: string;
}

/** Values CloudFormation would know at deploy time: the queues the test created, by logical ID. */
export interface Fixtures {
  /** Queue URL and ARN of an AWS::SQS::Queue, by logical ID. */
  readonly queues: Record<string, { readonly url: string; readonly arn: string }>;
}

/** A stack as CloudFormation holds it: the deployed template and the properties it last sent. */
export class CloudFormationStack {
  private template: CfnTemplate = { Resources: {} };
  private readonly physicalIds = new Map<string, string>();
  private readonly sent = new Map<string, Record<string, unknown>>();
  public readonly events: SentEvent[] = [];
  /**
   * Objects still there (and not being deleted) after the handler ran the Delete of their
   * manifest: the handler logs a failed `kubectl delete` and returns success, so CloudFormation
   * would never know. Each life expects none.
   */
  public readonly survivorsOfDeletes: string[] = [];

  constructor(public readonly stackName: string, private readonly fixtures: () => Fixtures) {}

  /**
   * A deploy: creates and updates in dependency order; then, in cleanup, deletes what the new
   * template no longer has, in reverse dependency order of the old template.
   */
  public deploy(template: CfnTemplate): void {
    const old = this.template;
    for (const logicalId of dependencyOrder(template).filter((id) => replayed(template, id))) {
      const properties = this.resolveProperties(template, logicalId);
      const previous = this.sent.get(logicalId);
      if (!previous) {
        this.send('Create', template, logicalId, properties);
      } else if (JSON.stringify(previous) !== JSON.stringify(properties)) {
        this.send('Update', template, logicalId, properties, previous);
      }
    }
    for (const logicalId of dependencyOrder(old).reverse().filter((id) => replayed(old, id) && !template.Resources[id])) {
      if (old.Resources[logicalId].DeletionPolicy === 'Retain') {
        this.forget(logicalId);
      } else {
        this.send('Delete', old, logicalId, this.sent.get(logicalId)!);
      }
    }
    this.template = template;
  }

  /** `cdk destroy`: every resource deleted, dependents first. */
  public destroy(): void {
    this.deploy({ Resources: {} });
  }

  private send(
    requestType: SentEvent['requestType'],
    template: CfnTemplate,
    logicalId: string,
    properties: Record<string, unknown>,
    oldProperties?: Record<string, unknown>,
  ): void {
    const resource = template.Resources[logicalId];
    this.events.push({ requestType, logicalId });
    const requestId = `${this.stackName}-${this.events.length}`;
    const event: Record<string, unknown> = {
      RequestType: requestType,
      ServiceToken: properties.ServiceToken,
      ResponseURL: 'https://cloudformation-custom-resource-response.example/',
      StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${this.stackName}/00000000-0000-0000-0000-000000000000`,
      RequestId: requestId,
      LogicalResourceId: logicalId,
      ResourceType: resource.Type,
      ResourceProperties: properties,
      ...(requestType === 'Create' ? {} : { PhysicalResourceId: this.physicalIds.get(logicalId) }),
      ...(oldProperties ? { OldResourceProperties: oldProperties } : {}),
    };
    if (resource.Type === KUBERNETES_RESOURCE) runKubectlHandler(event);
    if (resource.Type === KUBERNETES_RESOURCE && requestType === 'Delete') {
      this.survivorsOfDeletes.push(...survivors(properties));
    }
    if (requestType === 'Delete') {
      this.forget(logicalId);
    } else {
      this.sent.set(logicalId, properties);
      // The provider framework names a resource after the request that created it, when the handler returns none.
      if (requestType === 'Create') this.physicalIds.set(logicalId, requestId);
    }
  }

  private forget(logicalId: string): void {
    this.sent.delete(logicalId);
    this.physicalIds.delete(logicalId);
  }

  /** The resource's properties as a custom resource receives them: tokens resolved, scalars as strings. */
  private resolveProperties(template: CfnTemplate, logicalId: string): Record<string, unknown> {
    const resolver = new IntrinsicResolver(template, this.stackName, this.fixtures());
    return stringifyScalars(resolver.resolve(template.Resources[logicalId].Properties ?? {})) as Record<string, unknown>;
  }
}

/** Resources whose events the replay sends: manifests through the handler, charts recorded only. */
function replayed(template: CfnTemplate, logicalId: string): boolean {
  const type = template.Resources[logicalId].Type;
  return type === KUBERNETES_RESOURCE || type === HELM_CHART;
}

/** Runs the handler as its Lambda function would; a failure fails the deploy, as CloudFormation would. */
function runKubectlHandler(event: Record<string, unknown>): void {
  const plane = controlPlane();
  const handlerDir = join(dirname(require.resolve('aws-cdk-lib/package.json')), KUBECTL_HANDLER);
  const result = runWithDeadline(plane.python, [join(__dirname, 'invoke-handler.py'), handlerDir], HANDLER_TIMEOUT_MS, {
    input: JSON.stringify(event),
    env: {
      ...process.env,
      // The layer's kubectl, and the `aws` stand-in for `aws eks update-kubeconfig`.
      PATH: [plane.shimDir, dirname(plane.kubectl), process.env.PATH].join(':'),
      // The handler's own setting for where it writes the kubeconfig and the manifest.
      TEST_OUTDIR: plane.handlerDir,
    },
  });
  if (result.status !== 0) {
    throw new Error(`kubectl handler failed on ${event.RequestType} ${event.LogicalResourceId}:\n${result.stdout}\n${result.stderr}`);
  }
}

/** The objects of a manifest that still exist and are not being deleted, as `Kind/namespace/name`. */
function survivors(properties: Record<string, unknown>): string[] {
  const manifest: Array<Record<string, any>> = JSON.parse(String(properties.Manifest));
  return manifest.filter((object) => {
    const found = kubectlRun(['get', '-f', '-', '-o', 'json', '--ignore-not-found'], JSON.stringify(object));
    if (found.status !== 0) throw new Error(`kubectl get ${object.kind}/${object.metadata?.name} failed: ${found.stderr}`);
    return found.stdout.trim() !== '' && !JSON.parse(found.stdout).metadata?.deletionTimestamp;
  }).map((object) => [object.kind, object.metadata?.namespace, object.metadata?.name].filter(Boolean).join('/'));
}

/** Logical IDs ordered so that each comes after what it depends on (DependsOn, Ref, Fn::GetAtt, ${…} in Fn::Sub). */
export function dependencyOrder(template: CfnTemplate): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (id: string): void => {
    if (order.includes(id) || visiting.has(id)) return;
    visiting.add(id);
    for (const dependency of dependenciesOf(template, id)) visit(dependency);
    visiting.delete(id);
    order.push(id);
  };
  Object.keys(template.Resources).sort().forEach(visit);
  return order;
}

function dependenciesOf(template: CfnTemplate, logicalId: string): string[] {
  const resource = template.Resources[logicalId];
  const found = new Set<string>([resource.DependsOn ?? []].flat());
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (value === null || typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    if (typeof object.Ref === 'string') found.add(object.Ref);
    if (Array.isArray(object['Fn::GetAtt'])) found.add(String(object['Fn::GetAtt'][0]));
    if (object['Fn::Sub'] !== undefined) {
      const text = [object['Fn::Sub']].flat()[0];
      for (const match of String(text).matchAll(/\$\{([^}.!]+)/g)) found.add(match[1]);
    }
    Object.values(object).forEach(walk);
  };
  walk(resource.Properties);
  return [...found].filter((id) => template.Resources[id] !== undefined);
}

/** Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Ref and Fn::GetAtt, with fixtures for what AWS would return. */
class IntrinsicResolver {
  constructor(private readonly template: CfnTemplate, private readonly stackName: string, private readonly fixtures: Fixtures) {}

  public resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, any>;
    const keys = Object.keys(object);
    if (keys.length === 1) {
      const [key] = keys;
      const argument = object[key];
      switch (key) {
        case 'Ref': return this.ref(argument);
        case 'Fn::GetAtt': return this.getAtt(argument[0], argument[1]);
        case 'Fn::Join': return (this.resolve(argument[1]) as unknown[]).join(argument[0]);
        case 'Fn::Select': return (this.resolve(argument[1]) as unknown[])[Number(this.resolve(argument[0]))];
        case 'Fn::Split': return String(this.resolve(argument[1])).split(argument[0]);
        case 'Fn::Sub': return this.sub(argument);
        default: break;
      }
      if (key.startsWith('Fn::')) throw new Error(`the replay does not resolve ${key}`);
    }
    return Object.fromEntries(keys.map((key) => [key, this.resolve(object[key])]));
  }

  private ref(logicalId: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': this.stackName,
    };
    if (pseudo[logicalId]) return pseudo[logicalId];
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`Ref to ${logicalId}, which the template does not have`);
    if (resource.Type === 'AWS::SQS::Queue') return this.queue(logicalId).url;
    // Names of buckets, clusters, roles…: the logical ID, lower-cased like a generated name.
    return logicalId.toLowerCase();
  }

  private getAtt(logicalId: string, attribute: string): string {
    const resource = this.template.Resources[logicalId];
    if (resource?.Type === 'AWS::SQS::Queue' && attribute === 'Arn') return this.queue(logicalId).arn;
    if (resource?.Type === 'AWS::SQS::Queue' && attribute === 'QueueName') return this.queue(logicalId).url.split('/').pop()!;
    if (attribute === 'Arn') return `arn:aws:service:${REGION}:${ACCOUNT}:${logicalId.toLowerCase()}`;
    return `${logicalId.toLowerCase()}-${attribute.toLowerCase()}`;
  }

  private queue(logicalId: string): { url: string; arn: string } {
    const queue = this.fixtures.queues[logicalId];
    if (!queue) throw new Error(`no local queue for ${logicalId}`);
    return queue;
  }

  private sub(argument: string | [string, Record<string, unknown>]): string {
    const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
    return text.replace(/\$\{([^}]+)\}/g, (_match, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (variables[name] !== undefined) return String(this.resolve(variables[name]));
      const dot = name.indexOf('.');
      return dot > 0 && !name.startsWith('AWS::') ? this.getAtt(name.slice(0, dot), name.slice(dot + 1)) : this.ref(name);
    });
  }
}

/** CloudFormation passes a custom resource's numbers and booleans as strings. */
function stringifyScalars(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringifyScalars);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, stringifyScalars(item)]));
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}
