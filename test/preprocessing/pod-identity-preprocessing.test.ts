import { CfnParameter, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as YAML from 'yaml';
import {
  AppliedManifest, appliedManifests, envOf, IMAGE_URI, manifestWith, objectOfKind, podSpecOf, schemaProblems, synth,
} from './helpers';
import { PodIdentityPreprocessing, PodIdentityPreprocessingProps } from '../../src';

describe('PodIdentityPreprocessing with only a cluster', () => {
  let template: Template;
  let stack: Stack;
  let preprocessing: PodIdentityPreprocessing;
  let manifests: AppliedManifest[];
  let cronJob: Record<string, any>;
  beforeAll(() => {
    ({ template, preprocessing, stack } = synth());
    manifests = appliedManifests(template);
    cronJob = objectOfKind(preprocessing.manifests, 'CronJob');
  });

  test('associates service account mlops/data-preprocessing-sa with the role', () => {
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      Namespace: 'mlops',
      ServiceAccount: 'data-preprocessing-sa',
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Workload.*Role[0-9A-F]{8}$'), 'Arn'] },
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

  test('the role may read only the input prefix (any version), write and list only the output prefix, read and delete only its claims and delete only error reports there, and put metrics only in its namespace', () => {
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Workload.*Role[0-9A-F]{8}$') }] },
    }));
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement;
    expect(statements).toEqual([
      {
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Workload.*RawDataBucket[0-9A-F]{8}$/), 'Arn'] }, '/data/*']] },
      },
      { Action: 's3:ListBucket', Effect: 'Allow', Condition: { StringLike: { 's3:prefix': ['data/*'] } }, Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Workload.*RawDataBucket[0-9A-F]{8}$/), 'Arn'] } },
      { Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Workload.*ProcessedDataBucket[0-9A-F]{8}$/), 'Arn'] }, '/output/*']] } },
      {
        Action: 's3:ListBucket',
        Effect: 'Allow',
        Condition: { StringLike: { 's3:prefix': ['output/*'] } },
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Workload.*ProcessedDataBucket[0-9A-F]{8}$/), 'Arn'] },
      },
      // Queue mode's claims (processor/src/runtime/claim.ts) and stale error reports.
      { Action: ['s3:GetObject', 's3:DeleteObject'], Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/ProcessedDataBucket/), 'Arn'] }, '/output/_claims/*']] } },
      { Action: 's3:DeleteObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/ProcessedDataBucket/), 'Arn'] }, '/output/*error_*.json']] } },
      // Run metrics (src/preprocessing/monitoring.ts): PutMetricData has no resource-level permissions; the namespace condition scopes it.
      { Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'CdkMlopsEks/Preprocessing' } } },
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

  test('creates a raw and a processed bucket: versioned, encrypted, private, TLS-only, retained, no stale uploads', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    for (const bucket of Object.values<any>(template.findResources('AWS::S3::Bucket'))) {
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual({
        Id: 'AbortIncompleteMultipartUploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      });
      expect(bucket.Properties.LoggingConfiguration).toBeUndefined();
    }
    const tlsDenials = template.findResources('AWS::S3::BucketPolicy', {
      Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } },
    });
    expect(Object.keys(tlsDenials)).toHaveLength(2);
  });

  test('emits the namespace with quota and limits, the service account, the network policy and a CronJob', () => {
    expect(preprocessing.manifests.map((o) => `${o.apiVersion}/${o.kind}`)).toEqual([
      'v1/Namespace', 'v1/ResourceQuota', 'v1/LimitRange', 'v1/ServiceAccount', 'networking.k8s.io/v1/NetworkPolicy', 'batch/v1/CronJob',
    ]);
    const applied = manifests.flatMap((m) => m.objects.map((o) => o.kind)).sort();
    expect(applied).toEqual(preprocessing.manifests.map((o) => o.kind).sort());
  });

  test('every emitted object validates against the Kubernetes OpenAPI schema', () => {
    expect(schemaProblems(preprocessing.manifests)).toEqual([]);
  });

  test('the namespace is created (never adopted), each of the workload\'s objects is applied with overwrite, by a manifest of its own', () => {
    const namespace = manifestWith(template, 'Namespace');
    expect(namespace.objects.map((o) => o.kind)).toEqual(['Namespace', 'ResourceQuota', 'LimitRange']);
    expect(namespace.overwrite).toBe(false);
    for (const kind of ['ServiceAccount', 'NetworkPolicy', 'CronJob']) {
      const manifest = manifestWith(template, kind);
      expect(manifest.objects.map((o) => o.kind)).toEqual([kind]);
      expect(manifest.overwrite).toBe(true);
    }
  });

  test('objects wait for the namespace, the role and the association; the CronJob for its service account', () => {
    const access = manifestWith(template, 'ServiceAccount');
    expect(access.dependsOn).toEqual(expect.arrayContaining([
      manifestWith(template, 'Namespace').logicalId,
      expect.stringMatching(/^Workload.*PodIdentityAssociation[0-9A-F]{8}$/),
      expect.stringMatching(/^PreprocessingRoleDefaultPolicy/),
    ]));
    expect(manifestWith(template, 'NetworkPolicy').dependsOn).toEqual(access.dependsOn);
    expect(manifestWith(template, 'CronJob').dependsOn).toEqual(expect.arrayContaining([access.logicalId, manifestWith(template, 'NetworkPolicy').logicalId]));
    const [association] = Object.values<any>(template.findResources('AWS::EKS::PodIdentityAssociation'));
    expect(association.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/PodIdentityAgentAddon/)]));
  });

  test('the namespace enforces Pod Security Standard restricted', () => {
    expect(objectOfKind(preprocessing.manifests, 'Namespace').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
  });

  test('on demand by default: a suspended CronJob that never fires, and the command to start a run', () => {
    expect(cronJob.metadata).toMatchObject({ name: 'data-preprocessing', namespace: 'mlops' });
    expect(cronJob.spec).toMatchObject({ suspend: true, schedule: '0 0 31 2 *', concurrencyPolicy: 'Forbid' });
    expect(preprocessing.runCommand).toBe('kubectl -n mlops create job data-preprocessing-$(date +%s) --from=cronjob/data-preprocessing');
    template.hasOutput('*', { Value: preprocessing.runCommand });
  });

  test('a run is bounded: backoff limit, deadline and TTL after finishing', () => {
    const spec = cronJob.spec.jobTemplate.spec;
    expect(spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: 86400 });
    expect(podSpecOf(cronJob).restartPolicy).toBe('Never');
    expect(podSpecOf(cronJob).serviceAccountName).toBe('data-preprocessing-sa');
  });

  test('bad input (exit 2) fails the Job at once; disrupted pods do not count against the backoff limit', () => {
    expect(cronJob.spec.jobTemplate.spec.podFailurePolicy.rules).toEqual([
      { action: 'FailJob', onExitCodes: { containerName: 'preprocessing', operator: 'In', values: [2] } },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ]);
  });

  test('the pod runs non-root with a read-only root filesystem, no capabilities and RuntimeDefault seccomp', () => {
    const spec = podSpecOf(cronJob);
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
    const [container] = podSpecOf(cronJob).containers;
    expect(container.image).toBe(IMAGE_URI);
    // The ephemeral-storage request matches the scratch volume, so the scheduler places the pod where it fits.
    expect(container.resources).toEqual({ requests: { 'cpu': '500m', 'memory': '1Gi', 'ephemeral-storage': '10Gi' }, limits: { cpu: '2', memory: '4Gi' } });
    expect(container.volumeMounts).toContainEqual({ name: 'data-volume', mountPath: '/opt/ml/processing/data' });
    expect(podSpecOf(cronJob).volumes).toContainEqual({ name: 'data-volume', emptyDir: { sizeLimit: '10Gi' } });
    const env = envOf(cronJob);
    expect(Object.keys(env)).toEqual([
      'INPUT_BUCKET', 'INPUT_KEY', 'OUTPUT_BUCKET', 'OUTPUT_PREFIX', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'LOG_LEVEL', 'OUTPUT_FORMAT', 'LOG_FORMAT', 'SCRATCH_DIR', 'SCRATCH_VOLUME_SIZE',
      'METRICS_NAMESPACE', 'METRICS_DIMENSIONS',
    ]);
    // JSON log lines in the cluster; the scratch volume's limit, which statfs does not show, for the processor's preflight.
    expect(env).toMatchObject({
      INPUT_KEY: 'data/mock_data.csv', OUTPUT_PREFIX: 'output/', LOG_LEVEL: 'INFO', LOG_FORMAT: 'json', SCRATCH_DIR: '/opt/ml/processing/data', SCRATCH_VOLUME_SIZE: '10Gi',
    });
    expect(stack.resolve(env.INPUT_BUCKET)).toEqual({ Ref: expect.stringMatching(/^Workload.*RawDataBucket[0-9A-F]{8}$/) });
  });

  test('an image of unknown architecture gets no node selector', () => {
    expect(podSpecOf(cronJob).nodeSelector).toBeUndefined();
  });

  test('the network policy admits no ingress and only DNS, the Pod Identity agent and HTTPS out, for this workload\'s pods', () => {
    const policy = objectOfKind(preprocessing.manifests, 'NetworkPolicy');
    expect(policy.spec.podSelector.matchLabels).toEqual(cronJob.spec.jobTemplate.spec.template.metadata.labels);
    expect(policy.spec.podSelector.matchLabels['app.kubernetes.io/instance']).toBe('data-preprocessing');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([]);
    const ports = policy.spec.egress.flatMap((rule: any) => rule.ports.map((p: any) => `${p.protocol}/${p.port}`));
    expect(ports.sort()).toEqual(['TCP/443', 'TCP/53', 'TCP/80', 'UDP/53']);
    const agentRule = policy.spec.egress.find((rule: any) => rule.ports[0].port === 80);
    expect(agentRule.to).toEqual([{ ipBlock: { cidr: '169.254.170.23/32' } }]);
    const dnsRule = policy.spec.egress.find((rule: any) => rule.ports[0].port === 53);
    expect(dnsRule.to).toEqual([{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
    }]);
    const httpsRule = policy.spec.egress.find((rule: any) => rule.ports[0].port === 443);
    expect(httpsRule.to).toBeUndefined(); // S3 and SQS endpoints have no fixed addresses
  });

  test('the quota is the walkthrough\'s and the limit range caps a container at it', () => {
    const quota = objectOfKind(preprocessing.manifests, 'ResourceQuota').spec.hard;
    expect(quota).toEqual({ 'requests.cpu': '4', 'requests.memory': '8Gi', 'limits.cpu': '8', 'limits.memory': '16Gi', 'pods': '10' });
    const [limits] = objectOfKind(preprocessing.manifests, 'LimitRange').spec.limits;
    expect(limits.max).toEqual({ cpu: quota['limits.cpu'], memory: quota['limits.memory'] });
  });

  test('manifestYaml holds the same objects, and nothing is published for GitOps', () => {
    const documents = YAML.parseAllDocuments(preprocessing.manifestYaml).map((d) => d.toJS());
    expect(documents.map((d) => d.kind)).toEqual(preprocessing.manifests.map((o) => o.kind));
    expect(preprocessing.manifestParameter).toBeUndefined();
    template.resourceCountIs('AWS::SSM::Parameter', 1); // only the kubectl ready barrier of aws-eks-v2
  });
});

describe('PodIdentityPreprocessing options', () => {
  test('given buckets are used and no bucket is created; grants follow the prefixes', () => {
    const { template } = synth((stack) => ({
      inputBucket: s3.Bucket.fromBucketName(stack, 'In', 'my-raw'),
      outputBucket: s3.Bucket.fromBucketName(stack, 'Out', 'my-processed'),
      inputKey: 'incoming/2026/hr.csv',
      outputPrefix: 'clean/',
    }));
    template.resourceCountIs('AWS::S3::Bucket', 0);
    const policy = JSON.stringify(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Workload.*Role[0-9A-F]{8}$') }] } }));
    expect(policy).toContain(':s3:::my-raw/incoming/2026/*');
    expect(policy).toContain(':s3:::my-processed/clean/*');
  });

  describe('the walkthrough\'s five buckets', () => {
    let template: Template;
    let preprocessing: PodIdentityPreprocessing;
    beforeAll(() => {
      ({ template, preprocessing } = synth({
        createAdditionalBuckets: true, bucketNamePrefix: 'eks-demo', bucketRemovalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true,
      }));
    });

    test('are named from the prefix and destroyed with the stack', () => {
      const names = Object.values<any>(template.findResources('AWS::S3::Bucket')).map((b) => b.Properties.BucketName).sort();
      expect(names).toEqual(['eks-demo-feature-store-bucket', 'eks-demo-logs-bucket', 'eks-demo-model-artifacts-bucket', 'eks-demo-processed-data-bucket', 'eks-demo-raw-data-bucket']);
      expect(preprocessing.modelArtifactsBucket).toBeDefined();
      for (const bucket of Object.values<any>(template.findResources('AWS::S3::Bucket'))) {
        expect(bucket.DeletionPolicy).toBe('Delete');
      }
    });

    test('the data buckets send their access logs to the logs bucket, which the S3 logging service may write to', () => {
      const logsBucketId = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { BucketName: 'eks-demo-logs-bucket' } }))[0];
      for (const suffix of ['raw-data-bucket', 'processed-data-bucket', 'model-artifacts-bucket', 'feature-store-bucket']) {
        template.hasResourceProperties('AWS::S3::Bucket', {
          BucketName: `eks-demo-${suffix}`,
          LoggingConfiguration: { DestinationBucketName: { Ref: logsBucketId }, LogFilePrefix: `${suffix}/` },
          VersioningConfiguration: { Status: 'Enabled' },
        });
      }
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logsBucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Condition: {
              ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^Workload.*RawDataBucket[0-9A-F]{8}$'), 'Arn'] } },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          })]),
        },
      });
      const logs = template.findResources('AWS::S3::Bucket', { Properties: { BucketName: 'eks-demo-logs-bucket' } });
      expect(Object.values<any>(logs)[0].Properties.VersioningConfiguration).toBeUndefined();
    });
  });

  test('a bucket-owner-enforced access-log bucket works without the S3 log-delivery feature flag', () => {
    const { template } = synth((stack) => ({
      serverAccessLogsBucket: new s3.Bucket(stack, 'AccessLogs', { objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED, enforceSSL: true }),
    }));
    const logsId = Object.keys(template.findResources('AWS::S3::Bucket', { Properties: { OwnershipControls: Match.anyValue(), LoggingConfiguration: Match.absent() } }))
      .find((id) => id.startsWith('AccessLogs'))!;
    template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'raw-data-bucket/' } });
    template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'processed-data-bucket/' } });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' })]) },
    });
    expect(JSON.stringify(template.findResources('AWS::S3::Bucket', { Properties: { AccessControl: Match.anyValue() } }))).toBe('{}');
  });

  test('an imported access-log bucket gets a warning with the statement to add to its policy', () => {
    const { stack } = synth((s) => ({ serverAccessLogsBucket: s3.Bucket.fromBucketName(s, 'ImportedLogs', 'acme-access-logs') }));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('logging.s3.amazonaws.com'));
    expect(warnings.map((w) => w.id).sort()).toEqual(['/EksClusterStack/Preprocessing/ProcessedDataBucket', '/EksClusterStack/Preprocessing/RawDataBucket']);
  });

  test('every run\'s pod is safe from the Cluster Autoscaler\'s scale-down and has a deadline of running time', () => {
    const cronJob = objectOfKind(synth().preprocessing.manifests, 'CronJob');
    expect(cronJob.spec.jobTemplate.spec.template.metadata.annotations).toMatchObject({ 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false', 'karpenter.sh/do-not-disrupt': 'true' });
    expect(podSpecOf(cronJob).activeDeadlineSeconds).toBe(3600);
  });

  test('resources, deadline and log level are passed through', () => {
    const { preprocessing } = synth({ resources: { memoryLimit: '8Gi' }, activeDeadline: Duration.minutes(30), logLevel: 'DEBUG' });
    const cronJob = objectOfKind(preprocessing.manifests, 'CronJob');
    const container = podSpecOf(cronJob).containers[0];
    expect(container.resources.limits).toEqual({ cpu: '2', memory: '8Gi' });
    expect(cronJob.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(1800);
    expect(container.env).toContainEqual({ name: 'LOG_LEVEL', value: 'DEBUG' });
  });

  test('a token input key with its prefix given reads only that prefix', () => {
    const { template } = synth((stack) => ({ inputKey: new CfnParameter(stack, 'InputKey').valueAsString, inputPrefix: 'incoming/' }));
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain('/incoming/*');
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
    [{ inputKey: 'data/x.csv', inputPrefix: 'data' }, /invalid 'inputPrefix': 'data' must end in '\/'/],
    [{ inputKey: Token.asString({ Ref: 'InputKeyParameter' }) }, /invalid 'inputPrefix': is required when inputKey is a token/],
    [{ outputPrefix: 'output' }, /invalid 'outputPrefix'/],
    [{ backoffLimit: -1 }, /invalid 'backoffLimit'/],
    [{ logLevel: 'LOUD' }, /invalid 'logLevel'/],
    [{ autoDeleteObjects: true }, /invalid 'autoDeleteObjects'.*DESTROY/],
    [{ bucketRemovalPolicy: RemovalPolicy.DESTROY }, /invalid 'bucketRemovalPolicy': RemovalPolicy.DESTROY needs autoDeleteObjects: true/],
    [{ resources: { cpuLimit: 'two' } }, /invalid 'resources.cpuLimit'/],
    [{ resources: { memoryRequest: '1 GB' } }, /invalid 'resources.memoryRequest'/],
    [{ resources: { memoryRequest: '6Gi' } }, /invalid 'resources.memoryRequest': 6Gi is more than resources.memoryLimit 4Gi/],
    [{ resources: { cpuLimit: '9' } }, /invalid 'resources.cpuLimit': 9 is more than the namespace quota's limits.cpu 8/],
    [{ scratchVolumeSize: '10GB' }, /invalid 'scratchVolumeSize'/],
  ])('%j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
