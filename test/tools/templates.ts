/**
 * Stack templates shaped as CDK synthesizes the preprocessing workload (Kubernetes manifests in
 * `Custom::AWSCDK-EKS-KubernetesResource` resources, an Fn::Join around the tokens), for the demo's
 * template reading: a Job, a CronJob, and the onUpload trigger's ScaledJob with its queues and
 * bucket notification.
 */
import type { StackTemplate } from '../../processor/tools/workload-template';

export const RAW_BUCKET = 'eks-demo-raw-data-bucket';
export const PROCESSED_BUCKET = 'eks-demo-processed-data-bucket';

/** A token in a manifest, as CDK writes it: the JSON string is split around it in an Fn::Join. */
const token = (value: unknown): string => `@@${JSON.stringify(value)}@@`;

/** The manifest property as CDK synthesizes it: Fn::Join of literal JSON and the tokens. */
function manifest(objects: unknown[]): unknown {
  const parts = JSON.stringify(objects).split(/@@(.*?)@@/).map((part, i) => (i % 2 === 1 ? JSON.parse(part.replace(/\\"/g, '"')) : part));
  return { 'Fn::Join': ['', parts] };
}

const POD_TEMPLATE = (env: Array<{ name: string; value: string }>) => ({
  metadata: { labels: { 'app.kubernetes.io/name': 'data-preprocessing' } },
  spec: {
    serviceAccountName: 'data-preprocessing-sa',
    restartPolicy: 'Never',
    containers: [{ name: 'preprocessing', image: 'processor:latest', env }],
  },
});

const COMMON_ENV = [
  { name: 'INPUT_BUCKET', value: token({ Ref: 'RawBucket' }) },
  { name: 'OUTPUT_BUCKET', value: token({ Ref: 'ProcessedBucket' }) },
  { name: 'OUTPUT_PREFIX', value: 'output/' },
  { name: 'AWS_REGION', value: token({ Ref: 'AWS::Region' }) },
  { name: 'AWS_DEFAULT_REGION', value: token({ Ref: 'AWS::Region' }) },
  { name: 'LOG_LEVEL', value: 'INFO' },
  { name: 'SCRATCH_DIR', value: '/opt/ml/processing/data' },
];

const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mlops' } };
const METADATA = { name: 'data-preprocessing', namespace: 'mlops' };

export const BUCKETS = {
  RawBucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: RAW_BUCKET } },
  ProcessedBucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: PROCESSED_BUCKET } },
};

/** The shape of the onUpload trigger's resources (the lead's CDK side emits this contract). */
export function scaledJobTemplate(): StackTemplate {
  const scaledJob = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledJob',
    metadata: METADATA,
    spec: {
      jobTargetRef: {
        backoffLimit: 2,
        podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'preprocessing', operator: 'In', values: [2] } }] },
        template: POD_TEMPLATE([
          { name: 'QUEUE_URL', value: token({ Ref: 'UploadQueue' }) },
          ...COMMON_ENV.slice(0, 1),
          { name: 'INPUT_PREFIX', value: 'data/' },
          ...COMMON_ENV.slice(1),
        ]),
      },
      pollingInterval: 10,
      maxReplicaCount: 2,
      triggers: [{
        type: 'aws-sqs-queue',
        metadata: { queueURL: token({ Ref: 'UploadQueue' }), queueLength: '1', awsRegion: token({ Ref: 'AWS::Region' }), identityOwner: 'operator' },
      }],
    },
  };
  return {
    path: 'scaled-job.template.json',
    resources: {
      ...BUCKETS,
      UploadQueueDeadLetterQueue: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true } },
      UploadQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          VisibilityTimeout: 7200,
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['UploadQueueDeadLetterQueue', 'Arn'] }, maxReceiveCount: 3 },
        },
      },
      RawBucketNotifications: {
        Type: 'Custom::S3BucketNotifications',
        Properties: {
          BucketName: { Ref: 'RawBucket' },
          NotificationConfiguration: {
            QueueConfigurations: [{
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.csv' }, { Name: 'prefix', Value: 'data/' }] } },
              QueueArn: { 'Fn::GetAtt': ['UploadQueue', 'Arn'] },
            }],
          },
        },
      },
      // The namespace in one manifest resource, the workload in another.
      NamespaceManifest: { Type: 'Custom::AWSCDK-EKS-KubernetesResource', Properties: { Manifest: JSON.stringify([NAMESPACE]) } },
      WorkloadManifest: { Type: 'Custom::AWSCDK-EKS-KubernetesResource', Properties: { Manifest: manifest([scaledJob]) } },
    },
  };
}

export function batchTemplate(kind: 'Job' | 'CronJob'): StackTemplate {
  const podTemplate = POD_TEMPLATE([...COMMON_ENV.slice(0, 1), { name: 'INPUT_KEY', value: 'data/mock_data.csv' }, ...COMMON_ENV.slice(1)]);
  const object = kind === 'Job'
    ? { apiVersion: 'batch/v1', kind, metadata: METADATA, spec: { template: podTemplate } }
    : { apiVersion: 'batch/v1', kind, metadata: METADATA, spec: { schedule: '0 2 * * *', suspend: true, jobTemplate: { spec: { template: podTemplate } } } };
  return {
    path: `${kind}.template.json`,
    resources: { ...BUCKETS, Manifest: { Type: 'Custom::AWSCDK-EKS-KubernetesResource', Properties: { Manifest: manifest([NAMESPACE, object]) } } },
  };
}
