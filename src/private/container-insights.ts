import * as eks from 'aws-cdk-lib/aws-eks-v2';

/** Clusters of this app whose observability add-on collects Container Insights metrics. */
const clustersWithMetrics = new WeakSet<eks.ICluster>();

/** Records that the cluster's add-on publishes Container Insights metrics (namespace `ContainerInsights`). */
export function markContainerInsightsMetrics(cluster: eks.ICluster): void {
  clustersWithMetrics.add(cluster);
}

/**
 * Whether the cluster publishes Container Insights metrics: only a cluster that `MlopsEksCluster`
 * created with `ClusterObservability.containerInsights()` is known to (an imported cluster may or
 * may not run the add-on).
 */
export function hasContainerInsightsMetrics(cluster: eks.ICluster): boolean {
  return clustersWithMetrics.has(cluster);
}
