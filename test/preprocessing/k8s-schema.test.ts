import { Token } from 'aws-cdk-lib';
import { kubernetesSchemaProblems, validateKubernetesObjects } from './k8s-schema';

type Manifest = Record<string, any>;

/** A realistic preprocessing Job using fields of current Kubernetes (podFailurePolicy, managedBy). */
const JOB: Manifest = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'data-preprocessing', namespace: 'mlops', labels: { 'app.kubernetes.io/name': 'data-preprocessing' } },
  spec: {
    backoffLimit: 2,
    activeDeadlineSeconds: 3600,
    ttlSecondsAfterFinished: 86400,
    managedBy: 'kubernetes.io/job-controller',
    podFailurePolicy: {
      rules: [
        { action: 'FailJob', onExitCodes: { containerName: 'processor', operator: 'In', values: [2] } },
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
      ],
    },
    template: {
      spec: {
        serviceAccountName: 'data-preprocessing-sa',
        restartPolicy: 'Never',
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{
          name: 'processor',
          image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preprocess:1.0.0',
          env: [{ name: 'INPUT_BUCKET', value: 'eks-demo-raw-data-bucket' }, { name: 'PARALLEL_WORKERS', value: '4' }],
          resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } },
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'scratch', mountPath: '/opt/ml/processing/data' }],
        }],
        volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '10Gi' } }],
      },
    },
  },
};

/** Scales the Job on an SQS queue; KEDA reads the queue through its own EKS Pod Identity. */
const TRIGGER_AUTHENTICATION: Manifest = {
  apiVersion: 'keda.sh/v1alpha1',
  kind: 'TriggerAuthentication',
  metadata: { name: 'data-preprocessing-sqs', namespace: 'mlops' },
  spec: { podIdentity: { provider: 'aws' } },
};

const SCALED_JOB: Manifest = {
  apiVersion: 'keda.sh/v1alpha1',
  kind: 'ScaledJob',
  metadata: { name: 'data-preprocessing', namespace: 'mlops' },
  spec: {
    jobTargetRef: JOB.spec,
    pollingInterval: 30,
    maxReplicaCount: 5,
    successfulJobsHistoryLimit: 5,
    failedJobsHistoryLimit: 5,
    scalingStrategy: { strategy: 'default' },
    triggers: [{
      type: 'aws-sqs-queue',
      authenticationRef: { name: 'data-preprocessing-sqs' },
      metadata: {
        queueURL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/data-preprocessing-uploads',
        queueLength: '1',
        awsRegion: 'eu-west-1',
      },
    }],
  },
};

function changed(object: Manifest, change: (copy: any) => void): Manifest {
  const copy = structuredClone(object);
  change(copy);
  return copy;
}

/** Every case of this file, validated in one child process. */
const CASES = {
  job: JOB,
  triggerAuthentication: TRIGGER_AUTHENTICATION,
  scaledJob: SCALED_JOB,
  unknownTopLevel: changed(JOB, (job) => { job.specs = {}; }),
  unknownInContainer: changed(JOB, (job) => { job.spec.template.spec.containers[0].cpu = '500m'; }),
  misspelled: changed(JOB, (job) => { job.spec.backoffLimt = job.spec.backoffLimit; delete job.spec.backoffLimit; }),
  wrongType: changed(JOB, (job) => { job.spec.activeDeadlineSeconds = '3600'; }),
  missingRequired: changed(JOB, (job) => { delete job.spec.template.spec.containers[0].name; }),
  notAllowedValue: changed(JOB, (job) => { job.spec.podFailurePolicy.rules[0].action = 'Retry'; }),
  freeFormKeys: changed(JOB, (job) => {
    job.metadata.annotations = { 'example.com/any-key': 'x' };
    job.spec.template.spec.nodeSelector = { 'karpenter.sh/capacity-type': 'spot' };
  }),
  scaledJobBroken: changed(SCALED_JOB, (scaledJob) => {
    scaledJob.spec.pollingIntervall = 30;
    delete scaledJob.spec.triggers[0].type;
    scaledJob.spec.jobTargetRef.template.spec.containers[0].imagee = 'x';
  }),
  scaledJobBadPodFailurePolicy: changed(SCALED_JOB, (scaledJob) => { delete scaledJob.spec.jobTargetRef.podFailurePolicy.rules[1].action; }),
  triggerAuthenticationBroken: changed(TRIGGER_AUTHENTICATION, (auth) => { auth.spec.podIdentity = { provider: 'aws-iam', roleARN: 'arn' }; }),
  unknownKind: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } },
  nestedTypeAsKind: { apiVersion: 'batch/v1', kind: 'JobSpec' },
  noKind: { apiVersion: 'v1', metadata: { name: 'x' } },
};

describe('strict Kubernetes schema validation', () => {
  let problems: Record<keyof typeof CASES, string[]>;

  beforeAll(() => {
    const names = Object.keys(CASES) as Array<keyof typeof CASES>;
    const results = kubernetesSchemaProblems(names.map((name) => CASES[name]));
    problems = Object.fromEntries(names.map((name, index) => [name, results[index]])) as typeof problems;
  });

  test('a Job using podFailurePolicy and managedBy validates', () => {
    expect(problems.job).toEqual([]);
  });

  test('an unknown top-level field is rejected, naming its path', () => {
    expect(problems.unknownTopLevel).toEqual(['/specs: unknown field']);
  });

  test('an unknown field in a container is rejected', () => {
    expect(problems.unknownInContainer).toEqual(['/spec/template/spec/containers/0/cpu: unknown field']);
  });

  test('a misspelled field is rejected', () => {
    expect(problems.misspelled).toEqual(['/spec/backoffLimt: unknown field']);
  });

  test('a value of the wrong type is rejected', () => {
    expect(problems.wrongType).toEqual(['/spec/activeDeadlineSeconds: must be integer']);
  });

  test('a missing required field is rejected', () => {
    expect(problems.missingRequired).toEqual(['/spec/template/spec/containers/0: must have required property name']);
  });

  test('a value outside an enumeration is rejected with the allowed values', () => {
    expect(problems.notAllowedValue).toEqual([
      '/spec/podFailurePolicy/rules/0/action: must be equal to one of the allowed values ("Count", "FailIndex", "FailJob", "Ignore")',
    ]);
  });

  test('keys of maps (annotations, nodeSelector) are free-form', () => {
    expect(problems.freeFormKeys).toEqual([]);
  });

  test('a KEDA ScaledJob on an SQS queue and its Pod Identity TriggerAuthentication validate', () => {
    expect(problems.scaledJob).toEqual([]);
    expect(problems.triggerAuthentication).toEqual([]);
  });

  test('a ScaledJob is checked strictly, down into the Job it runs', () => {
    expect(problems.scaledJobBroken).toEqual([
      '/spec/triggers/0: must have required property type',
      '/spec/jobTargetRef/template/spec/containers/0/imagee: unknown field',
      '/spec/pollingIntervall: unknown field',
    ]);
    expect(problems.scaledJobBadPodFailurePolicy).toEqual([
      '/spec/jobTargetRef/podFailurePolicy/rules/1: must have required property action',
    ]);
  });

  test('a TriggerAuthentication with an unknown provider and a misspelled field is rejected', () => {
    expect(problems.triggerAuthenticationBroken).toEqual([
      '/spec/podIdentity/provider: must be equal to one of the allowed values ("azure-workload", "gcp", "aws", "aws-eks", "none")',
      '/spec/podIdentity/roleARN: unknown field',
    ]);
  });

  test('an object without a known schema is rejected, not passed', () => {
    expect(problems.unknownKind).toEqual(['no schema for example.com/v1 Widget']);
    expect(problems.nestedTypeAsKind).toEqual(['no schema for batch/v1 JobSpec']);
    expect(problems.noKind).toEqual(['apiVersion and kind must be strings']);
  });
});

describe('validateKubernetesObjects', () => {
  test('names the object of each problem, replaces deploy-time values, and is empty when all validate', () => {
    const withTokens = changed(JOB, (job) => {
      job.spec.template.spec.containers[0].env[0].value = Token.asString({ Ref: 'RawDataBucket' });
      job.spec.backoffLimit = Token.asNumber({ Ref: 'BackoffLimit' });
    });
    const broken = changed(JOB, (job) => { job.metadata.name = 'broken'; job.spec.backoffLimt = 2; });
    expect(validateKubernetesObjects([withTokens, TRIGGER_AUTHENTICATION])).toEqual([]);
    expect(validateKubernetesObjects([withTokens, broken, { kind: 'Widget' }])).toEqual([
      'batch/v1 Job broken: /spec/backoffLimt: unknown field',
      'Widget #2: apiVersion and kind must be strings',
    ]);
  });
});
