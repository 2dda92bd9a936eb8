/**
 * `npm run demo`: runs the preprocessing workload of the synthesized example app as it runs on
 * EKS, on this machine, with no AWS account:
 *
 * 1. reads the workload's container environment from cdk.out/EksClusterStack.template.json (the
 *    manifests the kubectl provider would apply: a Job, a CronJob or a KEDA ScaledJob), resolving
 *    bucket references to their names;
 * 2. starts an embedded S3 (s3rver) and a stand-in for the Pod Identity agent's credentials
 *    endpoint on 127.0.0.1;
 * 3. creates the raw and processed buckets and uploads a generated seed-shaped input;
 * 4. runs the processor as a child process with exactly the workload's environment, plus the
 *    local endpoint settings (S3 endpoint, credentials endpoint and token file, and a scratch
 *    directory standing in for the Job's emptyDir volume). A ScaledJob's container runs once on
 *    `<INPUT_PREFIX>mock_data.csv` without its queue;
 * 5. prints the output keys with sizes, the quality metrics and the run manifest's lineage (the
 *    input's bucket, key, version id, ETag and size), then shuts everything down.
 *
 * `npm run demo -- --trigger upload` shows the onUpload trigger's flow instead (the workload must
 * be its ScaledJob): the template's queue and dead-letter queue on a local SQS server (fauxqs), the
 * input bucket's notification (uploads put S3 event messages on the queue, after S3's test
 * event), several uploads, one of them bad, and a stand-in for KEDA that starts the processor
 * once per message with the ScaledJob's environment, at most maxReplicaCount at once. It prints
 * each Job's exit code, the outputs per upload with each manifest's lineage, the bad file's error
 * report, and the queues, which end empty.
 *
 * Options: --trigger upload, --rows N (default 50000; 5000 per file with --trigger upload),
 * --seed N, --malformed N (rows that go to rejected_rows), --keep (leave the servers up until
 * Ctrl-C), --template PATH (default cdk.out/EksClusterStack.template.json), --transform SCRIPT (a
 * Python script run as a command transform, e.g. examples/transforms/preprocess.py: the same flow
 * with the user's program; it needs python3 with pandas and says what to install when they are missing),
 * --output-format parquet|both (the run's OUTPUT_FORMAT, SPEC §15: the demo then prints the Parquet
 * tables' folders and, when python3 can import duckdb or pyarrow, a three-line query over them; the
 * demo itself needs only Node).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
// lib-storage is a devDependency of the repository root; processor/tools is not part of the image.
// eslint-disable-next-line import/no-extraneous-dependencies
import { Upload } from '@aws-sdk/lib-storage';
import { generateMockCsv } from './generate-mock-data';
import {
  CredentialsEndpoint, LOCAL_S3_ACCESS_KEY_ID, LocalQueue, LocalS3, LocalSqs,
  localS3Client, startCredentialsEndpoint, startLocalS3, startLocalSqs,
} from './local-aws';
import { REPO_ROOT } from './paths';
import {
  LocalValues, StackTemplate, Workload, findQueueNotifications, findQueues, findWorkload, readTemplate, singleRunEnvironment,
} from './workload-template';
import { NODE_FLAGS } from '../src/runtime/config';

/** Compiled into processor/lib/tools by `npm run demo`; run from processor/tools by the tests. */
const FROM_SOURCE = __filename.endsWith('.ts');
/** The processor as the image runs it: compiled, or from source when the demo itself runs from source. */
const PROCESSOR_COMMAND = FROM_SOURCE
  ? ['-r', 'ts-node/register/transpile-only', join(REPO_ROOT, 'processor', 'src', 'runtime', 'cli.ts')]
  : [join(REPO_ROOT, 'processor', 'lib', 'src', 'runtime', 'cli.js')];
/** Stands in for the stack's AWS::Region (the walkthrough's region) and account. */
const LOCAL: LocalValues = { region: 'us-east-1', account: '000000000000' };
/** How often the KEDA stand-in reads the queue length (KEDA's pollingInterval is 30 s by default). */
const POLL_INTERVAL_MS = 500;
/** The upload flow gives up after this long. */
const UPLOAD_FLOW_DEADLINE_MS = 5 * 60_000;

interface DemoOptions {
  readonly trigger: 'once' | 'upload';
  readonly rows?: number;
  readonly seed: number;
  readonly keep: boolean;
  readonly malformed: number;
  readonly template: string;
  /** --transform <script>: a Python program run as a command transform (SPEC §14) instead of the built-in one. */
  readonly transform?: string;
  /** The run's OUTPUT_FORMAT instead of the workload's. */
  readonly outputFormat?: 'parquet' | 'both';
}

function parseArgs(argv: readonly string[]): DemoOptions {
  const options: { -readonly [K in keyof DemoOptions]: DemoOptions[K] } = {
    trigger: 'once',
    seed: 42,
    keep: false,
    malformed: 0,
    template: join(REPO_ROOT, 'cdk.out', 'EksClusterStack.template.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--rows') {
      options.rows = positiveInteger(arg, value());
    } else if (arg === '--seed') {
      options.seed = positiveInteger(arg, value());
    } else if (arg === '--malformed') {
      options.malformed = positiveInteger(arg, value());
    } else if (arg === '--template') {
      options.template = resolve(value());
    } else if (arg === '--transform') {
      options.transform = resolve(value());
    } else if (arg === '--keep') {
      options.keep = true;
    } else if (arg === '--output-format') {
      const format = value();
      if (format !== 'parquet' && format !== 'both') throw new Error(`--output-format takes parquet or both (got '${format}'); without it the workload's format`);
      options.outputFormat = format;
    } else if (arg === '--trigger') {
      const trigger = value();
      if (trigger !== 'upload') throw new Error(`--trigger takes 'upload' (got '${trigger}'); without it the workload runs once`);
      options.trigger = trigger;
    } else {
      throw new Error(`unknown option ${arg} (options: --trigger upload, --transform SCRIPT, --rows N, --seed N, --malformed N, --keep, --template PATH, --output-format parquet|both)`);
    }
  }
  return options;
}

function positiveInteger(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number, got '${text}'`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

function step(text: string): void {
  process.stdout.write(`\n==> ${text}\n`);
}

/**
 * The workload logs JSON lines for CloudWatch (LOG_FORMAT=json); on a terminal the demo shows
 * the same lines as text.
 */
const READABLE_LOGS = { LOG_FORMAT: 'text' } as const;

function environmentWithoutAwsSettings(): NodeJS.ProcessEnv {
  // The child must find its credentials the way a pod does, not from this shell's AWS settings.
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') || name.startsWith('AWS_SDK_JS_')));
}

/** Runs the processor; its log lines go to this process's output, each prefixed when `label` is given. */
function runProcessor(env: NodeJS.ProcessEnv, label?: string): Promise<number> {
  return new Promise((resolveExit, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, ...PROCESSOR_COMMAND], { env, stdio: ['ignore', label ? 'pipe' : 'inherit', label ? 'pipe' : 'inherit'] });
    if (label) {
      for (const stream of [child.stdout!, child.stderr!]) prefixLines(stream, `[${label}] `);
    }
    child.on('error', reject);
    child.on('exit', (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
  });
}

/** Copies lines to stdout with a prefix, without the log's own timestamp (the prefix says whose line it is). */
function prefixLines(stream: NodeJS.ReadableStream, prefix: string): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) process.stdout.write(`${prefix}${line.replace(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z /, '')}\n`);
  });
  stream.on('end', () => {
    if (pending) process.stdout.write(`${prefix}${pending}\n`);
  });
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function printEnvironment(workload: Workload, env: Record<string, string>): void {
  console.log(`${workload.kind} ${workload.namespace}/${workload.name}, container environment:`);
  for (const [name, value] of Object.entries(env)) console.log(`  ${name}=${value}`);
}

async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<Array<{ key: string; size: number }>> {
  const listing = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listing.Contents ?? []).map((o) => ({ key: o.Key!, size: o.Size ?? 0 })).sort((a, b) => (a.key < b.key ? -1 : 1));
}

async function readText(s3: S3Client, bucket: string, key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
}

async function keepServersUp(keep: boolean, s3Endpoint: string): Promise<void> {
  if (!keep) return;
  console.log(`\nServers stay up (S3 ${s3Endpoint}, access key ${LOCAL_S3_ACCESS_KEY_ID}); press Ctrl-C to stop.`);
  await new Promise<void>((stop) => process.once('SIGINT', () => stop()));
}

// ---------------------------------------------------------------------------------------------
// One run (the default)

async function runOnce(options: DemoOptions, template: StackTemplate, started: number): Promise<number> {
  step(`Reading the workload from ${options.template.replace(REPO_ROOT + '/', '')}`);
  const workload = findWorkload(template, LOCAL);
  const jobEnv: Record<string, string> = singleRunEnvironment(workload);
  if (options.outputFormat) jobEnv.OUTPUT_FORMAT = options.outputFormat;
  printEnvironment(workload, jobEnv);
  if (workload.kind === 'ScaledJob') {
    console.log(`The workload is a KEDA ScaledJob (one Job per upload). This run starts its container once on ${jobEnv.INPUT_KEY}, `
      + 'without the queue (QUEUE_URL left out, INPUT_KEY set); `npm run demo -- --trigger upload` shows the per-upload flow.');
  }
  const { INPUT_BUCKET: inputBucket, INPUT_KEY: inputKey, OUTPUT_BUCKET: outputBucket } = jobEnv;
  const outputPrefix = jobEnv.OUTPUT_PREFIX ?? '';

  step('Starting an embedded S3 and a Pod Identity agent stand-in on 127.0.0.1');
  const s3Server = await startLocalS3({ buckets: [inputBucket, outputBucket] });
  const agent = await startCredentialsEndpoint();
  const scratch = mkdtempSync(join(tmpdir(), 'demo-scratch-'));
  console.log(`S3: ${s3Server.endpoint} (buckets ${inputBucket}, ${outputBucket})`);
  console.log(`credentials: ${agent.url} (token file ${agent.tokenFile})`);

  const s3 = localS3Client(s3Server.endpoint);
  try {
    const dataFile = join(REPO_ROOT, 'data', 'mock_data.csv');
    const rows = options.rows ?? 50_000;
    step(`Generating ${rows.toLocaleString('en-US')} seed-shaped rows into data/mock_data.csv and uploading them`);
    mkdirSync(dirname(dataFile), { recursive: true });
    await generateMockCsv({ rows, seed: options.seed, malformedRows: options.malformed, path: dataFile });
    await new Upload({ client: s3, params: { Bucket: inputBucket, Key: inputKey, Body: createReadStream(dataFile) } }).done();
    console.log(`s3://${inputBucket}/${inputKey} (${formatBytes(statSync(dataFile).size)})`);

    step(`Running the processor with the ${workload.kind}'s environment`);
    const exitCode = await runProcessor({
      ...environmentWithoutAwsSettings(),
      ...jobEnv,
      ...agent.env(),
      ...READABLE_LOGS,
      ...transformEnvironment(options),
      AWS_ENDPOINT_URL_S3: s3Server.endpoint,
      SCRATCH_DIR: scratch,
      // No CloudWatch here: the run logs the metrics it would publish instead of sending them.
      METRICS_DESTINATION: 'log',
    });
    if (exitCode !== 0) {
      console.error(`\nThe processor exited with code ${exitCode}; no run manifest means the run did not finish.`);
      return exitCode;
    }

    step(`Outputs in s3://${outputBucket}/${outputPrefix}`);
    const objects = await listObjects(s3, outputBucket, outputPrefix);
    for (const object of objects) console.log(`  ${object.key.padEnd(52)} ${formatBytes(object.size).padStart(10)}`);

    const metricsKey = objects.find((o) => o.key.includes('quality_metrics'))?.key;
    if (metricsKey) {
      step('Quality metrics');
      console.log(JSON.stringify(JSON.parse(await readText(s3, outputBucket, metricsKey)), null, 2));
    }
    const manifestKey = objects.find((o) => o.key.includes('manifest_'))?.key;
    if (manifestKey) {
      step('Lineage: the exact input the run read (the manifest\'s source)');
      console.log(JSON.stringify(await lineageOf(s3, outputBucket, manifestKey), null, 2));
    }
    const tableKeys = objects.filter((o) => o.key.startsWith(`${outputPrefix}tables/`) && o.key.endsWith('.parquet')).map((o) => o.key);
    if (tableKeys.length > 0) await showTables(s3, outputBucket, outputPrefix, tableKeys, scratch);
    console.log(`\nPod Identity stand-in served credentials ${agent.served} time(s), refused ${agent.refused}.`);
    console.log(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    await keepServersUp(options.keep, s3Server.endpoint);
    return 0;
  } finally {
    s3.destroy();
    await agent.close();
    await s3Server.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Parquet tables (--output-format parquet|both)
// ---------------------------------------------------------------------------------------------

/** The three-line query the demo runs over transformed_data (in Athena, FROM names the Glue table instead). */
function tablesQuery(tablesDir: string): string {
  return [
    'SELECT run_date, department, count(*) AS employees, round(avg(salary), 2) AS average_salary',
    `FROM read_parquet('${tablesDir}/transformed_data/*/*.parquet', hive_partitioning = true)`,
    'GROUP BY run_date, department ORDER BY run_date, department',
  ].join('\n');
}

/** Which of the two readers python3 can import (neither when there is no python3). */
function pythonReaders(): { duckdb: boolean; pyarrow: boolean } {
  const can = (module: string): boolean => spawnSync('python3', ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
  return { duckdb: can('duckdb'), pyarrow: can('pyarrow') };
}

/**
 * Prints the tables' folders (Hive-style: tables/<name>/run_date=<date>/), copies the files to
 * the scratch directory and queries them with DuckDB or pyarrow when python3 has one.
 */
async function showTables(s3: S3Client, bucket: string, prefix: string, keys: readonly string[], scratch: string): Promise<void> {
  step(`Parquet tables in s3://${bucket}/${prefix}tables/`);
  for (const folder of [...new Set(keys.map((k) => k.slice(0, k.lastIndexOf('/') + 1)))]) console.log(`  ${folder}`);
  const tablesDir = join(scratch, 'tables');
  for (const key of keys) {
    const path = join(tablesDir, key.slice(`${prefix}tables/`.length));
    mkdirSync(dirname(path), { recursive: true });
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    writeFileSync(path, await object.Body!.transformToByteArray());
  }
  const query = tablesQuery(tablesDir);
  const readers = pythonReaders();
  if (readers.duckdb) {
    step('A query over the tables (DuckDB, copied from the embedded S3 to the scratch directory)');
    console.log(query);
    const result = spawnSync('python3', ['-c', 'import duckdb, sys; duckdb.sql(sys.argv[1]).show()', query], { encoding: 'utf8' });
    process.stdout.write(result.stdout || result.stderr);
  } else if (readers.pyarrow) {
    step('A query over the tables (pyarrow, copied from the embedded S3 to the scratch directory)');
    const script = [
      'import sys, pyarrow.dataset as ds',
      'table = ds.dataset(sys.argv[1], format="parquet", partitioning="hive").to_table()',
      'print(table.group_by(["run_date", "department"]).aggregate([("id", "count"), ("salary", "mean")]).sort_by([("run_date", "ascending"), ("department", "ascending")]))',
    ].join('\n');
    console.log(`rows per run_date and department, mean salary, of ${tablesDir}/transformed_data`);
    const result = spawnSync('python3', ['-c', script, join(tablesDir, 'transformed_data')], { encoding: 'utf8' });
    process.stdout.write(result.stdout || result.stderr);
  } else {
    console.log('To query them, install DuckDB (pip install duckdb) or pyarrow (pip install pyarrow); with DuckDB:');
    console.log(query);
  }
}

// ---------------------------------------------------------------------------------------------
// The per-upload flow (--trigger upload)

/** What the demo uploads, relative to the input prefix. */
const UPLOADS: ReadonlyArray<{ readonly name: string; readonly content: 'mock' | 'missing-column' | 'text'; readonly seed?: number }> = [
  { name: 'hr 2026.csv', content: 'mock', seed: 1 },
  { name: 'finance/q1.csv', content: 'mock', seed: 2 },
  { name: 'sales.csv', content: 'mock', seed: 3 },
  { name: 'broken.csv', content: 'missing-column' },
  { name: 'notes.txt', content: 'text' },
];

interface UploadFlow {
  readonly s3Server: LocalS3;
  readonly sqsServer: LocalSqs;
  readonly agent: CredentialsEndpoint;
  readonly s3: S3Client;
  readonly files: string;
}

interface JobRun {
  readonly name: string;
  readonly exitCode: number;
}

async function runUploadFlow(options: DemoOptions, template: StackTemplate, started: number): Promise<number> {
  step(`Reading the ScaledJob, its queues and the bucket notification from ${options.template.replace(REPO_ROOT + '/', '')}`);
  const declared = findWorkload(template, LOCAL);
  if (declared.kind !== 'ScaledJob' || declared.env.QUEUE_URL === undefined) {
    throw new Error(`the workload in ${options.template} is a ${declared.kind} without a queue; --trigger upload needs the onUpload trigger's ScaledJob`);
  }
  console.log(`ScaledJob ${declared.namespace}/${declared.name}: at most ${declared.maxReplicaCount} Jobs at once, `
    + `one per ${declared.queueTrigger?.queueLength ?? 5} message(s) on the queue`);
  const queues = findQueues(template, LOCAL);
  for (const q of queues) {
    const redrive = q.deadLetter ? `, to ${q.deadLetter.logicalId} after ${q.deadLetter.maxReceiveCount} receives` : '';
    console.log(`AWS::SQS::Queue ${q.logicalId}${q.visibilityTimeoutSeconds === undefined ? '' : ` (visibility timeout ${q.visibilityTimeoutSeconds} s${redrive})`}`);
  }

  step('Starting an embedded S3, a local SQS server and a Pod Identity agent stand-in on 127.0.0.1');
  const [s3Server, sqsServer, agent] = await Promise.all([
    startLocalS3({ buckets: [declared.env.INPUT_BUCKET, declared.env.OUTPUT_BUCKET] }),
    startLocalSqs({ region: LOCAL.region }),
    startCredentialsEndpoint(),
  ]);
  const flow: UploadFlow = { s3Server, sqsServer, agent, s3: localS3Client(s3Server.endpoint), files: mkdtempSync(join(tmpdir(), 'demo-uploads-')) };
  try {
    console.log(`S3: ${s3Server.endpoint} (buckets ${declared.env.INPUT_BUCKET}, ${declared.env.OUTPUT_BUCKET})`);
    console.log(`SQS: ${sqsServer.endpoint}`);
    console.log(`credentials: ${agent.url}`);
    // The queues as the template declares them, dead-letter queues first; references to them
    // then resolve to the local URLs and ARNs.
    const local: Record<string, LocalQueue> = {};
    for (const queue of queues) {
      const deadLetter = queue.deadLetter
        ? { arn: local[queue.deadLetter.logicalId].arn, maxReceiveCount: queue.deadLetter.maxReceiveCount }
        : undefined;
      local[queue.logicalId] = await sqsServer.createQueue(queue.name, { visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds, deadLetter });
      console.log(`  ${queue.logicalId}: ${local[queue.logicalId].url}`);
    }
    const values: LocalValues = {
      ...LOCAL,
      refs: Object.fromEntries(Object.entries(local).map(([id, q]) => [id, q.url])),
      attributes: Object.fromEntries(Object.entries(local).map(([id, q]) => [`${id}.Arn`, q.arn])),
    };
    const workload = findWorkload(template, values);
    const env = workload.env;
    const queueId = Object.keys(local).find((id) => local[id].url === (workload.queueTrigger?.queueUrl ?? env.QUEUE_URL));
    if (queueId === undefined) throw new Error(`the ScaledJob's queue ${env.QUEUE_URL} is not an AWS::SQS::Queue of the template`);
    const queue = local[queueId];
    const deadLetterId = queues.find((q) => q.logicalId === queueId)?.deadLetter?.logicalId;
    const dlq = deadLetterId === undefined ? undefined : local[deadLetterId];

    const declaredNotifications = findQueueNotifications(template, values).filter((n) => n.queueLogicalId === queueId);
    const notifications = declaredNotifications.length > 0
      ? declaredNotifications
      : [{ bucket: env.INPUT_BUCKET, queueLogicalId: queueId, events: ['s3:ObjectCreated:*'], prefix: env.INPUT_PREFIX, suffix: undefined }];
    if (declaredNotifications.length === 0) console.log(`The template has no bucket notification for ${queueId}; using INPUT_BUCKET and INPUT_PREFIX.`);
    for (const n of notifications) {
      console.log(`Notification s3://${n.bucket}/${n.prefix ?? ''}*${n.suffix ?? ''} (${n.events.join(', ')}) → ${queueId}; S3 sends its test event`);
      await s3Server.notifyQueue({
        bucket: n.bucket, queueUrl: queue.url, sqs: sqsServer.client, prefix: n.prefix, suffix: n.suffix, region: LOCAL.region,
      });
    }
    console.log();
    printEnvironment(workload, env);

    const prefix = notifications[0].prefix ?? env.INPUT_PREFIX ?? '';
    const rows = options.rows ?? 5_000;
    step(`Uploading ${UPLOADS.length} files to s3://${env.INPUT_BUCKET}/${prefix}`);
    for (const upload of UPLOADS) {
      const key = `${prefix}${upload.name}`;
      const path = join(flow.files, upload.name.replace(/\//g, '_'));
      await writeUploadFile(path, upload.content, rows, upload.seed ?? options.seed, options.malformed);
      await new Upload({ client: flow.s3, params: { Bucket: env.INPUT_BUCKET, Key: key, Body: createReadStream(path) } }).done();
      console.log(`  ${key.padEnd(28)} ${formatBytes(statSync(path).size).padStart(10)}  ${describeContent(upload.content)}`);
    }
    await s3Server.notificationsSent();
    const counts = await sqsServer.counts(queue.url);
    console.log(`${counts.visible} messages on the queue: S3's test event, and one per upload that the notification's filter matched`);

    step(`KEDA stand-in: starting ${workload.name} Jobs while the queue has messages`);
    const jobs = await scaleJobs(flow, workload, queue, (name) => runProcessor({
      ...environmentWithoutAwsSettings(),
      ...env,
      ...agent.env(),
      ...READABLE_LOGS,
      ...transformEnvironment(options),
      AWS_ENDPOINT_URL_S3: s3Server.endpoint,
      AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
      SCRATCH_DIR: mkdtempSync(join(flow.files, `${name}-scratch-`)),
      METRICS_DESTINATION: 'log',
    }, name));

    return await report(flow, env, queue, dlq, jobs, prefix, started, options.keep);
  } finally {
    flow.s3.destroy();
    await agent.close();
    await sqsServer.close();
    await s3Server.close();
    rmSync(flow.files, { recursive: true, force: true });
  }
}

async function writeUploadFile(path: string, content: 'mock' | 'missing-column' | 'text', rows: number, seed: number, malformed: number): Promise<void> {
  if (content === 'mock') {
    await generateMockCsv({ rows, seed, malformedRows: malformed, path });
  } else if (content === 'missing-column') {
    // The walkthrough's header without salary: bad input, exit code 2.
    writeFileSync(path, 'id,name,age,hire_date,profile,department,bonus\n1,Name_1,34.0,2019-03-02,,IT,100.0\n');
  } else {
    writeFileSync(path, 'Uploaded next to the data; the notification\'s suffix filter keeps it off the queue.\n');
  }
}

function describeContent(content: 'mock' | 'missing-column' | 'text'): string {
  if (content === 'mock') return 'seed-shaped rows';
  if (content === 'missing-column') return 'no salary column';
  return 'not a CSV';
}

/**
 * Starts Jobs as KEDA's ScaledJob controller does with its default scaling strategy: every poll,
 * queue length = visible + in-flight messages, wanted Jobs = min(ceil(length / queueLength),
 * maxReplicaCount), and it starts wanted minus running. Ends when the queue is empty and no Job
 * runs, or when a Job fails other than with bad input: its message would come back only after
 * the queue's visibility timeout, which the demo does not wait for.
 */
async function scaleJobs(flow: UploadFlow, workload: Workload, queue: LocalQueue, start: (name: string) => Promise<number>): Promise<JobRun[]> {
  const perJob = workload.queueTrigger?.queueLength ?? 5;
  const max = workload.maxReplicaCount ?? 100;
  const running = new Set<string>();
  const finished: JobRun[] = [];
  const deadline = Date.now() + UPLOAD_FLOW_DEADLINE_MS;
  while (Date.now() < deadline) {
    const { visible, inFlight } = await flow.sqsServer.counts(queue.url);
    if (visible + inFlight === 0 && running.size === 0) return finished;
    const failed = finished.find((job) => job.exitCode !== 0 && job.exitCode !== 2);
    if (failed !== undefined) {
      while (running.size > 0) await sleep(POLL_INTERVAL_MS);
      return finished;
    }
    const wanted = Math.min(Math.ceil((visible + inFlight) / perJob), max);
    for (let n = running.size; n < wanted; n++) {
      const name = `${workload.name}-${randomBytes(3).toString('hex').slice(0, 5)}`;
      console.log(`[keda] queue length ${visible + inFlight} (${visible} visible, ${inFlight} in flight), ${running.size} Job(s) running: starting Job ${name}`);
      running.add(name);
      void start(name).then((exitCode) => {
        running.delete(name);
        finished.push({ name, exitCode });
        console.log(`[keda] Job ${name} ${jobStatus(exitCode)}`);
      }, (error) => {
        running.delete(name);
        finished.push({ name, exitCode: -1 });
        console.log(`[keda] Job ${name} could not start: ${(error as Error).message}`);
      });
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`the queue still had messages or Jobs after ${UPLOAD_FLOW_DEADLINE_MS / 1000} s`);
}

function jobStatus(exitCode: number): string {
  if (exitCode === 0) return 'Complete (exit 0)';
  if (exitCode === 2) return 'Failed (exit 2: bad input; podFailurePolicy fails the Job without a retry)';
  return `Failed (exit ${exitCode}; the Job's backoffLimit allows retries, the message returns after its visibility timeout)`;
}

async function report(
  flow: UploadFlow,
  env: Readonly<Record<string, string>>,
  queue: LocalQueue,
  dlq: LocalQueue | undefined,
  jobs: readonly JobRun[],
  inputPrefix: string,
  started: number,
  keep: boolean,
): Promise<number> {
  const outputBucket = env.OUTPUT_BUCKET;
  const outputPrefix = env.OUTPUT_PREFIX ?? '';
  step(`Outputs per upload in s3://${outputBucket}/${outputPrefix}`);
  const objects = await listObjects(flow.s3, outputBucket, outputPrefix);
  const problems: string[] = [];
  let errorReport: string | undefined;
  for (const upload of UPLOADS) {
    const folder = `${outputPrefix}${upload.name.replace(/\.[^./]*$/, '')}/`;
    const inFolder = objects.filter((o) => o.key.startsWith(folder) && !o.key.slice(folder.length).includes('/'));
    console.log(`${inputPrefix}${upload.name} → ${inFolder.length > 0 ? folder : '(nothing: no event for this key)'}`);
    for (const object of inFolder) console.log(`    ${object.key.slice(folder.length).padEnd(52)} ${formatBytes(object.size).padStart(10)}`);
    const manifestObject = inFolder.find((o) => o.key.slice(folder.length).startsWith('manifest_'));
    const manifest = manifestObject !== undefined;
    if (manifestObject) console.log(`    lineage: ${JSON.stringify(await lineageOf(flow.s3, outputBucket, manifestObject.key))}`);
    const error = inFolder.find((o) => o.key.slice(folder.length).startsWith('error_'));
    if (error) errorReport = error.key;
    if (upload.content === 'mock' && !manifest) problems.push(`${upload.name} has no run manifest`);
    if (upload.content === 'missing-column' && !error) problems.push(`${upload.name} has no error report`);
    if (upload.content === 'text' && inFolder.length > 0) problems.push(`${upload.name} was processed although the filter excludes it`);
  }
  if (errorReport) {
    step(`Error report of the bad upload: ${errorReport}`);
    console.log((await readText(flow.s3, outputBucket, errorReport)).trimEnd());
  }

  step('Jobs and queues');
  for (const job of jobs) console.log(`  ${job.name.padEnd(32)} ${jobStatus(job.exitCode)}`);
  for (const q of [queue, ...(dlq ? [dlq] : [])]) {
    const counts = await flow.sqsServer.counts(q.url);
    console.log(`  ${q === queue ? 'queue' : 'dead-letter queue'} ${q.name}: ${counts.visible} visible, ${counts.inFlight} in flight`);
    if (counts.visible + counts.inFlight > 0) problems.push(`${q.name} is not empty`);
  }
  console.log(`\nPod Identity stand-in served credentials ${flow.agent.served} time(s), refused ${flow.agent.refused}.`);
  console.log(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  if (problems.length > 0) {
    console.error(`\nThe upload flow did not end as expected: ${problems.join('; ')}`);
    return 1;
  }
  await keepServersUp(keep, flow.s3Server.endpoint);
  return 0;
}

/** The `source` of a run manifest: bucket, key, version id, ETag and size of the input read. */
async function lineageOf(s3: S3Client, bucket: string, manifestKey: string): Promise<unknown> {
  return (JSON.parse(await readText(s3, bucket, manifestKey)) as { source?: unknown }).source;
}

/**
 * With --transform: the environment that makes the runtime run the script as a command transform,
 * as the construct's command transform sets it (without the launcher: the runtime spawns it).
 */
function transformEnvironment(options: DemoOptions): NodeJS.ProcessEnv {
  if (options.transform === undefined) return {};
  return { TRANSFORM: 'command', TRANSFORM_COMMAND: JSON.stringify(['python3', options.transform]) };
}

/** Whether python3 with pandas is here; if not, says what to install. */
function pandasAvailable(): boolean {
  const probe = spawnSync('python3', ['-c', 'import pandas'], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  console.error([
    `demo: --transform runs the script with python3 and pandas, and ${probe.error ? 'python3 was not found' : 'pandas is not importable'} here. Install them, e.g.`,
    '  on Debian/Ubuntu: sudo apt-get install python3 python3-pandas',
    '  or in a virtualenv: python3 -m venv .venv && . .venv/bin/activate && pip install pandas',
    'Plain `npm run demo` needs only Node.',
  ].join('\n'));
  return false;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  if (options.transform !== undefined && !pandasAvailable()) return 1;
  const started = Date.now();
  const template = readTemplate(options.template);
  return options.trigger === 'upload' ? runUploadFlow(options, template, started) : runOnce(options, template, started);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`demo: ${(error as Error).message}`);
    process.exit(1);
  },
);
