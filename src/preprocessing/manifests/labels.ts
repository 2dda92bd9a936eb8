/** Labels and metadata shared by the workload's Kubernetes objects. */

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
