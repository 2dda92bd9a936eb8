import { Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeManagedPolicies } from '../private/acknowledgements';

/**
 * What an EKS Auto Mode cluster needs beyond what aws-eks-v2 sets up: Auto Mode's networking
 * enforces Kubernetes NetworkPolicies only once its network policy controller is switched on by
 * the `amazon-vpc-cni` ConfigMap (the built-in `default` NodeClass already selects the
 * `DefaultAllow` enforcement mode, so pods that no policy selects keep all their traffic).
 */
export class AutoModeSettings extends Construct {
  /** The ConfigMap that switches NetworkPolicy enforcement on. */
  public readonly networkPolicyController: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, cluster: eks.Cluster) {
    super(scope, id);
    this.networkPolicyController = new eks.KubernetesManifest(this, 'NetworkPolicyController', {
      cluster,
      // EKS does not create this ConfigMap on Auto Mode clusters, but apply instead of create so a
      // copy someone made by hand is taken over rather than failing the deploy.
      overwrite: true,
      manifest: [{
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' },
        data: { 'enable-network-policy-controller': 'true' },
      }],
    });
    acknowledgeNodePoolRole(cluster);
  }
}

/**
 * The node role aws-eks-v2 makes for the built-in node pools carries the AWS managed policies EKS
 * documents for Auto Mode nodes. It is found by the ARN the cluster resource points at, so a
 * renamed construct only means no acknowledgement, never a failing synth.
 */
function acknowledgeNodePoolRole(cluster: eks.Cluster): void {
  const stack = Stack.of(cluster);
  const resource = cluster.node.defaultChild as eks.CfnCluster;
  const nodeRoleArn = JSON.stringify(stack.resolve(stack.resolve(resource.computeConfig)?.nodeRoleArn));
  for (const child of cluster.node.children) {
    if (child instanceof iam.Role && JSON.stringify(stack.resolve(child.roleArn)) === nodeRoleArn) {
      acknowledgeManagedPolicies(child,
        'EKS Auto Mode nodes use the AWS managed AmazonEKSWorkerNodePolicy and AmazonEC2ContainerRegistryReadOnly, as aws-eks-v2 sets them up.');
    }
  }
}
