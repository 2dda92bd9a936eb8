import { CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { appliedManifests, manifestWith, objectOfKind, synth, synthWorkloads } from './helpers';
import { PodIdentityPreprocessing, PreprocessingTrigger } from '../../src';

describe('two workloads in one namespace', () => {
  let template: Template;
  let first: PodIdentityPreprocessing;
  let second: PodIdentityPreprocessing;
  beforeAll(() => {
    ({ template, workloads: [first, second] } = synthWorkloads(
      { jobName: 'hr-cleaning' },
      { jobName: 'payroll', trigger: PreprocessingTrigger.schedule('0 3 * * *') },
    ));
  });

  test('the namespace, its quota and limit range are applied once', () => {
    const namespaces = appliedManifests(template).filter((m) => m.objects.some((o) => o.kind === 'Namespace'));
    expect(namespaces).toHaveLength(1);
    expect(namespaces[0].objects.map((o) => o.kind)).toEqual(['Namespace', 'ResourceQuota', 'LimitRange']);
  });

  test('no object is emitted twice, across both workloads and across the applied manifests', () => {
    const key = (o: Record<string, any>): string => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const emitted = [...first.manifests, ...second.manifests].map(key);
    expect(new Set(emitted).size).toBe(emitted.length);
    const applied = appliedManifests(template).flatMap((m) => m.objects).map(key);
    expect(new Set(applied).size).toBe(applied.length);
    expect(applied.sort()).toEqual(emitted.sort());
    expect(second.manifests.some((o) => o.kind === 'Namespace')).toBe(false);
  });

  test('each has its own service account, association, network policy and workload object', () => {
    expect([first.serviceAccountName, second.serviceAccountName]).toEqual(['hr-cleaning-sa', 'payroll-sa']);
    const associations = Object.values<any>(template.findResources('AWS::EKS::PodIdentityAssociation', { Properties: { Namespace: 'mlops' } }));
    expect(associations.map((a) => a.Properties.ServiceAccount).sort()).toEqual(['hr-cleaning-sa', 'payroll-sa']);
    const selectors = [first, second].map((w) => objectOfKind(w.manifests, 'NetworkPolicy').spec.podSelector.matchLabels['app.kubernetes.io/instance']);
    expect(selectors).toEqual(['hr-cleaning', 'payroll']);
    expect(objectOfKind(first.manifests, 'CronJob').metadata.name).toBe('hr-cleaning');
    expect(objectOfKind(second.manifests, 'CronJob').metadata.name).toBe('payroll');
  });

  test('removing one deletes only its own objects: the namespace lives in a manifest neither owns', () => {
    const namespace = manifestWith(template, 'Namespace');
    expect(namespace.logicalId).toMatch(/^EksCluster/);
    const others = appliedManifests(template).filter((m) => m.logicalId !== namespace.logicalId);
    expect(others).toHaveLength(6);
    for (const manifest of others) {
      expect(manifest.objects.map((o) => o.kind)).not.toContain('Namespace');
    }
    // Every other manifest is a construct of exactly one workload: removing that workload removes it.
    const ownedBy = (workload: PodIdentityPreprocessing): string[] => workload.node.findAll()
      .filter((c): c is eks.KubernetesManifest => c instanceof eks.KubernetesManifest)
      .map((m) => Stack.of(m).resolve((m.node.defaultChild as CfnResource).logicalId));
    const [firstOwns, secondOwns] = [ownedBy(first), ownedBy(second)];
    expect([firstOwns.length, secondOwns.length]).toEqual([3, 3]);
    expect([...firstOwns, ...secondOwns].sort()).toEqual(others.map((m) => m.logicalId).sort());
  });

  test('a second workload with the same Job or service account name is refused, naming the prop', () => {
    expect(() => synthWorkloads({ jobName: 'a' }, { jobName: 'a', serviceAccountName: 'other-sa' })).toThrow(/invalid 'jobName': 'a' is already used by another workload in namespace 'mlops'/);
    expect(() => synthWorkloads({ jobName: 'a' }, { jobName: 'b', serviceAccountName: 'a-sa' })).toThrow(/invalid 'serviceAccountName': 'a-sa' is already used/);
  });

  test('workloads that each fit the quota but not together are refused, naming every workload', () => {
    const upload = (jobName: string, maxParallelJobs: number) => ({ jobName, inputKey: `${jobName}/x.csv`, trigger: PreprocessingTrigger.onUpload({ maxParallelJobs }) });
    expect(() => synthWorkloads(upload('first', 3), upload('second', 2))).toThrow(new RegExp(
      "invalid 'trigger.maxParallelJobs': the workloads in namespace 'mlops' together need more than the namespace quota's limits.cpu 8 at their parallelism "
      + '\\(EksClusterStack/Preprocessing: 3 × 2, EksClusterStack/Preprocessing2: 2 × 2\\)'));
    expect(() => synthWorkloads(upload('first', 2), upload('second', 2))).not.toThrow();
    expect(() => synthWorkloads(upload('first', 3), { ...upload('second', 2), namespace: 'other' })).not.toThrow();
  });

  test('the same names in different namespaces are fine, each namespace created once', () => {
    const { template: other } = synthWorkloads({ namespace: 'team-a' }, { namespace: 'team-b' });
    const namespaces = appliedManifests(other).flatMap((m) => m.objects).filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    expect(namespaces.sort()).toEqual(['team-a', 'team-b']);
  });
});

describe('createNamespace: false', () => {
  let template: Template;
  let preprocessing: PodIdentityPreprocessing;
  beforeAll(() => {
    ({ template, preprocessing } = synth({ createNamespace: false, namespace: 'data-team', resources: { cpuLimit: '9', memoryLimit: '32Gi' } }));
  });

  test('only the workload\'s own objects are emitted and applied', () => {
    expect(preprocessing.manifests.map((o) => o.kind)).toEqual(['ServiceAccount', 'NetworkPolicy', 'CronJob']);
    const kinds = appliedManifests(template).flatMap((m) => m.objects.map((o) => o.kind)).sort();
    expect(kinds).toEqual(['CronJob', 'NetworkPolicy', 'ServiceAccount']);
  });

  test('the namespace\'s quota is not ours to check: larger limits are accepted', () => {
    expect(objectOfKind(preprocessing.manifests, 'CronJob').spec.jobTemplate.spec.template.spec.containers[0].resources.limits).toEqual({ cpu: '9', memory: '32Gi' });
  });
});
