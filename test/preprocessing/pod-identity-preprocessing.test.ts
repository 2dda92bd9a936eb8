import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as YAML from 'yaml';
import { validateKubernetesObject } from './k8s-schema';
import { MlopsEksCluster, PodIdentityPreprocessing, PodIdentityPreprocessingProps, ProcessorImage } from '../../src';

const IMAGE = ProcessorImage.fromImageUri('123456789012.dkr.ecr.eu-west-1.amazonaws.com/preprocess:1.0.0');

interface Synthesized {
  readonly template: Template;
  readonly preprocessing: PodIdentityPreprocessing;
  readonly stack: Stack;
}

function synth(props: Partial<PodIdentityPreprocessingProps> = {}): Synthesized {
  const stack = new Stack(new App(), 'EksClusterStack');
  const cluster = new MlopsEksCluster(stack, 'Eks', { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) });
  const preprocessing = new PodIdentityPreprocessing(stack, 'Preprocessing', { cluster: cluster.cluster, image: IMAGE, ...props });
  return { stack, preprocessing, template: Template.fromStack(stack) };
}

function appliedManifest(template: Template): Array<Record<string, any>> {
  const resources = Object.values<any>(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'));
  expect(resources).toHaveLength(1);
  const manifest = resources[0].Properties.Manifest;
  // Tokens make the manifest an Fn::Join; literal parts are enough to parse the objects here.
  const text = typeof manifest === 'string' ? manifest : manifest['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text);
}

function byKind(objects: Array<Record<string, any>>, kind: string): Record<string, any> {
  const found = objects.find((o) => o.kind === kind);
  expect(found).toBeDefined();
  return found!;
}

function podSpec(objects: Array<Record<string, any>>): Record<string, any> {
  return byKind(objects, 'Job').spec.template.spec;
}

describe('PodIdentityPreprocessing with only a cluster', () => {
  let template: Template;
  let preprocessing: PodIdentityPreprocessing;
  let objects: Array<Record<string, any>>;
  beforeAll(() => {
    ({ template, preprocessing } = synth());
    objects = appliedManifest(template);
  });

  test('associates service account mlops/data-preprocessing-sa with the role', () => {
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      Namespace: 'mlops',
      ServiceAccount: 'data-preprocessing-sa',
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PreprocessingRole'), 'Arn'] },
    });
  });

  test('the role trusts exactly the Pods service, with session tags, for this account, cluster and service account', () => {
    const roles = template.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('mlops/data-preprocessing-sa') } });
    const [role] = Object.values<any>(roles);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Condition: {
        StringEquals: {
          'aws:SourceAccount': { Ref: 'AWS::AccountId' },
          'aws:RequestTag/eks-cluster-arn': { 'Fn::GetAtt': [expect.stringMatching(/^EksCluster/), 'Arn'] },
          'aws:RequestTag/kubernetes-namespace': 'mlops',
          'aws:RequestTag/kubernetes-service-account': 'data-preprocessing-sa',
        },
      },
    }]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the role may read only the input prefix and write only the output prefix', () => {
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^PreprocessingRole') }] },
    }));
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement;
    expect(statements).toEqual([
      { Action: 's3:GetObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^PreprocessingRawDataBucket/), 'Arn'] }, '/data/*']] } },
      { Action: 's3:ListBucket', Effect: 'Allow', Condition: { StringLike: { 's3:prefix': ['data/*'] } }, Resource: { 'Fn::GetAtt': [expect.stringMatching(/^PreprocessingRawDataBucket/), 'Arn'] } },
      { Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^PreprocessingProcessedDataBucket/), 'Arn'] }, '/output/*']] } },
    ]);
  });

  test('no S3 statement anywhere grants s3:* or acts on Resource *', () => {
    for (const policy of Object.values<any>(template.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        expect(actions).not.toContain('s3:*');
        if (actions.some((a: string) => a.startsWith('s3:'))) {
          expect(statement.Resource).not.toEqual('*');
        }
      }
    }
  });

  test('creates a raw and a versioned processed bucket: encrypted, private, TLS-only, retained, no stale uploads', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    for (const [id, bucket] of Object.entries<any>(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.VersioningConfiguration?.Status).toBe(id.includes('Processed') ? 'Enabled' : undefined);
      expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual({
        Id: 'AbortIncompleteMultipartUploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      });
    }
    const tlsDenials = template.findResources('AWS::S3::BucketPolicy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } },
    });
    expect(Object.keys(tlsDenials)).toHaveLength(2);
  });

  test('emits namespace, service account, quota, limits, network policy and a Job, in that order', () => {
    expect(objects.map((o) => `${o.apiVersion}/${o.kind}`)).toEqual([
      'v1/Namespace', 'v1/ServiceAccount', 'v1/ResourceQuota', 'v1/LimitRange', 'networking.k8s.io/v1/NetworkPolicy', 'batch/v1/Job',
    ]);
    expect(preprocessing.manifests.map((o) => o.kind)).toEqual(objects.map((o) => o.kind));
  });

  test('every emitted object validates against the Kubernetes OpenAPI schema', () => {
    for (const object of preprocessing.manifests) {
      expect(() => validateKubernetesObject(object)).not.toThrow();
    }
  });

  test('the schema check rejects a malformed object', () => {
    const job = JSON.parse(JSON.stringify(byKind(objects, 'Job')));
    job.spec.backoffLimit = 'two';
    expect(() => validateKubernetesObject(job)).toThrow(/backoffLimit/);
  });

  test('the namespace enforces Pod Security Standard restricted', () => {
    expect(byKind(objects, 'Namespace').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
  });

  test('the Job is bounded: backoff limit, deadline and TTL after finishing', () => {
    const job = byKind(objects, 'Job');
    expect(job.metadata).toMatchObject({ name: 'data-preprocessing', namespace: 'mlops' });
    expect(job.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: 86400 });
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.serviceAccountName).toBe('data-preprocessing-sa');
  });

  test('the pod runs non-root with a read-only root filesystem, no capabilities and RuntimeDefault seccomp', () => {
    const spec = podSpec(objects);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  test('the container has the walkthrough resources, scratch volume and environment', () => {
    const [container] = podSpec(objects).containers;
    expect(container.image).toBe('123456789012.dkr.ecr.eu-west-1.amazonaws.com/preprocess:1.0.0');
    expect(container.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } });
    expect(container.volumeMounts).toContainEqual({ name: 'data-volume', mountPath: '/opt/ml/processing/data' });
    expect(podSpec(objects).volumes).toContainEqual({ name: 'data-volume', emptyDir: { sizeLimit: '10Gi' } });
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    expect(Object.keys(env).sort()).toEqual(['AWS_DEFAULT_REGION', 'AWS_REGION', 'INPUT_BUCKET', 'INPUT_KEY', 'LOG_LEVEL', 'OUTPUT_BUCKET', 'OUTPUT_PREFIX', 'SCRATCH_DIR']);
    expect(env).toMatchObject({ INPUT_KEY: 'data/mock_data.csv', OUTPUT_PREFIX: 'output/', LOG_LEVEL: 'INFO', SCRATCH_DIR: '/opt/ml/processing/data' });
  });

  test('the network policy admits no ingress and only DNS, the Pod Identity agent and HTTPS out', () => {
    const policy = byKind(objects, 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([]);
    const ports = policy.spec.egress.flatMap((rule: any) => rule.ports.map((p: any) => `${p.protocol}/${p.port}`));
    expect(ports.sort()).toEqual(['TCP/443', 'TCP/53', 'TCP/80', 'UDP/53']);
    const agentRule = policy.spec.egress.find((rule: any) => rule.ports[0].port === 80);
    expect(agentRule.to).toEqual([{ ipBlock: { cidr: '169.254.170.23/32' } }]);
    const dnsRule = policy.spec.egress.find((rule: any) => rule.ports[0].port === 53);
    expect(dnsRule.to).toBeUndefined(); // CoreDNS is a per-node service, not a pod, under EKS Auto Mode
    const httpsRule = policy.spec.egress.find((rule: any) => rule.ports[0].port === 443);
    expect(httpsRule.to).toBeUndefined(); // S3 endpoints have no fixed addresses
  });

  test('the quota is the walkthrough\'s', () => {
    expect(byKind(objects, 'ResourceQuota').spec.hard).toEqual({
      'requests.cpu': '4', 'requests.memory': '8Gi', 'limits.cpu': '8', 'limits.memory': '16Gi', 'pods': '10',
    });
  });

  test('the manifests wait for the Pod Identity association and the agent add-on', () => {
    const [manifest] = Object.values<any>(template.findResources('Custom::AWSCDK-EKS-KubernetesResource'));
    expect(manifest.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^PreprocessingPodIdentityAssociation/)]));
    const [association] = Object.values<any>(template.findResources('AWS::EKS::PodIdentityAssociation'));
    expect(association.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/PodIdentityAgentAddon/)]));
  });

  test('manifestYaml holds the same objects', () => {
    const documents = YAML.parseAllDocuments(preprocessing.manifestYaml).map((d) => d.toJS());
    expect(documents.map((d) => d.kind)).toEqual(preprocessing.manifests.map((o) => o.kind));
  });
});

describe('PodIdentityPreprocessing options', () => {
  test('a schedule makes a CronJob that validates against the schema', () => {
    const { preprocessing } = synth({ schedule: '0 2 * * *' });
    const cronJob = preprocessing.manifests.find((o) => o.kind === 'CronJob')!;
    expect(cronJob.spec).toMatchObject({ schedule: '0 2 * * *', concurrencyPolicy: 'Forbid' });
    expect(cronJob.spec.jobTemplate.spec.backoffLimit).toBe(2);
    expect(preprocessing.manifests.some((o) => o.kind === 'Job')).toBe(false);
    for (const object of preprocessing.manifests) {
      expect(() => validateKubernetesObject(object)).not.toThrow();
    }
  });

  test('GitOps mode emits the manifests without applying them', () => {
    const { template, preprocessing } = synth({ applyManifests: false });
    template.resourceCountIs('Custom::AWSCDK-EKS-KubernetesResource', 0);
    expect(preprocessing.kubernetesManifest).toBeUndefined();
    expect(preprocessing.manifestYaml).toContain('kind: Job');
  });

  test('given buckets are used and no bucket is created; grants follow the prefixes', () => {
    const stack = new Stack(new App(), 'Given');
    const cluster = new MlopsEksCluster(stack, 'Eks', { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) });
    new PodIdentityPreprocessing(stack, 'Preprocessing', {
      cluster: cluster.cluster,
      image: IMAGE,
      inputBucket: s3.Bucket.fromBucketName(stack, 'In', 'my-raw'),
      outputBucket: s3.Bucket.fromBucketName(stack, 'Out', 'my-processed'),
      inputKey: 'incoming/2026/hr.csv',
      outputPrefix: 'clean/',
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    const policy = JSON.stringify(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^PreprocessingRole') }] } }));
    expect(policy).toContain(':s3:::my-raw/incoming/2026/*');
    expect(policy).toContain(':s3:::my-processed/clean/*');
  });

  test('the walkthrough\'s three extra buckets, names from a prefix, DESTROY with auto-delete', () => {
    const { template, preprocessing } = synth({
      createAdditionalBuckets: true, bucketNamePrefix: 'eks-demo', bucketRemovalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true,
    });
    const names = Object.values<any>(template.findResources('AWS::S3::Bucket')).map((b) => b.Properties.BucketName).sort();
    expect(names).toEqual(['eks-demo-feature-store-bucket', 'eks-demo-logs-bucket', 'eks-demo-model-artifacts-bucket', 'eks-demo-processed-data-bucket', 'eks-demo-raw-data-bucket']);
    expect(preprocessing.modelArtifactsBucket).toBeDefined();
    for (const bucket of Object.values<any>(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.DeletionPolicy).toBe('Delete');
    }
  });

  test('resources, deadline and log level are passed through', () => {
    const { preprocessing } = synth({ resources: { memoryLimit: '8Gi' }, activeDeadline: Duration.minutes(30), logLevel: 'DEBUG' });
    const job = preprocessing.manifests.find((o) => o.kind === 'Job')!;
    const container = job.spec.template.spec.containers[0];
    expect(container.resources.limits).toEqual({ cpu: '2', memory: '8Gi' });
    expect(job.spec.activeDeadlineSeconds).toBe(1800);
    expect(container.env).toContainEqual({ name: 'LOG_LEVEL', value: 'DEBUG' });
  });
});

describe('PodIdentityPreprocessing validation names the prop', () => {
  test.each<[Partial<PodIdentityPreprocessingProps>, RegExp]>([
    [{ namespace: 'MLOps' }, /invalid 'namespace'/],
    [{ serviceAccountName: 'sa_with_underscore' }, /invalid 'serviceAccountName'/],
    [{ jobName: 'j'.repeat(53) }, /invalid 'jobName'/],
    [{ bucketNamePrefix: 'Upper' }, /invalid 'bucketNamePrefix'/],
    [{ bucketNamePrefix: 'p'.repeat(41) }, /invalid 'bucketNamePrefix'.*1 to 40 characters/],
    [{ inputKey: 'data/' }, /invalid 'inputKey'/],
    [{ inputKey: 'data/x.csv', inputPrefix: 'other/' }, /invalid 'inputPrefix'.*does not contain inputKey/],
    [{ outputPrefix: 'output' }, /invalid 'outputPrefix'/],
    [{ schedule: 'every day' }, /invalid 'schedule'/],
    [{ backoffLimit: -1 }, /invalid 'backoffLimit'/],
    [{ logLevel: 'LOUD' }, /invalid 'logLevel'/],
    [{ autoDeleteObjects: true }, /invalid 'autoDeleteObjects'.*DESTROY/],
    [{ resources: { cpuLimit: 'two' } }, /invalid 'resources.cpuLimit'/],
    [{ resources: { memoryRequest: '1 GB' } }, /invalid 'resources.memoryRequest'/],
    [{ resources: { memoryRequest: '6Gi' } }, /invalid 'resources.memoryRequest': 6Gi is more than resources.memoryLimit 4Gi/],
    [{ resources: { cpuLimit: '9' } }, /invalid 'resources.cpuLimit': 9 is more than the namespace quota's limits.cpu 8/],
    [{ scratchVolumeSize: '10GB' }, /invalid 'scratchVolumeSize'/],
  ])('%j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
