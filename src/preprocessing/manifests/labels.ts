/** Labels and metadata shared by the workload's Kubernetes objects. */
import { createHash } from 'crypto';
import { IConstruct } from 'constructs';

/** A Kubernetes object as a plain JSON-like value (what the kubectl provider applies). */
export type KubernetesObject = Record<string, any>;

const PART_OF = { 'app.kubernetes.io/part-of': 'cdk-mlops-eks' };

/**
 * The labels of one workload's objects and pods. `instance` tells two workloads in one namespace
 * apart, so each NetworkPolicy selects only its own pods.
 */
export function workloadLabels(jobName: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'data-preprocessing', 'app.kubernetes.io/instance': jobName, ...PART_OF };
}

/** Labels of the objects that belong to a namespace rather than to one workload in it. */
export function namespaceLabels(): Record<string, string> {
  return { ...PART_OF };
}

export function objectMetadata(name: string, namespace: string, labels: Record<string, string>): KubernetesObject {
  return { name, namespace, labels: { ...labels } };
}

/**
 * The construct ID of the manifest that applies one object: its kind, namespace and name, joined
 * by ':', which no Kubernetes name contains. Never change this scheme: a new ID for the same
 * names would make CloudFormation create the new manifest and then delete the old one, whose
 * `kubectl delete` would remove the objects just applied.
 */
export function manifestId(object: KubernetesObject): string {
  return [object.kind, object.metadata.namespace ?? '', object.metadata.name].join(':');
}

/**
 * The CloudFormation logical ID of the manifest that applies one object: its cluster's construct
 * path and the object's kind, namespace and name, nothing else. A workload's own construct ID
 * does not enter it, so renaming or moving the workload construct (by its user, or by a library
 * release that changes its construct tree) updates the manifest in place, where a new logical ID
 * would make CloudFormation create the new manifest and then delete the old one, whose Delete runs
 * `kubectl delete` on the very objects just applied. A rename of the object itself is a new ID:
 * the old objects are deleted, as they should be.
 */
export function manifestLogicalId(cluster: IConstruct, object: KubernetesObject): string {
  const readable = `K8s${manifestId(object)}`.replace(/[^A-Za-z0-9]/g, '').slice(0, 200);
  const hash = createHash('sha256').update([cluster.node.path, manifestId(object)].join('\n')).digest('hex');
  return `${readable}${hash.slice(0, 8).toUpperCase()}`;
}
