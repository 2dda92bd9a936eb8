/**
 * `npm run demo`: runs the preprocessing Job of the synthesized example app as it runs on EKS, on
 * this machine, with no AWS account:
 *
 * 1. reads the Job's container environment from cdk.out/EksClusterStack.template.json (the
 *    manifest the kubectl provider would apply), resolving bucket references to their names;
 * 2. starts an embedded S3 (s3rver) and a stand-in for the Pod Identity agent's credentials
 *    endpoint on 127.0.0.1;
 * 3. creates the raw and processed buckets and uploads a generated seed-shaped input;
 * 4. runs the processor as a child process with exactly the Job's environment, plus the local
 *    endpoint settings (S3 endpoint, credentials endpoint and token file, and a scratch directory
 *    standing in for the Job's emptyDir volume);
 * 5. prints the output keys with sizes and the quality metrics, then shuts everything down.
 *
 * Options: --rows N (default 50000), --seed N, --malformed N (rows that go to rejected_rows),
 * --keep (leave the servers up until Ctrl-C),
 * --template PATH (default cdk.out/EksClusterStack.template.json).
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { generateMockCsv } from './generate-mock-data';
import { LOCAL_S3_ACCESS_KEY_ID, LOCAL_S3_SECRET_ACCESS_KEY, startCredentialsEndpoint, startLocalS3 } from './local-aws';
import { NODE_FLAGS } from '../src/config';

const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const CLI = join(REPO_ROOT, 'processor', 'lib', 'src', 'cli.js');
/** Stands in for the stack's AWS::Region (the walkthrough's region). */
const DEMO_REGION = 'us-east-1';
const DEMO_ACCOUNT = '000000000000';

interface DemoOptions {
  readonly rows: number;
  readonly seed: number;
  readonly keep: boolean;
  readonly malformed: number;
  readonly template: string;
}

function parseArgs(argv: readonly string[]): DemoOptions {
  const options = { rows: 50_000, seed: 42, keep: false, malformed: 0, template: join(REPO_ROOT, 'cdk.out', 'EksClusterStack.template.json') };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--rows') options.rows = positiveInteger(arg, value());
    else if (arg === '--seed') options.seed = positiveInteger(arg, value());
    else if (arg === '--malformed') options.malformed = positiveInteger(arg, value());
    else if (arg === '--template') options.template = resolve(value());
    else if (arg === '--keep') options.keep = true;
    else throw new Error(`unknown option ${arg} (options: --rows N, --seed N, --malformed N, --keep, --template PATH)`);
  }
  return options;
}

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number, got '${text}'`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// The Job's environment, read from the synthesized template

type CfnValue = string | { [key: string]: any };

/** Resolves the few intrinsics the manifest uses: bucket Refs, pseudo parameters, Fn::Join, Fn::Sub. */
function resolveValue(value: CfnValue, resources: Record<string, any>): string {
  if (typeof value === 'string') return value;
  if ('Ref' in value) return resolveRef(value.Ref, resources);
  if ('Fn::Join' in value) {
    const [separator, parts] = value['Fn::Join'];
    return parts.map((part: CfnValue) => resolveValue(part, resources)).join(separator);
  }
  if ('Fn::Sub' in value) {
    const text: string = Array.isArray(value['Fn::Sub']) ? value['Fn::Sub'][0] : value['Fn::Sub'];
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => resolveRef(name, resources));
  }
  throw new Error(`cannot resolve ${JSON.stringify(value).slice(0, 120)} locally`);
}

function resolveRef(name: string, resources: Record<string, any>): string {
  if (name === 'AWS::Region') return DEMO_REGION;
  if (name === 'AWS::AccountId') return DEMO_ACCOUNT;
  if (name === 'AWS::Partition') return 'aws';
  if (name === 'AWS::URLSuffix') return 'amazonaws.com';
  const bucketName = resources[name]?.Properties?.BucketName;
  if (resources[name]?.Type === 'AWS::S3::Bucket' && typeof bucketName === 'string') return bucketName;
  return `<${name}>`;
}

interface JobSpec {
  readonly name: string;
  readonly namespace: string;
  readonly env: Record<string, string>;
}

/** The Job (or CronJob) container's environment, as the kubectl provider would apply it. */
function readJobFromTemplate(templatePath: string): JobSpec {
  let template: any;
  try {
    template = JSON.parse(readFileSync(templatePath, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${templatePath} (run 'npm run synth:example' first): ${(error as Error).message}`);
  }
  const resources: Record<string, any> = template.Resources;
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'Custom::AWSCDK-EKS-KubernetesResource') continue;
    const objects = JSON.parse(resolveValue(resource.Properties.Manifest, resources));
    const job = objects.find((o: any) => o.kind === 'Job' || o.kind === 'CronJob');
    if (!job) continue;
    const podSpec = job.kind === 'Job' ? job.spec.template.spec : job.spec.jobTemplate.spec.template.spec;
    const env = Object.fromEntries(podSpec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
    return { name: job.metadata.name, namespace: job.metadata.namespace, env };
  }
  throw new Error(`no Job manifest in ${templatePath}`);
}

// ---------------------------------------------------------------------------------------------
// Running it

function step(text: string): void {
  process.stdout.write(`\n==> ${text}\n`);
}

function environmentWithoutAwsSettings(): NodeJS.ProcessEnv {
  // The child must find its credentials the way a pod does, not from this shell's AWS settings.
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') || name.startsWith('AWS_SDK_JS_')));
}

function runProcessor(env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolveExit, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, CLI], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const started = Date.now();

  step(`Reading the Job from ${options.template.replace(REPO_ROOT + '/', '')}`);
  const job = readJobFromTemplate(options.template);
  const jobEnv = job.env;
  console.log(`Job ${job.namespace}/${job.name}, container environment:`);
  for (const [name, value] of Object.entries(jobEnv)) console.log(`  ${name}=${value}`);
  const { INPUT_BUCKET: inputBucket, INPUT_KEY: inputKey, OUTPUT_BUCKET: outputBucket } = jobEnv;
  const outputPrefix = jobEnv.OUTPUT_PREFIX ?? '';

  step('Starting an embedded S3 and a Pod Identity agent stand-in on 127.0.0.1');
  const s3Server = await startLocalS3({ buckets: [inputBucket, outputBucket] });
  const agent = await startCredentialsEndpoint();
  const scratch = mkdtempSync(join(tmpdir(), 'demo-scratch-'));
  console.log(`S3: ${s3Server.endpoint} (buckets ${inputBucket}, ${outputBucket})`);
  console.log(`credentials: ${agent.url} (token file ${agent.tokenFile})`);

  const s3 = new S3Client({
    region: DEMO_REGION,
    endpoint: s3Server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: LOCAL_S3_ACCESS_KEY_ID, secretAccessKey: LOCAL_S3_SECRET_ACCESS_KEY },
  });
  try {
    const dataFile = join(REPO_ROOT, 'data', 'mock_data.csv');
    step(`Generating ${options.rows.toLocaleString('en-US')} seed-shaped rows into data/mock_data.csv and uploading them`);
    mkdirSync(dirname(dataFile), { recursive: true });
    await generateMockCsv({ rows: options.rows, seed: options.seed, malformedRows: options.malformed, path: dataFile });
    await new Upload({ client: s3, params: { Bucket: inputBucket, Key: inputKey, Body: createReadStream(dataFile) } }).done();
    console.log(`s3://${inputBucket}/${inputKey} (${formatBytes(statSync(dataFile).size)})`);

    step('Running the processor with the Job\'s environment');
    const exitCode = await runProcessor({
      ...environmentWithoutAwsSettings(),
      ...jobEnv,
      ...agent.env(),
      AWS_ENDPOINT_URL_S3: s3Server.endpoint,
      SCRATCH_DIR: scratch,
    });
    if (exitCode !== 0) {
      console.error(`\nThe processor exited with code ${exitCode}; no run manifest means the run did not finish.`);
      return exitCode;
    }

    step(`Outputs in s3://${outputBucket}/${outputPrefix}`);
    const listing = await s3.send(new ListObjectsV2Command({ Bucket: outputBucket, Prefix: outputPrefix }));
    const objects = (listing.Contents ?? []).sort((a, b) => (a.Key! < b.Key! ? -1 : 1));
    for (const object of objects) console.log(`  ${object.Key!.padEnd(52)} ${formatBytes(object.Size ?? 0).padStart(10)}`);

    const metricsKey = objects.find((o) => o.Key!.includes('quality_metrics'))?.Key;
    if (metricsKey) {
      step('Quality metrics');
      const body = await (await s3.send(new GetObjectCommand({ Bucket: outputBucket, Key: metricsKey }))).Body!.transformToString();
      console.log(JSON.stringify(JSON.parse(body), null, 2));
    }
    console.log(`\nPod Identity stand-in served credentials ${agent.served} time(s), refused ${agent.refused}.`);
    console.log(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);

    if (options.keep) {
      console.log(`\nServers stay up (S3 ${s3Server.endpoint}, access key ${LOCAL_S3_ACCESS_KEY_ID}); press Ctrl-C to stop.`);
      await new Promise<void>((stop) => process.once('SIGINT', () => stop()));
    }
    return 0;
  } finally {
    s3.destroy();
    await agent.close();
    await s3Server.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`demo: ${(error as Error).message}`);
    process.exit(1);
  },
);
