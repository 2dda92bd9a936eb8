import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUCKETS, PROCESSED_BUCKET, RAW_BUCKET, batchTemplate, scaledJobTemplate } from './templates';
import {
  LocalValues, StackTemplate, findQueueNotifications, findQueues, findWorkload, singleRunEnvironment,
} from '../../processor/tools/workload-template';

const ROOT = join(__dirname, '..', '..');
const LOCAL: LocalValues = { region: 'us-east-1', account: '000000000000' };

describe('reading the workload from the synthesized template', () => {
  test.each(['Job', 'CronJob'] as const)('a batch/v1 %s: its pod template\'s container environment, references resolved', (kind) => {
    const workload = findWorkload(batchTemplate(kind), LOCAL);
    expect(workload).toEqual({
      kind,
      name: 'data-preprocessing',
      namespace: 'mlops',
      env: {
        INPUT_BUCKET: RAW_BUCKET,
        INPUT_KEY: 'data/mock_data.csv',
        OUTPUT_BUCKET: PROCESSED_BUCKET,
        OUTPUT_PREFIX: 'output/',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        LOG_LEVEL: 'INFO',
        SCRATCH_DIR: '/opt/ml/processing/data',
      },
    });
    expect(singleRunEnvironment(workload)).toEqual(workload.env);
  });

  test('a KEDA ScaledJob: the pod template at spec.jobTargetRef.template, maxReplicaCount and its aws-sqs-queue trigger', () => {
    const queueUrl = 'http://sqs.us-east-1.localhost:4566/000000000000/UploadQueue';
    const workload = findWorkload(scaledJobTemplate(), { ...LOCAL, refs: { UploadQueue: queueUrl } });
    expect(workload).toMatchObject({ kind: 'ScaledJob', name: 'data-preprocessing', namespace: 'mlops', maxReplicaCount: 2, queueTrigger: { queueUrl, queueLength: 1 } });
    expect(workload.env).toMatchObject({ QUEUE_URL: queueUrl, INPUT_BUCKET: RAW_BUCKET, INPUT_PREFIX: 'data/', OUTPUT_BUCKET: PROCESSED_BUCKET });
    expect(workload.env.INPUT_KEY).toBeUndefined();
  });

  test('one run of a ScaledJob (the default demo) reads <INPUT_PREFIX>mock_data.csv without the queue', () => {
    const env = singleRunEnvironment(findWorkload(scaledJobTemplate(), LOCAL));
    expect(env.QUEUE_URL).toBeUndefined();
    expect(env).toMatchObject({ INPUT_BUCKET: RAW_BUCKET, INPUT_KEY: 'data/mock_data.csv', OUTPUT_PREFIX: 'output/' });
  });

  test('the queues, dead-letter queues first, and the input bucket\'s notification', () => {
    const template = scaledJobTemplate();
    expect(findQueues(template, LOCAL)).toEqual([
      { logicalId: 'UploadQueueDeadLetterQueue', name: 'UploadQueueDeadLetterQueue' },
      { logicalId: 'UploadQueue', name: 'UploadQueue', visibilityTimeoutSeconds: 7200, deadLetter: { logicalId: 'UploadQueueDeadLetterQueue', maxReceiveCount: 3 } },
    ]);
    expect(findQueueNotifications(template, LOCAL)).toEqual([
      { bucket: RAW_BUCKET, queueLogicalId: 'UploadQueue', events: ['s3:ObjectCreated:*'], prefix: 'data/', suffix: '.csv' },
    ]);
  });

  test('a template without any workload is an error naming the template', () => {
    const template: StackTemplate = { path: 'empty.json', resources: { ...BUCKETS } };
    expect(() => findWorkload(template, LOCAL)).toThrow('no Job, CronJob or ScaledJob manifest in empty.json');
  });
});

describe('npm run demo -- --trigger upload', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'demo-template-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('uploads put messages on the queue; one Job per message; outputs per file, an error report for the bad one, queues empty', async () => {
    const templatePath = join(dir, 'EksClusterStack.template.json');
    writeFileSync(templatePath, JSON.stringify({ Resources: scaledJobTemplate().resources }));
    const { code, stdout } = await runDemo(['--trigger', 'upload', '--template', templatePath, '--rows', '300']);
    expect({ code, tail: stdout.slice(-3000) }).toMatchObject({ code: 0 });

    expect(stdout).toContain('S3 test event from bucket eks-demo-raw-data-bucket: the notification works; nothing to process');
    expect(stdout).toMatch(/^5 messages on the queue/m);
    const started = stdout.match(/starting Job data-preprocessing-\w{5}$/gm) ?? [];
    expect(started.length).toBeGreaterThanOrEqual(5);
    // maxReplicaCount 2: never a third Job while two run.
    expect(stdout).not.toMatch(/[2-9]\d* Job\(s\) running: starting Job/);
    expect(stdout).toContain('data/hr 2026.csv → output/hr 2026/');
    expect(stdout).toContain('data/finance/q1.csv → output/finance/q1/');
    expect(stdout).toContain('data/broken.csv → output/broken/');
    expect(stdout).toContain('data/notes.txt → (nothing: no event for this key)');
    expect(stdout).toMatch(/^ {4}manifest_\d{8}-\d{6}-[0-9a-f]{8}\.json/m);
    expect(stdout).toMatch(/^ {4}error_\d{8}-\d{6}-[0-9a-f]{8}\.json/m);
    expect(stdout).toMatch(/"reason": ".*salary/);
    expect(stdout.match(/Failed \(exit 2: bad input/g)?.length).toBe(2); // as the Job ends, and in the summary
    expect(stdout).toContain('queue UploadQueue: 0 visible, 0 in flight');
    expect(stdout).toContain('dead-letter queue UploadQueueDeadLetterQueue: 0 visible, 0 in flight');
  }, 180_000);
});

let demo: ChildProcess | undefined;
afterAll(() => demo?.kill('SIGINT'));

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = demo = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join('processor', 'tools', 'demo.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}
