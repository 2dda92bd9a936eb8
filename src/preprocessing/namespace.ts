import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import type { WorkloadResourceValues } from './manifests/job';
import { KubernetesObject } from './manifests/labels';
import { NAMESPACE_QUOTA, namespaceObjects } from './manifests/namespace';
import { parseQuantity } from './quantities';
import { oncePerCluster } from '../private/once-per-cluster';
import { PropValidationError } from '../private/validation';

const CONSTRUCT = 'PodIdentityPreprocessing';

/** What one workload may run at once in the namespace. */
export interface WorkloadUsage {
  /** The workload's construct path, for messages. */
  readonly path: string;
  readonly resources: WorkloadResourceValues;
  readonly parallelRuns: number;
}

/** The quota's entries that the workloads' pods count against, and the resource that sets each. */
const QUOTA_ENTRIES: Array<[keyof typeof NAMESPACE_QUOTA, keyof WorkloadResourceValues | undefined]> = [
  ['requests.cpu', 'cpuRequest'],
  ['requests.memory', 'memoryRequest'],
  ['limits.cpu', 'cpuLimit'],
  ['limits.memory', 'memoryLimit'],
  ['pods', undefined],
];

/**
 * One Kubernetes namespace of a cluster as the workloads in it see it, found or created on the
 * cluster's construct node: it knows their names (two workloads may not share a Job or service
 * account name), and it applies the namespace with its quota and limit range once, in a manifest
 * of its own, so removing one workload never deletes the namespace under another.
 */
export class WorkloadNamespace extends Construct {
  public static of(cluster: eks.ICluster, name: string): WorkloadNamespace {
    return oncePerCluster(cluster, `CdkMlopsEksNamespace-${name}`, (scope, id) => new WorkloadNamespace(scope, id, cluster, name));
  }

  /** The manifest that creates the namespace, once some workload asked for it to be applied. */
  public manifest?: eks.KubernetesManifest;
  private readonly jobNames = new Set<string>();
  private readonly serviceAccountNames = new Set<string>();
  private readonly usages: WorkloadUsage[] = [];
  private created = false;

  private constructor(scope: Construct, id: string, private readonly cluster: eks.ICluster, public readonly name: string) {
    super(scope, id);
  }

  /** Records a workload's names; throws, naming the prop, when another workload here uses one. */
  public register(jobName: string, serviceAccountName: string): void {
    if (this.jobNames.has(jobName)) {
      throw new PropValidationError(CONSTRUCT, 'jobName', `'${jobName}' is already used by another workload in namespace '${this.name}'`);
    }
    if (this.serviceAccountNames.has(serviceAccountName)) {
      throw new PropValidationError(CONSTRUCT, 'serviceAccountName',
        `'${serviceAccountName}' is already used by another workload in namespace '${this.name}' (a service account has one Pod Identity association)`);
    }
    this.jobNames.add(jobName);
    this.serviceAccountNames.add(serviceAccountName);
  }

  /**
   * Records what a workload may run at once. Once the library creates the namespace, the
   * workloads in it must fit its quota together, each at its parallelism.
   */
  public addUsage(usage: WorkloadUsage): void {
    this.usages.push(usage);
    this.checkQuota();
  }

  private checkQuota(): void {
    if (!this.created) return;
    for (const [entry, resource] of QUOTA_ENTRIES) {
      const quota = parseQuantity(CONSTRUCT, entry, NAMESPACE_QUOTA[entry])!;
      const parts = this.usages.map((usage) => ({
        usage,
        each: resource === undefined ? 1 : parseQuantity(CONSTRUCT, `resources.${resource}`, usage.resources[resource]),
      }));
      const total = parts.reduce((sum, part) => sum + (part.each ?? 0) * part.usage.parallelRuns, 0);
      if (total > quota + 1e-9) {
        const terms = parts.map((part) => `${part.usage.path}: ${part.usage.parallelRuns} × ${resource === undefined ? '1 pod' : part.usage.resources[resource]}`);
        throw new PropValidationError(CONSTRUCT, 'trigger.maxParallelJobs',
          `the workloads in namespace '${this.name}' together need more than the namespace quota's ${entry} ${NAMESPACE_QUOTA[entry]} `
          + `at their parallelism (${terms.join(', ')}); lower their parallel runs or resources, or give them separate namespaces`);
      }
    }
  }

  /**
   * The namespace's own objects for the first workload that asks (every later one gets none, so
   * no object is emitted twice); applied through the cluster when `apply` is set. The namespace is
   * created, not overwritten: an existing namespace fails the deploy instead of being adopted and
   * later deleted with the stack (use `createNamespace: false` for a namespace you do not own).
   */
  public create(apply: boolean): KubernetesObject[] {
    if (apply && !this.manifest) {
      this.manifest = new eks.KubernetesManifest(this, 'Manifest', {
        cluster: this.cluster,
        manifest: namespaceObjects(this.name),
        overwrite: false,
      });
    }
    if (this.created) {
      return [];
    }
    this.created = true;
    this.checkQuota();
    return namespaceObjects(this.name);
  }
}
