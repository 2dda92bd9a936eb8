import { CfnTemplate, CloudFormationStack } from './cloudformation';
import { createKwokNode, K8sObject, kubectl, names, objects } from './cluster';
import { LocalQueues } from './queues';
import { exampleTemplate, image, STACK_NAME, workloadsTemplate } from './stacks';
import {
  admission, completed, finishPods, gone, kedaAccepts, liveJob, manifestObjects, podOf, podsOf, runningKedaJob, settle, settledSnapshot,
} from './workload';
import { MlopsEksCluster, PreprocessingTransform, PreprocessingTrigger, ProcessorImage } from '../../src';

/**
 * The stack's life replayed on a real control plane (test/control-plane/run.sh starts it): each
 * deploy sends the events CloudFormation would send to aws-eks-v2's own kubectl handler; each step
 * asserts what is then in the cluster. Every life uses a namespace of its own and ends destroyed.
 */

// Synthesis, the handler's kubectl runs and KEDA's 10-second polling.
jest.setTimeout(600_000);

/** Long enough for KEDA to poll the queue and reconcile the ScaledJob a few times (pollingInterval 10 s). */
const KEDA_POLLS = 30_000;

/** Every object a stack could create or remove, cluster-wide, with its uid (so "untouched" is checked too). */
const CLUSTER_KINDS = 'namespaces,serviceaccounts,networkpolicies,resourcequotas,limitranges,jobs,cronjobs,'
  + 'scaledjobs.keda.sh,triggerauthentications.keda.sh,configmaps,roles,rolebindings,clusterroles,clusterrolebindings,deployments';

function clusterInventory(): string[] {
  return objects(CLUSTER_KINDS).map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}@${o.metadata.uid}`).sort();
}

let queues: LocalQueues;

beforeAll(() => {
  queues = new LocalQueues();
  // KWOK plays both architectures, so an image's nodeSelector (kubernetes.io/arch) finds a node.
  createKwokNode('kwok-amd64', { 'kubernetes.io/arch': 'amd64' });
  createKwokNode('kwok-arm64', { 'kubernetes.io/arch': 'arm64' });
});

afterAll(() => queues?.close());

function newStack(): CloudFormationStack {
  return new CloudFormationStack(STACK_NAME, queues.fixtures);
}

async function deploy(stack: CloudFormationStack, template: CfnTemplate): Promise<void> {
  await queues.createFor(template);
  stack.deploy(template);
}

/** A message on the ScaledJob's queue, so KEDA starts a Job for it. */
async function upload(scaledJob: K8sObject): Promise<string> {
  const queueUrl = scaledJob.spec.triggers[0].metadata.queueURL;
  await queues.send(queueUrl, JSON.stringify({ Records: [{ s3: { object: { key: 'data/upload.csv' } } }] }));
  return queueUrl;
}

describe('the components', () => {
  test('are the library\'s: the Kubernetes minor of its bundled kubectl (the example\'s), and the KEDA version it installs there', () => {
    const server = JSON.parse(kubectl('version', '-o', 'json')).serverVersion;
    expect(`${server.major}.${server.minor}`).toBe(MlopsEksCluster.BUNDLED_KUBECTL_VERSION.version);
    const template = workloadsTemplate({ id: 'Preprocessing', props: { trigger: PreprocessingTrigger.onUpload() } });
    const charts = Object.values(template.Resources).filter((r) => r.Type === 'Custom::AWSCDK-EKS-HelmChart' && r.Properties?.Chart === 'keda');
    expect(charts.map((chart) => `v${chart.Properties!.Version}`)).toEqual([process.env.CONTROL_PLANE_KEDA_VERSION]);
  });
});

describe('1 and 6: the example (onUpload) deployed, run and destroyed', () => {
  const namespace = 'mlops';
  const name = 'data-preprocessing';
  const stack = (() => { let s: CloudFormationStack | undefined; return () => (s ??= newStack()); })();
  let before: string[];
  let scaledJob: K8sObject;

  test('deploy: the namespace (restricted Pod Security, quota, limits), access objects, TriggerAuthentication and ScaledJob', async () => {
    // KEDA (started by run.sh) creates and updates objects of its own on its first reconcile.
    before = await settledSnapshot('the cluster before the first deploy', clusterInventory);
    await deploy(stack(), exampleTemplate());

    expect(stack().events.filter((e) => e.requestType !== 'Create')).toEqual([]);
    expect(manifestObjects(namespace)).toEqual([
      `NetworkPolicy/${namespace}/${name}-egress`,
      `ScaledJob/${namespace}/${name}`,
      `ServiceAccount/${namespace}/${name}-sa`,
      `ServiceAccount/${namespace}/default`,
      `TriggerAuthentication/${namespace}/${name}-sqs`,
    ]);
    const ns = JSON.parse(kubectl('get', 'namespace', namespace, '-o', 'json'));
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(names(objects('resourcequotas,limitranges', namespace))).toEqual([`LimitRange/${namespace}/mlops-limits`, `ResourceQuota/${namespace}/mlops-quota`]);
  });

  test('KEDA accepts the ScaledJob and its TriggerAuthentication (pod identity → the operator\'s credentials)', async () => {
    scaledJob = await kedaAccepts(namespace, name);
    expect(scaledJob.spec.triggers[0].authenticationRef.name).toBe(`${name}-sqs`);
  });

  test('the API server admits the Job\'s pod (Pod Security restricted, LimitRange, ResourceQuota), and would refuse one that breaks them', () => {
    expect(admission(podOf(scaledJob))).toEqual({ admitted: true, message: '' });

    const privileged = admission(podOf(scaledJob, (spec) => {
      delete spec.securityContext;
      delete spec.containers[0].securityContext;
    }));
    expect(privileged.admitted).toBe(false);
    expect(privileged.message).toContain('violates PodSecurity "restricted:latest"');

    const overLimit = admission(podOf(scaledJob, (spec) => {
      spec.containers[0].resources = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '9', memory: '1Gi' } };
    }));
    expect(overLimit.admitted).toBe(false);
    expect(overLimit.message).toContain('maximum cpu usage per Container is 8');

    const overQuota = admission(podOf(scaledJob, (spec) => {
      spec.containers[0].resources = { requests: { cpu: '1', memory: '9Gi' }, limits: { cpu: '1', memory: '9Gi' } };
    }));
    expect(overQuota.admitted).toBe(false);
    expect(overQuota.message).toContain('exceeded quota: mlops-quota');
  });

  test('a message on the local queue starts a Job; its pod is admitted and runs, and the Job completes', async () => {
    const queueUrl = await upload(scaledJob);
    const job = await runningKedaJob(namespace, name);
    await queues.consumeOne(queueUrl);
    finishPods(namespace, job.metadata.name);
    expect((await completed(namespace, job.metadata.name)).status.succeeded).toBe(1);
  });

  test('6: destroy removes every object the stack created and nothing else, each by its own manifest\'s Delete (the handler swallows a failed kubectl delete)', async () => {
    const sent = stack().events.length;
    stack().destroy();
    const deletes = stack().events.slice(sent);
    expect(new Set(deletes.map((e) => e.requestType))).toEqual(new Set(['Delete']));
    expect(deletes.length).toBeGreaterThan(0);
    // Checked right after each Delete, before the namespace's deletion could remove what a failed one left.
    expect(stack().survivorsOfDeletes).toEqual([]);
    await gone('namespace', namespace);
    expect(await settledSnapshot('the cluster after the destroy', clusterInventory)).toEqual(before);
  });
});

describe('2: a redeploy with a changed image while a KEDA Job runs', () => {
  const namespace = 'day2';
  const name = 'data-preprocessing';
  const stack = (() => { let s: CloudFormationStack | undefined; return () => (s ??= newStack()); })();
  const workload = (tag: string) => workloadsTemplate({ id: 'Preprocessing', props: { namespace, trigger: PreprocessingTrigger.onUpload(), image: image(tag) } });
  let running: K8sObject;

  afterAll(async () => {
    stack().destroy();
    expect(stack().survivorsOfDeletes).toEqual([]);
    await gone('namespace', namespace);
  });

  test('the running Job survives the redeploy and finishes; its history stays', async () => {
    await deploy(stack(), workload('1.0.0'));
    const queueUrl = await upload(await kedaAccepts(namespace, name));
    running = await runningKedaJob(namespace, name);
    await queues.consumeOne(queueUrl);

    await deploy(stack(), workload('1.1.0'));
    expect(stack().events.filter((e) => e.requestType === 'Update').length).toBeGreaterThan(0);
    const updated = await kedaAccepts(namespace, name);
    expect(updated.spec.jobTargetRef.template.spec.containers[0].image).toMatch(/:1\.1\.0$/);
    await settle(KEDA_POLLS);

    expect(liveJob(namespace, running.metadata.name)?.metadata.uid).toBe(running.metadata.uid);
    expect(podsOf(namespace, running.metadata.name).map((pod) => pod.status.phase)).toEqual(['Running']);
    finishPods(namespace, running.metadata.name);
    await completed(namespace, running.metadata.name);
    await settle(KEDA_POLLS);
    expect(liveJob(namespace, running.metadata.name)?.status.succeeded).toBe(1);
  });
});

describe('3: the trigger changes onUpload → schedule → onDeploy → onDemand', () => {
  const namespace = 'triggers';
  const name = 'data-preprocessing';
  const stack = (() => { let s: CloudFormationStack | undefined; return () => (s ??= newStack()); })();
  const withTrigger = (trigger: PreprocessingTrigger) => workloadsTemplate({ id: 'Preprocessing', props: { namespace, trigger } });
  const access = [`NetworkPolicy/${namespace}/${name}-egress`, `ServiceAccount/${namespace}/${name}-sa`, `ServiceAccount/${namespace}/default`];

  afterAll(async () => {
    stack().destroy();
    expect(stack().survivorsOfDeletes).toEqual([]);
    await gone('namespace', namespace);
  });

  test('onUpload: a TriggerAuthentication and a ScaledJob', async () => {
    await deploy(stack(), withTrigger(PreprocessingTrigger.onUpload()));
    expect(manifestObjects(namespace)).toEqual([...access, `ScaledJob/${namespace}/${name}`, `TriggerAuthentication/${namespace}/${name}-sqs`].sort());
  });

  test('schedule: only a CronJob, which the API server\'s admission accepts the pod of', async () => {
    await deploy(stack(), withTrigger(PreprocessingTrigger.schedule('0 2 * * *')));
    expect(manifestObjects(namespace)).toEqual([...access, `CronJob/${namespace}/${name}`].sort());
    const cronJob = JSON.parse(kubectl('get', 'cronjob', name, '-n', namespace, '-o', 'json'));
    expect(cronJob.spec.suspend).toBe(false);
    expect(admission(podOf(cronJob)).admitted).toBe(true);
  });

  let deployJob: string;
  test('onDeploy: only the deploy\'s Job', async () => {
    await deploy(stack(), withTrigger(PreprocessingTrigger.onDeploy()));
    const found = manifestObjects(namespace);
    expect(found.filter((n) => !access.includes(n))).toEqual([expect.stringMatching(new RegExp(`^Job/${namespace}/${name}-[0-9a-f]{8}$`))]);
    deployJob = found.find((n) => n.startsWith('Job/'))!;
  });

  test('onDemand: a suspended CronJob; the last deploy\'s Job is left to finish (DeletionPolicy Retain: CloudFormation sends its manifest no Delete, its TTL removes it)', async () => {
    await deploy(stack(), withTrigger(PreprocessingTrigger.onDemand()));
    expect(manifestObjects(namespace)).toEqual([...access, `CronJob/${namespace}/${name}`, deployJob].sort());
    // The run the switch left alone goes on to its end (its TTL removes it a day later).
    const jobName = deployJob.split('/')[2];
    finishPods(namespace, jobName);
    expect((await completed(namespace, jobName)).status.succeeded).toBe(1);
    expect(JSON.parse(kubectl('get', 'cronjob', name, '-n', namespace, '-o', 'json')).spec.suspend).toBe(true);
  });
});

describe('4: jobName renamed', () => {
  const namespace = 'rename';
  const stack = (() => { let s: CloudFormationStack | undefined; return () => (s ??= newStack()); })();
  const named = (jobName: string) => workloadsTemplate({ id: 'Preprocessing', props: { namespace, jobName, trigger: PreprocessingTrigger.onUpload() } });

  afterAll(async () => {
    stack().destroy();
    expect(stack().survivorsOfDeletes).toEqual([]);
    await gone('namespace', namespace);
  });

  test('nothing of the old name remains', async () => {
    await deploy(stack(), named('alpha'));
    expect(manifestObjects(namespace).filter((n) => n.includes('alpha')).length).toBeGreaterThan(0);
    await deploy(stack(), named('beta'));
    expect(manifestObjects(namespace)).toEqual([
      `NetworkPolicy/${namespace}/beta-egress`,
      `ScaledJob/${namespace}/beta`,
      `ServiceAccount/${namespace}/beta-sa`,
      `ServiceAccount/${namespace}/default`,
      `TriggerAuthentication/${namespace}/beta-sqs`,
    ]);
  });
});

describe('5: two workloads in one namespace, then one removed', () => {
  const namespace = 'shared';
  const stack = (() => { let s: CloudFormationStack | undefined; return () => (s ??= newStack()); })();
  // Together within the namespace quota's limits.cpu 8: 2 parallel runs × 2 CPUs, and 1 × 2.
  const first = { id: 'Preprocessing', props: { namespace, jobName: 'first', trigger: PreprocessingTrigger.onUpload({ maxParallelJobs: 2 }) } };
  const second = { id: 'Preprocessing2', props: { namespace, jobName: 'second', trigger: PreprocessingTrigger.schedule('0 3 * * *') } };
  const inventory = () => objects('namespaces', undefined).filter((o) => o.metadata.name === namespace)
    .concat(objects('serviceaccounts,networkpolicies,scaledjobs.keda.sh,triggerauthentications.keda.sh,cronjobs,resourcequotas,limitranges', namespace))
    .map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.uid}/${o.metadata.resourceVersion}`).sort();

  afterAll(async () => {
    stack().destroy();
    expect(stack().survivorsOfDeletes).toEqual([]);
    await gone('namespace', namespace);
  });

  test('the other workload\'s objects and the namespace are untouched', async () => {
    await deploy(stack(), workloadsTemplate(first));
    await kedaAccepts(namespace, 'first');
    const firstOnly = await settledSnapshot(`namespace ${namespace}`, inventory);
    await deploy(stack(), workloadsTemplate(first, second));
    expect(manifestObjects(namespace).filter((n) => n.includes('second'))).toEqual([
      `CronJob/${namespace}/second`, `NetworkPolicy/${namespace}/second-egress`, `ServiceAccount/${namespace}/second-sa`,
    ]);
    await deploy(stack(), workloadsTemplate(first));
    expect(await settledSnapshot(`namespace ${namespace}`, inventory)).toEqual(firstOnly);
  });
});

describe('7: the workload construct renamed (as a library release that changed construct IDs would do)', () => {
  const namespace = 'replaced';
  const name = 'data-preprocessing';
  const stack = (() => { let s: CloudFormationStack | undefined; return () => (s ??= newStack()); })();
  // The workload's construct ID changes from Preprocessing to Workload. Its stateful resources keep
  // their logical IDs and the queue its name (WorkloadIdentity), and a manifest's logical ID comes from its cluster and object alone
  // (manifestLogicalId), because a new one would make CloudFormation create the new manifest and
  // then delete the old one in cleanup, and the handler's Delete would `kubectl delete` the objects
  // that the new manifest had just applied.
  const under = (id: string) => workloadsTemplate({ id, props: { namespace, trigger: PreprocessingTrigger.onUpload() } });

  afterAll(async () => {
    stack().destroy();
    expect(stack().survivorsOfDeletes).toEqual([]);
    await gone('namespace', namespace);
  });

  test('nothing reaches the handler (the queue keeps its name, so no manifest changes), and the objects are still there at the end', async () => {
    await deploy(stack(), under('Preprocessing'));
    const before = manifestObjects(namespace);
    const manifestIds = stack().events.filter((e) => e.logicalId.startsWith('K8s')).map((e) => e.logicalId);
    const sent = stack().events.length;
    await deploy(stack(), under('Workload'));
    const replay = stack().events.slice(sent).filter((e) => !e.logicalId.startsWith('EksCluster'));
    // The ScaledJob names the same queue as before: not even an Update.
    expect(manifestIds.length).toBeGreaterThan(0);
    expect(replay).toEqual([]);
    expect(manifestObjects(namespace)).toEqual(before);
    await kedaAccepts(namespace, name);
  });
});

describe('8: a command transform (the user\'s image through the launcher) deployed, run and updated', () => {
  const namespace = 'transform';
  const name = 'data-preprocessing';
  const stack = (() => { let s: CloudFormationStack | undefined; return () => (s ??= newStack()); })();
  const userImage = (tag: string) => ProcessorImage.fromImageUri(`123456789012.dkr.ecr.us-east-1.amazonaws.com/my-pandas:${tag}`);
  const workload = (tag: string, command: string[]) => workloadsTemplate({
    id: 'Preprocessing',
    props: { namespace, trigger: PreprocessingTrigger.onUpload(), transform: PreprocessingTransform.command({ image: userImage(tag), command }) },
  });
  const containers = (object: K8sObject) => podOf(object).spec;

  afterAll(async () => {
    stack().destroy();
    await gone('namespace', namespace);
  });

  test('the API server admits its pod (init container, runtime and transform: Pod Security restricted, LimitRange, ResourceQuota); KEDA runs a Job of it to completion', async () => {
    await deploy(stack(), workload('1.0.0', ['python3', 'preprocess.py']));
    const scaledJob = await kedaAccepts(namespace, name);
    const spec = containers(scaledJob);
    expect(spec.initContainers.map((c: K8sObject) => c.name)).toEqual(['install-launcher']);
    expect(spec.containers.map((c: K8sObject) => c.name)).toEqual(['runtime', 'transform']);
    expect(admission(podOf(scaledJob))).toEqual({ admitted: true, message: '' });
    // A writable launcher directory for the program would be allowed by Kubernetes: the read-only mount is ours to keep.
    const transformMounts = spec.containers[1].volumeMounts.filter((m: K8sObject) => m.name === 'mlops-launcher');
    expect(transformMounts).toEqual([{ name: 'mlops-launcher', mountPath: '/mlops/bin', readOnly: true }]);

    const queueUrl = await upload(scaledJob);
    const running = await runningKedaJob(namespace, name);
    const [pod] = podsOf(namespace, running.metadata.name);
    expect(pod.spec.containers.map((c: K8sObject) => c.image)).toEqual([
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/preprocess:1.0.0', '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-pandas:1.0.0',
    ]);
    await queues.consumeOne(queueUrl);
    finishPods(namespace, running.metadata.name);
    await completed(namespace, running.metadata.name);
  });

  test('an update of the transform\'s image and command reaches the ScaledJob in place', async () => {
    const sent = stack().events.length;
    await deploy(stack(), workload('2.0.0', ['python3', 'preprocess.py', '--v2']));
    expect(stack().events.slice(sent).filter((e) => e.requestType === 'Update').length).toBeGreaterThan(0);
    expect(stack().events.slice(sent).filter((e) => e.requestType === 'Delete')).toEqual([]);
    const updated = await kedaAccepts(namespace, name);
    const [runtime, transform] = containers(updated).containers;
    expect(transform.image).toMatch(/my-pandas:2\.0\.0$/);
    expect(transform.command).toEqual(['/mlops/bin/mlops-launcher', 'run', '--', 'python3', 'preprocess.py', '--v2']);
    expect(runtime.env.find((e: K8sObject) => e.name === 'TRANSFORM_COMMAND').value).toBe(JSON.stringify(['python3', 'preprocess.py', '--v2']));
    expect(admission(podOf(updated)).admitted).toBe(true);
  });
});
