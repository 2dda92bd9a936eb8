import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct, IConstruct } from 'constructs';

/**
 * Finds the construct with this ID on the cluster's construct node, or creates it there. Things
 * a cluster needs once however many workloads use them (KEDA, the Cluster Autoscaler, a shared
 * namespace) live on the cluster's node, so they are never installed twice.
 */
export function oncePerCluster<T extends IConstruct>(
  cluster: eks.ICluster,
  id: string,
  create: (scope: Construct, id: string) => T,
): T {
  const existing = cluster.node.tryFindChild(id);
  if (existing) {
    return existing as T;
  }
  return create(cluster as unknown as Construct, id);
}
