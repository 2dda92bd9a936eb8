export * from './network/mlops-network';
export * from './cluster/mlops-eks-cluster';
export { AddonVersions } from './cluster/addon-versions';
export { ClusterAutoscalerVersion } from './cluster/cluster-autoscaler';
export { ComputeMode } from './cluster/compute';
export * from './preprocessing/pod-identity-preprocessing';
export {
  ProcessorImage, ProcessorImageConfig, BundledProcessorImageOptions, ImageUriProcessorImageOptions, DirectoryProcessorImageOptions,
} from './preprocessing/processor-image';
export { PreprocessingTransform, PreprocessingTransformConfig, CommandTransformOptions } from './preprocessing/transform';
export {
  PreprocessingTrigger, PreprocessingTriggerBindOptions, PreprocessingTriggerConfig, UploadTriggerOptions,
} from './preprocessing/triggers/trigger';
export { WorkloadAlarmOptions, WorkloadAlarms } from './preprocessing/monitoring';
export { ClusterObservability, ClusterObservabilityOptions } from './cluster/observability';
export { OutputFormat } from './preprocessing/catalog/output-format';
export { OutputCatalog, OutputCatalogProps, CatalogOptions, AthenaWorkgroupOptions } from './preprocessing/catalog/catalog';
