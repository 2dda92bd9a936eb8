export * from './network/mlops-network';
export * from './cluster/mlops-eks-cluster';
export { AddonVersions } from './cluster/addons';
export { ClusterAutoscalerVersion } from './cluster/cluster-autoscaler';
export { ComputeMode } from './cluster/compute';
export * from './preprocessing/pod-identity-preprocessing';
export { ProcessorImage, ProcessorImageConfig } from './preprocessing/processor-image';
