import { synthWorkloads } from './helpers';
import { PodIdentityPreprocessing, PreprocessingTrigger } from '../../src';

/** The pod template's metadata of a Job, CronJob or ScaledJob. */
function podMetadataOf(object: Record<string, any>): Record<string, any> {
  switch (object.kind) {
    case 'Job': return object.spec.template.metadata;
    case 'CronJob': return object.spec.jobTemplate.spec.template.metadata;
    case 'ScaledJob': return object.spec.jobTargetRef.template.metadata;
    default: throw new Error(`${object.kind} has no pod template`);
  }
}

function runObject(workload: PodIdentityPreprocessing): Record<string, any> {
  const found = workload.manifests.filter((o) => ['Job', 'CronJob', 'ScaledJob'].includes(o.kind));
  expect(found).toHaveLength(1);
  return found[0];
}

describe('a running run is never disrupted by node scale-down, whatever starts it', () => {
  const triggers: Array<[string, PreprocessingTrigger]> = [
    ['onDemand', PreprocessingTrigger.onDemand()],
    ['schedule', PreprocessingTrigger.schedule('0 2 * * *')],
    ['onDeploy', PreprocessingTrigger.onDeploy()],
    ['onUpload', PreprocessingTrigger.onUpload()],
  ];
  let workloads: PodIdentityPreprocessing[];
  beforeAll(() => {
    ({ workloads } = synthWorkloads(...triggers.map(([name, trigger]) => ({ trigger, namespace: `runs-${name.toLowerCase()}` }))));
  });

  test.each(triggers.map(([name], i) => [name, i] as const))(
    '%s: the pod carries karpenter.sh/do-not-disrupt (EKS Auto Mode\'s Karpenter ignores safe-to-evict) and the Cluster Autoscaler\'s safe-to-evict "false"',
    (_name, i) => {
      expect(podMetadataOf(runObject(workloads[i])).annotations).toEqual({
        'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false',
        'karpenter.sh/do-not-disrupt': 'true',
      });
    });
});
