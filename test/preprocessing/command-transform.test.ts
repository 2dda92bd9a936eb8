import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { appliedManifests, IMAGE_URI, objectOfKind, podSpecOf, schemaProblems, synth, Synthesized, synthWorkloads } from './helpers';
import { PodIdentityPreprocessing, PreprocessingTransform, PreprocessingTrigger, ProcessorImage } from '../../src';

const FIXTURE = path.join(__dirname, 'fixtures', 'transform');
const USER_IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-pandas:2.0.0';
const COMMAND = ['python3', 'preprocess.py', '--strict'];
const LAUNCHER_RUN = ['/mlops/bin/mlops-launcher', 'run', '--'];

const fromUri = (resources?: Record<string, string>) => PreprocessingTransform.command({
  image: ProcessorImage.fromImageUri(USER_IMAGE),
  command: COMMAND,
  environment: { PANDAS_MODE: 'strict' },
  resources,
});

/** The workload kinds of SPEC §8, each with a command transform, each in its own namespace. */
const KINDS = [
  { name: 'onDemand', kind: 'CronJob', props: { namespace: 'demand', trigger: PreprocessingTrigger.onDemand(), transform: fromUri() } },
  { name: 'schedule', kind: 'CronJob', props: { namespace: 'nightly', trigger: PreprocessingTrigger.schedule('0 2 * * *'), transform: fromUri() } },
  { name: 'onDeploy', kind: 'Job', props: { namespace: 'deploy', trigger: PreprocessingTrigger.onDeploy(), transform: fromUri() } },
  {
    name: 'onUpload',
    kind: 'ScaledJob',
    props: {
      namespace: 'upload',
      trigger: PreprocessingTrigger.onUpload({ maxParallelJobs: 2 }),
      transform: fromUri({ cpuRequest: '1', memoryRequest: '2Gi', cpuLimit: '1500m', memoryLimit: '3Gi' }),
    },
  },
] as const;

const containerNamed = (spec: Record<string, any>, name: string) => spec.containers.find((c: any) => c.name === name);
const envMap = (container: Record<string, any>): Record<string, string> => Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
const mounts = (container: Record<string, any>) =>
  Object.fromEntries(container.volumeMounts.map((m: any) => [m.name, { path: m.mountPath, readOnly: m.readOnly === true }]));

describe('PreprocessingTransform.command(): the pod of every trigger kind', () => {
  let synthesized: Synthesized;
  let directoryWorkload: PodIdentityPreprocessing;
  let walkthrough: PodIdentityPreprocessing;
  const podOf = (i: number) => {
    const workload = synthesized.workloads[i];
    return podSpecOf(objectOfKind(workload.manifests, KINDS[i].kind));
  };
  beforeAll(() => {
    synthesized = synthWorkloads(
      ...KINDS.map((k) => k.props),
      {
        namespace: 'built',
        jobName: 'from-dir',
        image: ProcessorImage.bundled(),
        transform: PreprocessingTransform.command({ image: ProcessorImage.fromDirectory(FIXTURE), command: ['python3', 'preprocess.py'] }),
      },
      { namespace: 'walk', transform: PreprocessingTransform.walkthrough() },
      { namespace: 'gitops', applyManifests: false, transform: fromUri() },
    );
    directoryWorkload = synthesized.workloads[KINDS.length];
    walkthrough = synthesized.workloads[KINDS.length + 1];
  });

  test.each(KINDS.map((k, i) => [k.name, i] as const))('%s: an init container installs the launcher from the processor image; runtime and transform containers run side by side', (_name, i) => {
    const spec = podOf(i);
    expect(spec.initContainers).toEqual([expect.objectContaining({
      name: 'install-launcher',
      image: IMAGE_URI,
      command: ['/app/launcher/mlops-launcher', 'install', '/mlops/bin/mlops-launcher'],
    })]);
    expect(spec.containers.map((c: any) => c.name)).toEqual(['runtime', 'transform']);
    expect(containerNamed(spec, 'runtime').image).toBe(IMAGE_URI);
    const transform = containerNamed(spec, 'transform');
    // The user's image unchanged: its command goes through the launcher, its entrypoint is replaced.
    expect(transform.image).toBe(USER_IMAGE);
    expect(transform.command).toEqual([...LAUNCHER_RUN, ...COMMAND]);
    expect(transform.args).toBeUndefined();
    expect(spec.restartPolicy).toBe('Never');
    expect(Object.fromEntries(spec.volumes.map((v: any) => [v.name, v.emptyDir]))).toEqual({
      'data-volume': { sizeLimit: '10Gi' },
      'tmp': { sizeLimit: '1Gi' },
      'transform-tmp': { sizeLimit: '1Gi' },
      'mlops-launcher': { medium: 'Memory', sizeLimit: '64Mi' },
      'mlops-handoff': { medium: 'Memory', sizeLimit: '16Mi' },
    });
  });

  test.each(KINDS.map((k, i) => [k.name, i] as const))('%s: the launcher is read-only for the program; handoff and scratch are shared at the same paths', (_name, i) => {
    const spec = podOf(i);
    expect(mounts(spec.initContainers[0])).toEqual({ 'mlops-launcher': { path: '/mlops/bin', readOnly: false } });
    expect(mounts(containerNamed(spec, 'transform'))).toEqual({
      'mlops-launcher': { path: '/mlops/bin', readOnly: true },
      'mlops-handoff': { path: '/mlops/handoff', readOnly: false },
      'data-volume': { path: '/opt/ml/processing/data', readOnly: false },
      'transform-tmp': { path: '/tmp', readOnly: false },
    });
    expect(mounts(containerNamed(spec, 'runtime'))).toEqual({
      'data-volume': { path: '/opt/ml/processing/data', readOnly: false },
      'tmp': { path: '/tmp', readOnly: false },
      'mlops-handoff': { path: '/mlops/handoff', readOnly: false },
    });
  });

  test.each(KINDS.map((k, i) => [k.name, i] as const))('%s: every container, the init container too, runs restricted (non-root, read-only root, no escalation, no capabilities)', (_name, i) => {
    const spec = podOf(i);
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    for (const container of [...spec.initContainers, ...spec.containers]) {
      expect({ name: container.name, securityContext: container.securityContext }).toEqual({
        name: container.name,
        securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
      });
    }
  });

  test.each(KINDS.map((k, i) => [k.name, i] as const))('%s: the runtime gets the transform and the handoff dir; the program only the handoff dir and its own variables', (name, i) => {
    const spec = podOf(i);
    const runtime = envMap(containerNamed(spec, 'runtime'));
    expect(runtime).toMatchObject({ TRANSFORM: 'command', TRANSFORM_COMMAND: JSON.stringify(COMMAND), TRANSFORM_HANDOFF_DIR: '/mlops/handoff', LOG_FORMAT: 'json', SCRATCH_DIR: '/opt/ml/processing/data' });
    expect(runtime.INPUT_BUCKET).toBeDefined();
    expect(runtime.QUEUE_URL !== undefined).toBe(name === 'onUpload');
    // The program knows nothing of S3, SQS or CloudWatch.
    expect(envMap(containerNamed(spec, 'transform'))).toEqual({ PANDAS_MODE: 'strict', MLOPS_HANDOFF_DIR: '/mlops/handoff' });
  });

  test.each(KINDS.map((k, i) => [k.name, i] as const))('%s: exit 2 of the runtime container fails the Job at once (podFailurePolicy names it)', (_name, i) => {
    const object = objectOfKind(synthesized.workloads[i].manifests, KINDS[i].kind);
    const jobSpec = object.kind === 'CronJob' ? object.spec.jobTemplate.spec : object.kind === 'ScaledJob' ? object.spec.jobTargetRef : object.spec;
    expect(jobSpec.podFailurePolicy.rules[0]).toEqual({ action: 'FailJob', onExitCodes: { containerName: 'runtime', operator: 'In', values: [2] } });
  });

  test('the program gets its own resources (by default the built-in pod\'s less the runtime\'s share); the runtime a small fixed share with a CPU limit of its own', () => {
    const resourcesOf = (i: number, name: string) => containerNamed(podOf(i), name).resources;
    expect(resourcesOf(0, 'transform')).toEqual({ requests: { cpu: '400m', memory: '896Mi' }, limits: { cpu: '1500m', memory: '3840Mi' } });
    expect(resourcesOf(3, 'transform')).toEqual({ requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1500m', memory: '3Gi' } });
    for (const i of [0, 3]) {
      expect(resourcesOf(i, 'runtime')).toEqual({ requests: { 'cpu': '100m', 'memory': '128Mi', 'ephemeral-storage': '10Gi' }, limits: { cpu: '500m', memory: '256Mi' } });
    }
    expect(podOf(0).initContainers[0].resources).toEqual({ requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } });
  });

  test('ProcessorImage.fromDirectory(): the user\'s Dockerfile becomes a linux/amd64 image asset; the pod runs it on amd64 nodes', () => {
    const spec = podSpecOf(objectOfKind(directoryWorkload.manifests, 'CronJob'));
    const assembly = (synthesized.stack.node.root as App).synth();
    const assets = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${synthesized.stack.artifactId}.assets.json`), 'utf8'));
    const images = Object.values<any>(assets.dockerImages);
    const userImage = images.filter((image) => fs.existsSync(path.join(assembly.directory, image.source.directory, 'preprocess.py')));
    expect(userImage).toHaveLength(1);
    expect(userImage[0].source.platform).toBe('linux/amd64');
    expect(fs.readFileSync(path.join(assembly.directory, userImage[0].source.directory, 'Dockerfile'), 'utf8'))
      .toBe(fs.readFileSync(path.join(FIXTURE, 'Dockerfile'), 'utf8'));
    // The transform container pulls the asset's tag from the CDK assets repository, as the bundled image is pulled.
    const transformImage = JSON.stringify(synthesized.stack.resolve(containerNamed(spec, 'transform').image));
    expect(transformImage).toContain(userImage[0].destinations[Object.keys(userImage[0].destinations)[0]].imageTag);
    expect(transformImage).toContain('container-assets');
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    expect(spec.initContainers[0].image).toBe(containerNamed(spec, 'runtime').image);
  });

  test('the bundled processor\'s image asset carries the launcher\'s sources, which its Dockerfile builds', () => {
    const assembly = (synthesized.stack.node.root as App).synth();
    const assets = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${synthesized.stack.artifactId}.assets.json`), 'utf8'));
    const processor = Object.values<any>(assets.dockerImages).filter((image) => fs.existsSync(path.join(assembly.directory, image.source.directory, 'launcher')));
    expect(processor).toHaveLength(1);
    const staged = path.join(assembly.directory, processor[0].source.directory);
    for (const file of ['go.mod', 'main.go', 'launcher.go', 'PROTOCOL.md']) {
      expect({ file, staged: fs.existsSync(path.join(staged, 'launcher', file)) }).toEqual({ file, staged: true });
    }
    expect(fs.readFileSync(path.join(staged, 'Dockerfile'), 'utf8')).toContain('COPY --from=launcher /out/mlops-launcher /app/launcher/mlops-launcher');
  });

  test('the default transform is the walkthrough\'s: one processor container, no launcher', () => {
    const spec = podSpecOf(objectOfKind(walkthrough.manifests, 'CronJob'));
    expect(spec.initContainers).toBeUndefined();
    expect(spec.containers.map((c: any) => c.name)).toEqual(['preprocessing']);
    expect(spec.volumes.map((v: any) => v.name)).toEqual(['data-volume', 'tmp']);
    expect(envMap(spec.containers[0]).TRANSFORM).toBeUndefined();
  });

  test('the rest of the workload is the same: role, NetworkPolicy, alarms, metrics, applied manifests', () => {
    const workload = synthesized.workloads[3];
    expect(workload.manifests.map((o) => o.kind)).toEqual(['Namespace', 'ResourceQuota', 'LimitRange', 'ServiceAccount', 'NetworkPolicy', 'TriggerAuthentication', 'ScaledJob']);
    expect(workload.alarms.failedRuns).toBeDefined();
    expect(workload.alarms.deadLetters).toBeDefined();
    expect(workload.queue).toBeDefined();
    expect(synthesized.stack.resolve(workload.metricSucceededRuns().dimensions)).toMatchObject({ KubernetesNamespace: 'upload', Workload: 'data-preprocessing' });
    const applied = appliedManifests(synthesized.template).flatMap((m) => m.objects).filter((o) => o.metadata?.namespace === 'upload' && o.kind === 'ScaledJob');
    expect(applied).toHaveLength(1);
    expect(podSpecOf(applied[0]).containers.map((c: any) => c.name)).toEqual(['runtime', 'transform']);
  });

  test('GitOps: manifestYaml holds the same pod, published for a GitOps tool', () => {
    const gitops = synthesized.workloads[KINDS.length + 2];
    expect(gitops.manifestParameter).toBeDefined();
    expect(gitops.manifestYaml).toContain('/mlops/bin/mlops-launcher');
    expect(gitops.manifestYaml).toContain(USER_IMAGE);
  });

  test('every object validates against the strict Kubernetes 1.36 and KEDA schemas', () => {
    expect(schemaProblems(synthesized.workloads.flatMap((w) => w.manifests))).toEqual([]);
  });
});

describe('a command transform\'s pod counts both containers against the namespace quota', () => {
  test('the runtime\'s requests are added to the program\'s', () => {
    // 4 CPUs for the program alone would fit the quota's requests.cpu 4; with the runtime's 100m it does not.
    expect(() => synth({ transform: fromUri({ cpuRequest: '4', cpuLimit: '4' }) }))
      .toThrow(/invalid 'transform\.resources \(with the runtime container\)\.cpuRequest': 4100m is more than the namespace quota's requests\.cpu 4/);
    expect(() => synth({ resources: { cpuRequest: '4', cpuLimit: '4' } })).not.toThrow();
    expect(() => synth({ transform: fromUri({ memoryRequest: '8Gi', memoryLimit: '8Gi' }) }))
      .toThrow(/invalid 'transform\.resources \(with the runtime container\)\.memoryRequest': 8320Mi is more than the namespace quota's requests\.memory 8Gi/);
  });

  test('by default a command transform\'s pod fits wherever the built-in\'s does: 4 parallel uploads fill limits.cpu 8 exactly', () => {
    expect(() => synth({ trigger: PreprocessingTrigger.onUpload({ maxParallelJobs: 4 }), transform: fromUri() })).not.toThrow();
    expect(() => synth({ trigger: PreprocessingTrigger.onUpload({ maxParallelJobs: 5 }), transform: fromUri() }))
      .toThrow(/invalid 'trigger\.maxParallelJobs': 5 parallel runs × transform\.resources \(with the runtime container\)\.cpuLimit 2000m/);
  });

  test('parallel Jobs are counted with both containers', () => {
    // 3 × 1.3 CPUs = 3.9 fit requests.cpu 4; 3 × (1.3 + 0.1) do not.
    const upload = (transform?: PreprocessingTransform) => () => synth({
      trigger: PreprocessingTrigger.onUpload({ maxParallelJobs: 3 }),
      resources: { cpuRequest: '1300m', cpuLimit: '2' },
      transform,
    });
    expect(upload()).not.toThrow();
    expect(upload(fromUri())).toThrow(/invalid 'trigger\.maxParallelJobs': 3 parallel runs × transform\.resources \(with the runtime container\)\.cpuRequest 1400m/);
  });

  test('the program\'s request must fit its own limit', () => {
    expect(() => synth({ transform: fromUri({ memoryRequest: '2Gi', memoryLimit: '1Gi' }) }))
      .toThrow(/invalid 'transform\.resources\.memoryRequest': 2Gi is more than transform\.resources\.memoryLimit 1Gi/);
  });
});

describe('invalid transforms fail at synth, naming the prop', () => {
  const image = ProcessorImage.fromImageUri(USER_IMAGE);
  test('an empty command', () => {
    expect(() => PreprocessingTransform.command({ image, command: [] })).toThrow(/PreprocessingTransform: invalid 'command': must name a program/);
    expect(() => PreprocessingTransform.command({ image, command: [' '] })).toThrow(/invalid 'command': its first element/);
  });

  test('environment names that are not names, or that are the runtime\'s', () => {
    expect(() => PreprocessingTransform.command({ image, command: ['x'], environment: { 'A-B': '1' } })).toThrow(/invalid 'environment': 'A-B' is not an environment variable name/);
    expect(() => PreprocessingTransform.command({ image, command: ['x'], environment: { MLOPS_INPUT_FILE: '/x' } })).toThrow(/invalid 'environment': 'MLOPS_INPUT_FILE': names starting with MLOPS_ are set by the runtime/);
  });

  test('a directory without a Dockerfile', () => {
    expect(() => ProcessorImage.fromDirectory(path.join(FIXTURE, 'missing'))).toThrow(/ProcessorImage: invalid 'directory': '.*missing' is not a directory/);
    expect(() => ProcessorImage.fromDirectory(__dirname)).toThrow(/ProcessorImage: invalid 'directory': '.*Dockerfile' does not exist/);
    expect(() => ProcessorImage.fromDirectory(FIXTURE, { file: 'Other.Dockerfile' })).toThrow(/ProcessorImage: invalid 'file'/);
  });

  test('a transform image for another architecture than the processor image', () => {
    const arm = PreprocessingTransform.command({ image: ProcessorImage.fromImageUri(USER_IMAGE, { platform: Platform.LINUX_ARM64 }), command: ['x'] });
    expect(() => synth({ image: ProcessorImage.fromImageUri(IMAGE_URI, { platform: Platform.LINUX_AMD64 }), transform: arm }))
      .toThrow(/PodIdentityPreprocessing: invalid 'transform': its image is built for arm64 but the processor image \(image\) for amd64/);
  });
});

