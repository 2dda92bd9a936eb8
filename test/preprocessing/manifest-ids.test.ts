import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { appliedManifests, IMAGE, synth, testCluster, WorkloadProps } from './helpers';
import { buildExampleApp } from '../../examples/app';
import { OutputFormat, PodIdentityPreprocessing, PodIdentityPreprocessingProps, PreprocessingTrigger } from '../../src';
import { STATEFUL_RESOURCE_TYPES } from '../../src/preprocessing/identity';

type Key = string;
const keyOf = (o: Record<string, any>): Key => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Each applied manifest's logical ID → the objects it holds. */
function manifestObjects(template: Template): Map<string, Key[]> {
  return new Map(appliedManifests(template).map((m) => [m.logicalId, m.objects.map(keyOf)]));
}

/**
 * What CloudFormation would do wrong going from `before` to `after`: an object that goes away
 * while its manifest stays (an in-place update, which kubectl's prune does not clean up for most
 * kinds: orphaned), and an object that a removed manifest holds and a new one holds too (the
 * removed manifest's Delete runs `kubectl delete` on it after the new one applied it: deleted).
 */
function replacementProblems(before: Map<string, Key[]>, after: Map<string, Key[]>): string[] {
  const afterObjects = new Set([...after.values()].flat());
  const problems: string[] = [];
  for (const [id, objects] of before) {
    for (const object of objects) {
      if (after.has(id) && !afterObjects.has(object)) problems.push(`orphaned: ${object} (manifest ${id} is updated in place)`);
      if (!after.has(id) && afterObjects.has(object)) problems.push(`deleted: ${object} (manifest ${id} is replaced by another holding it)`);
    }
  }
  return problems;
}

/**
 * What a move or rename of the workload construct replaces, by type, and why that is harmless.
 * Every other type a workload creates holds state or a unique name (STATEFUL_RESOURCE_TYPES) and
 * must keep its logical ID.
 */
const REPLACED_ON_MOVE: Record<string, string> = {
  'AWS::IAM::Policy': 'an inline policy named after its logical ID: CloudFormation attaches the new one before it deletes the old one',
  'AWS::CloudWatch::Alarm': 'a generated name; the new alarm starts in INSUFFICIENT_DATA and evaluates the same metrics',
  'AWS::CloudWatch::Dashboard': 'a generated name: the dashboard\'s URL changes, the metrics it shows do not',
};

/** What keeps its logical ID on a move: the stateful and unique types, and the manifests (manifestLogicalId). */
const KEPT_ON_MOVE: Record<string, string> = {
  ...STATEFUL_RESOURCE_TYPES,
  'Custom::AWSCDK-EKS-KubernetesResource': 'a removed manifest\'s Delete runs kubectl delete on the objects the new one applied',
};

/** Every resource of the workload (not the cluster's): logical ID → type, and the queues' names. */
function workloadResources(template: Template): { ids: Map<string, string>; queueNames: string[] } {
  const resources = Object.entries<any>(template.toJSON().Resources);
  // The cluster's resources, and the stack's singletons (handlers of aws-s3's custom resources), are not the workload's.
  const isClusters = (id: string) => id.startsWith('Eks') || id.startsWith('Vpc') || id.startsWith('BucketNotificationsHandler')
    || id.startsWith('CustomS3AutoDeleteObjects');
  return {
    ids: new Map(resources.filter(([id, r]) => !isClusters(id) && r.Type !== 'AWS::Lambda::Function').map(([id, r]) => [id, r.Type])),
    queueNames: resources.filter(([, r]) => r.Type === 'AWS::SQS::Queue' && r.Properties.QueueName).map(([, r]) => r.Properties.QueueName).sort(),
  };
}

describe('a move or rename of the workload construct keeps the identity of everything stateful or unique', () => {
  /** A workload with every kind of resource the library creates, under `parent(stack)` with construct ID `id`. */
  const placed = (parent: (stack: Stack) => Construct, id: string, props: Partial<PodIdentityPreprocessingProps>) => {
    const stack = new Stack(new App(), 'EksClusterStack');
    const cluster = testCluster(stack);
    new PodIdentityPreprocessing(parent(stack), id, { cluster: cluster.cluster, image: IMAGE, ...props });
    return workloadResources(Template.fromStack(stack));
  };
  const variants: Array<[string, Partial<PodIdentityPreprocessingProps>]> = [
    ['applied: onUpload, all buckets (fixed names, auto-deleted), a fixed role name, a dashboard', {
      trigger: PreprocessingTrigger.onUpload(),
      createAdditionalBuckets: true,
      bucketNamePrefix: 'acme',
      roleName: 'acme-preprocessing',
      bucketRemovalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
      createDashboard: true,
    }],
    ['GitOps: onUpload, the manifests in an SSM parameter', { trigger: PreprocessingTrigger.onUpload(), applyManifests: false }],
    ['applied: onDeploy (its Job\'s name hashes a spec that names the buckets)', { trigger: PreprocessingTrigger.onDeploy() }],
    ['Parquet tables in the Glue Data Catalog with an Athena workgroup (fixed names)', {
      outputFormat: OutputFormat.PARQUET,
      catalog: { databaseName: 'hr_tables', athenaWorkgroup: {} },
    }],
  ];

  test.each(variants)('%s', (_variant, props) => {
    const original = placed((stack) => stack, 'Preprocessing', props);
    const renamed = placed((stack) => stack, 'Workload', props);
    const moved = placed((stack) => new Construct(stack, 'Pipelines'), 'Preprocessing', props);
    for (const after of [renamed, moved]) {
      const kept = (ids: Map<string, string>) => [...ids].filter(([, type]) => KEPT_ON_MOVE[type] !== undefined).sort();
      expect(kept(after.ids)).toEqual(kept(original.ids));
      expect(after.queueNames).toEqual(original.queueNames);
      const replaced = [...original.ids].filter(([id]) => !after.ids.has(id)).map(([, type]) => type);
      expect(replaced.filter((type) => REPLACED_ON_MOVE[type] === undefined)).toEqual([]);
    }
    // Every type the workload creates is classified: kept (stateful or unique) or harmlessly replaced.
    const unclassified = [...new Set(original.ids.values())]
      .filter((type) => KEPT_ON_MOVE[type] === undefined && REPLACED_ON_MOVE[type] === undefined);
    expect(unclassified).toEqual([]);
  });

  test('the variants hold every stateful type a workload creates', () => {
    const types = new Set(variants.flatMap(([, props]) => [...placed((stack) => stack, 'Preprocessing', props).ids.values()]));
    expect([...types].filter((type) => STATEFUL_RESOURCE_TYPES[type] !== undefined).sort()).toEqual([
      'AWS::Athena::WorkGroup', 'AWS::EKS::PodIdentityAssociation', 'AWS::Glue::Database', 'AWS::Glue::Table', 'AWS::IAM::Role', 'AWS::KMS::Key',
      'AWS::Logs::LogGroup', 'AWS::S3::Bucket', 'AWS::S3::BucketPolicy', 'AWS::SNS::Topic', 'AWS::SNS::TopicPolicy', 'AWS::SQS::Queue',
      'AWS::SQS::QueuePolicy', 'AWS::SSM::Parameter', 'Custom::S3AutoDeleteObjects', 'Custom::S3BucketNotifications',
    ]);
  });
});

describe('manifest construct IDs follow the names of their objects', () => {
  let base: Map<string, Key[]>;
  beforeAll(() => {
    base = manifestObjects(synth({ trigger: PreprocessingTrigger.onUpload() }).template);
  });

  const after = (props: WorkloadProps): Map<string, Key[]> => manifestObjects(synth(props).template);

  test.each<[string, WorkloadProps]>([
    ['a new jobName', { jobName: 'renamed', trigger: PreprocessingTrigger.onUpload() }],
    ['a new namespace', { namespace: 'renamed', trigger: PreprocessingTrigger.onUpload() }],
    ['a new service account name only', { serviceAccountName: 'renamed-sa', trigger: PreprocessingTrigger.onUpload() }],
    ['another trigger kind', { trigger: PreprocessingTrigger.onDemand() }],
    ['another trigger kind and a new jobName', { jobName: 'renamed', trigger: PreprocessingTrigger.onDeploy() }],
  ])('%s replaces the old objects\' manifests, orphaning and deleting nothing it keeps', (_change, props) => {
    expect(replacementProblems(base, after(props))).toEqual([]);
    expect(replacementProblems(after(props), base)).toEqual([]);
  });

  test('renaming or moving the workload construct keeps every manifest ID: its objects are updated in place, never deleted', () => {
    const underId = (parent: (stack: Stack) => Construct, id: string): Map<string, Key[]> => {
      const stack = new Stack(new App(), 'EksClusterStack');
      const cluster = testCluster(stack);
      new PodIdentityPreprocessing(parent(stack), id, { cluster: cluster.cluster, image: IMAGE, trigger: PreprocessingTrigger.onUpload() });
      return manifestObjects(Template.fromStack(stack));
    };
    const original = underId((stack) => stack, 'Preprocessing');
    const renamed = underId((stack) => stack, 'Workload');
    const moved = underId((stack) => new Construct(stack, 'Pipelines'), 'Preprocessing');
    expect(renamed).toEqual(original);
    expect(moved).toEqual(original);
    expect(replacementProblems(original, renamed)).toEqual([]);
  });

  test('a change that keeps every name keeps every manifest ID (an in-place update)', () => {
    const changed = after({ trigger: PreprocessingTrigger.onUpload({ maxParallelJobs: 2 }), logLevel: 'DEBUG', resources: { memoryLimit: '2Gi' } });
    expect([...changed.keys()].sort()).toEqual([...base.keys()].sort());
  });

  test('from onDemand to schedule, the CronJob keeps its name and its manifest', () => {
    const onDemand = after({});
    const schedule = after({ trigger: PreprocessingTrigger.schedule('0 2 * * *') });
    expect([...schedule.keys()].sort()).toEqual([...onDemand.keys()].sort());
  });
});

/**
 * The example's manifests as deployed: a library change that gives one of them a new logical ID
 * while its objects keep their names would make CloudFormation delete those objects right after
 * applying them. Change this table only together with a migration note.
 */
const EXAMPLE_MANIFESTS: Record<string, Key[]> = {
  EksClusterCdkMlopsEksNamespacemlopsManifestF0AE9D34: ['Namespace//mlops', 'ResourceQuota/mlops/mlops-quota', 'LimitRange/mlops/mlops-limits'],
  K8sServiceAccountmlopsdatapreprocessingsa4F806E1D: ['ServiceAccount/mlops/data-preprocessing-sa'],
  K8sNetworkPolicymlopsdatapreprocessingegressA3F0AE24: ['NetworkPolicy/mlops/data-preprocessing-egress'],
  K8sTriggerAuthenticationmlopsdatapreprocessingsqsB9F39323: ['TriggerAuthentication/mlops/data-preprocessing-sqs'],
  K8sScaledJobmlopsdatapreprocessingC59160C3: ['ScaledJob/mlops/data-preprocessing'],
};

describe('the example app\'s manifest logical IDs', () => {
  test('are the committed ones, each holding the same objects', () => {
    const { cluster } = buildExampleApp(new App());
    const manifests = Object.fromEntries(manifestObjects(Template.fromStack(cluster)));
    expect(manifests).toEqual(EXAMPLE_MANIFESTS);
  });
});

/**
 * The example's stateful and uniquely named resources as deployed, and its queue's name. A library
 * change that gives one of them a new logical ID replaces it (STATEFUL_RESOURCE_TYPES says what
 * that costs). Release 0.x moved them from construct-path IDs to these (README, Day 2): change this
 * table only together with such a note.
 */
const EXAMPLE_STATEFUL_RESOURCES: Record<string, string> = {
  WorkloadmlopsdatapreprocessingAlarmTopic506C6DD9: 'AWS::SNS::Topic',
  WorkloadmlopsdatapreprocessingAlarmTopicKey80AC6376: 'AWS::KMS::Key',
  WorkloadmlopsdatapreprocessingAlarmTopicPolicy6A10DDC3: 'AWS::SNS::TopicPolicy',
  WorkloadmlopsdatapreprocessingRawDataBucket0BFA31B9: 'AWS::S3::Bucket',
  WorkloadmlopsdatapreprocessingRawDataBucketPolicy92FCD40A: 'AWS::S3::BucketPolicy',
  WorkloadmlopsdatapreprocessingRawDataBucketAutoDeleteObjectsCustomResource53D40C75: 'Custom::S3AutoDeleteObjects',
  WorkloadmlopsdatapreprocessingRawDataBucketNotifications6040FD02: 'Custom::S3BucketNotifications',
  WorkloadmlopsdatapreprocessingProcessedDataBucketA1859473: 'AWS::S3::Bucket',
  WorkloadmlopsdatapreprocessingProcessedDataBucketPolicyA453874C: 'AWS::S3::BucketPolicy',
  WorkloadmlopsdatapreprocessingProcessedDataBucketAutoDeleteObjectsCustomResource039F3944: 'Custom::S3AutoDeleteObjects',
  WorkloadmlopsdatapreprocessingModelArtifactsBucket52D7B841: 'AWS::S3::Bucket',
  WorkloadmlopsdatapreprocessingModelArtifactsBucketPolicyDC0C923E: 'AWS::S3::BucketPolicy',
  WorkloadmlopsdatapreprocessingModelArtifactsBucketAutoDeleteObjectsCustomResourceC45D3150: 'Custom::S3AutoDeleteObjects',
  WorkloadmlopsdatapreprocessingLogsBucketD498D482: 'AWS::S3::Bucket',
  WorkloadmlopsdatapreprocessingLogsBucketPolicy8ED733B7: 'AWS::S3::BucketPolicy',
  WorkloadmlopsdatapreprocessingLogsBucketAutoDeleteObjectsCustomResource59352A0C: 'Custom::S3AutoDeleteObjects',
  WorkloadmlopsdatapreprocessingFeatureStoreBucketC2EDB5DC: 'AWS::S3::Bucket',
  WorkloadmlopsdatapreprocessingFeatureStoreBucketPolicyFCCE51B0: 'AWS::S3::BucketPolicy',
  WorkloadmlopsdatapreprocessingFeatureStoreBucketAutoDeleteObjectsCustomResourceA848FFC5: 'Custom::S3AutoDeleteObjects',
  WorkloadmlopsdatapreprocessingRole797FAEF1: 'AWS::IAM::Role',
  WorkloadmlopsdatapreprocessingPodIdentityAssociation8920E796: 'AWS::EKS::PodIdentityAssociation',
  WorkloadmlopsdatapreprocessingUploadQueueDeadLetterQueueFEECB369: 'AWS::SQS::Queue',
  WorkloadmlopsdatapreprocessingUploadQueueDeadLetterQueuePolicyD3EDEA1D: 'AWS::SQS::QueuePolicy',
  WorkloadmlopsdatapreprocessingUploadQueueQueue984CF87B: 'AWS::SQS::Queue',
  WorkloadmlopsdatapreprocessingUploadQueueQueuePolicyE76F7138: 'AWS::SQS::QueuePolicy',
};
const EXAMPLE_QUEUE_NAME = 'mlops-data-preprocessing-uploads-6e468df9';

describe('the example app\'s stateful resources', () => {
  test('have the committed logical IDs, and the upload queue its committed name', () => {
    const { cluster } = buildExampleApp(new App());
    const resources = Object.entries<any>(Template.fromStack(cluster).toJSON().Resources);
    const workloadStateful = resources.filter(([id, r]) => STATEFUL_RESOURCE_TYPES[r.Type] !== undefined && id.startsWith('Workload'));
    expect(Object.fromEntries(workloadStateful.map(([id, r]) => [id, r.Type]))).toEqual(EXAMPLE_STATEFUL_RESOURCES);
    expect(resources.filter(([, r]) => r.Properties?.QueueName).map(([, r]) => r.Properties.QueueName)).toEqual([EXAMPLE_QUEUE_NAME]);
  });
});
