import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct, IConstruct } from 'constructs';

/**
 * Finds the construct with this ID on the cluster's construct node, or creates it there. Things
 * a cluster needs once however many workloads use them (KEDA, a shared namespace) live on the
 * cluster's node, so they are never installed twice.
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

/** aws-eks-v2's construct ID of the resource that its manifests wait for (nodes, DNS, agent behind it). */
const KUBECTL_READY_BARRIER_ID = 'KubectlReadyBarrier';

/**
 * The cluster's kubectl ready barrier, if the cluster has one under aws-eks-v2's current construct
 * ID (an imported cluster has none; a renamed one means only that nothing waits on it).
 */
export function kubectlReadyBarrier(cluster: eks.ICluster): IConstruct | undefined {
  return cluster.node.tryFindChild(KUBECTL_READY_BARRIER_ID);
}
