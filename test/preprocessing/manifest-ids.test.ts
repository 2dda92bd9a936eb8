import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { appliedManifests, IMAGE, synth, testCluster, WorkloadProps } from './helpers';
import { buildExampleApp } from '../../examples/app';
import { PodIdentityPreprocessing, PreprocessingTrigger } from '../../src';

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
