import { eventually, K8sObject, kubectl, kubectlRun, names, objects, WORKLOAD_KINDS } from './cluster';

/** What the assertions read of a workload in the cluster. */

/** The objects a workload's manifests create in its namespace (not the runs' Jobs that KEDA starts). */
export function manifestObjects(namespace: string): string[] {
  return names(objects(WORKLOAD_KINDS, namespace).filter((o) => !o.metadata.labels?.['scaledjob.keda.sh/name']));
}

export function scaledJob(namespace: string, name: string): K8sObject {
  return JSON.parse(kubectl('get', 'scaledjobs.keda.sh', name, '-n', namespace, '-o', 'json'));
}

/** KEDA has built the ScaledJob's scaler (its trigger and TriggerAuthentication are valid). */
export async function kedaAccepts(namespace: string, name: string): Promise<K8sObject> {
  return eventually(`KEDA to accept ScaledJob ${namespace}/${name}`, () => {
    const object = scaledJob(namespace, name);
    const ready = (object.status?.conditions ?? []).find((c: K8sObject) => c.type === 'Ready');
    return ready?.status === 'True' ? object : undefined;
  });
}

/** The Jobs KEDA started for a ScaledJob. */
export function kedaJobs(namespace: string, scaledJobName: string): K8sObject[] {
  return objects('jobs', namespace, `scaledjob.keda.sh/name=${scaledJobName}`);
}

export function podsOf(namespace: string, jobName: string): K8sObject[] {
  return objects('pods', namespace, `job-name=${jobName}`);
}

/** A Job KEDA started whose pod runs (on a KWOK node). */
export async function runningKedaJob(namespace: string, scaledJobName: string): Promise<K8sObject> {
  return eventually(`a running Job of ScaledJob ${namespace}/${scaledJobName}`, () => {
    const jobs = kedaJobs(namespace, scaledJobName);
    return jobs.find((job) => podsOf(namespace, job.metadata.name).some((pod) => pod.status?.phase === 'Running'));
  });
}

/** Lets the Job's pods finish (KWOK's stage for pods annotated `finish: "true"`). */
export function finishPods(namespace: string, jobName: string): void {
  kubectl('annotate', 'pods', '-n', namespace, '-l', `job-name=${jobName}`, 'finish=true', '--overwrite');
}

export async function completed(namespace: string, jobName: string): Promise<K8sObject> {
  return eventually(`Job ${namespace}/${jobName} to complete`, () => {
    const job = JSON.parse(kubectl('get', 'job', jobName, '-n', namespace, '-o', 'json'));
    return (job.status?.conditions ?? []).some((c: K8sObject) => c.type === 'Complete' && c.status === 'True') ? job : undefined;
  });
}

/** The Job by name if it exists and is not being deleted. */
export function liveJob(namespace: string, jobName: string): K8sObject | undefined {
  const result = kubectlRun(['get', 'job', jobName, '-n', namespace, '-o', 'json']);
  if (result.status !== 0) return undefined;
  const job = JSON.parse(result.stdout);
  return job.metadata.deletionTimestamp ? undefined : job;
}

/** The pod a Job, CronJob or ScaledJob would run, as a Pod in the namespace. */
export function podOf(workload: K8sObject, change: (spec: K8sObject) => void = () => undefined): K8sObject {
  const jobSpec = workload.kind === 'ScaledJob' ? workload.spec.jobTargetRef
    : workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec : workload.spec;
  const spec = JSON.parse(JSON.stringify(jobSpec.template.spec));
  change(spec);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${workload.metadata.name}-admission-check`, namespace: workload.metadata.namespace, labels: jobSpec.template.metadata?.labels },
    spec,
  };
}

/** `kubectl create --dry-run=server`: the API server's admission (Pod Security, LimitRange, ResourceQuota) decides. */
export function admission(pod: K8sObject): { admitted: boolean; message: string } {
  const result = kubectlRun(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
  return { admitted: result.status === 0, message: result.stderr };
}

/** Waits for a namespace the stack deleted to be gone (the namespace controller empties it first). */
export async function gone(kind: string, name: string): Promise<void> {
  await eventually(`${kind} ${name} to be gone`, () => (kubectlRun(['get', kind, name]).status !== 0 ? true : undefined), 120_000);
}

export const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** KEDA's pollingInterval (10 s): one interval with no change means its reconcile has settled. */
export const KEDA_POLLING_INTERVAL = 10_000;

/**
 * A snapshot taken once KEDA has settled: `read` twice, a polling interval apart, until both agree
 * (KEDA updates a ScaledJob's status and resourceVersion, and its own objects, as it reconciles; a
 * snapshot taken before that would differ from a later one for no fault of the stack).
 */
export async function settledSnapshot(what: string, read: () => string[]): Promise<string[]> {
  let previous = read();
  return eventually(`${what} to settle`, () => {
    const current = read();
    const same = JSON.stringify(current) === JSON.stringify(previous);
    previous = current;
    return same ? current : undefined;
  }, 180_000, KEDA_POLLING_INTERVAL);
}
