export * from './network/mlops-network';
export * from './cluster/mlops-eks-cluster';
export { AddonVersions } from './cluster/addons';
export * from './preprocessing/pod-identity-preprocessing';
export { ProcessorImage, ProcessorImageConfig } from './preprocessing/processor-image';
