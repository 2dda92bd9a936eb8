import { writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { join } from 'node:path';
import { main } from '../../../processor/src/runtime/cli';
import { createLogger } from '../../../processor/src/runtime/log';
import {
  MetricsConfig, RunOutcome, RunRecorder, metricsConfigFromEnv, parseDimensions, publishRunMetrics, runMetricData,
} from '../../../processor/src/runtime/metrics';
import { HEADER, RUN_ID, TempDirs } from '../helpers';

const temp = new TempDirs();
afterAll(() => temp.cleanup());

const CONFIG: MetricsConfig = {
  namespace: 'CdkMlopsEks/Preprocessing',
  dimensions: [{ Name: 'Cluster', Value: 'eks-demo-eks-cluster' }, { Name: 'KubernetesNamespace', Value: 'mlops' }, { Name: 'Workload', Value: 'data-preprocessing' }],
  destination: 'cloudwatch',
};
const COUNTS = { inputRows: 10, rejectedRows: 2, duplicateRows: 1, inputBytes: 1234 };

function recorderAt(times: number[]): RunRecorder {
  return new RunRecorder(() => times.shift()!);
}

describe('RunRecorder: the outcome of a run', () => {
  test.each([
    [0, RunOutcome.SUCCEEDED],
    [2, RunOutcome.BAD_INPUT],
    [1, RunOutcome.FAILED],
    [143, RunOutcome.STOPPED],
  ])('exit code %i after processing an input is %s', (code, outcome) => {
    const recorder = new RunRecorder();
    recorder.addInput(COUNTS);
    expect(recorder.finish(code).outcome).toBe(outcome);
  });

  test('a run that ends well without processing anything (no message, S3 test event) is skipped', () => {
    expect(new RunRecorder().finish(0)).toMatchObject({ outcome: RunOutcome.SKIPPED });
    expect(new RunRecorder().finish(0).counts).toBeUndefined();
  });

  test('an outcome marked by the run (superseded) wins over the default for exit 0, not over a failure', () => {
    const recorder = new RunRecorder();
    recorder.markOutcome(RunOutcome.SUPERSEDED);
    expect(recorder.finish(0).outcome).toBe(RunOutcome.SUPERSEDED);
    expect(recorder.finish(1).outcome).toBe(RunOutcome.FAILED);
  });

  test('counts of several inputs (one message naming several objects) add up; duration in seconds', () => {
    const recorder = recorderAt([1_000, 3_500]);
    recorder.addInput(COUNTS);
    recorder.addInput({ inputRows: 5, rejectedRows: 0, duplicateRows: 3, inputBytes: 100 });
    expect(recorder.finish(0)).toEqual({
      outcome: RunOutcome.SUCCEEDED,
      durationSeconds: 2.5,
      counts: { inputRows: 15, rejectedRows: 2, duplicateRows: 4, inputBytes: 1334 },
    });
  });
});

describe('runMetricData: the data points of one run', () => {
  const at = new Date('2026-12-05T08:00:00Z');

  test('every outcome count (1 for this run\'s, 0 for the others), the duration, the rows and bytes, all with the dimensions', () => {
    const data = runMetricData({ outcome: RunOutcome.SUCCEEDED, durationSeconds: 0.7, counts: COUNTS }, CONFIG, at);
    const values = Object.fromEntries(data.map((d) => [d.MetricName, [d.Value, d.Unit]]));
    expect(values).toEqual({
      SucceededRuns: [1, 'Count'],
      BadInputRuns: [0, 'Count'],
      FailedRuns: [0, 'Count'],
      SupersededRuns: [0, 'Count'],
      SkippedRuns: [0, 'Count'],
      StoppedRuns: [0, 'Count'],
      Duration: [0.7, 'Seconds'],
      InputRows: [10, 'Count'],
      RejectedRows: [2, 'Count'],
      DuplicateRows: [1, 'Count'],
      InputBytes: [1234, 'Bytes'],
    });
    expect(data.every((d) => d.Timestamp === at && JSON.stringify(d.Dimensions) === JSON.stringify(CONFIG.dimensions))).toBe(true);
  });

  test('a run that processed no input publishes its outcome and duration, no row counts', () => {
    const data = runMetricData({ outcome: RunOutcome.FAILED, durationSeconds: 3 }, CONFIG, at);
    expect(data.map((d) => d.MetricName)).not.toContain('InputRows');
    expect(data.find((d) => d.MetricName === 'FailedRuns')?.Value).toBe(1);
  });
});

describe('metrics settings from the environment', () => {
  test('no METRICS_NAMESPACE, no metrics', () => {
    expect(metricsConfigFromEnv({})).toBeUndefined();
  });

  test('namespace, Name=Value dimensions and the destination', () => {
    expect(metricsConfigFromEnv({ METRICS_NAMESPACE: 'X/Y', METRICS_DIMENSIONS: 'ClusterName=c, Workload=w', METRICS_DESTINATION: 'log' }))
      .toEqual({ namespace: 'X/Y', dimensions: [{ Name: 'ClusterName', Value: 'c' }, { Name: 'Workload', Value: 'w' }], destination: 'log' });
  });

  test('a malformed dimension or destination is an error naming the variable', () => {
    expect(() => parseDimensions('ClusterName')).toThrow(/METRICS_DIMENSIONS/);
    expect(() => metricsConfigFromEnv({ METRICS_NAMESPACE: 'X', METRICS_DESTINATION: 'stdout' })).toThrow(/METRICS_DESTINATION/);
  });
});

/** A port that refuses connections: a server bound and closed again. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('publishing never fails the run', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
  });
  afterAll(() => {
    process.env = saved;
  });

  test('CloudWatch unreachable: publishRunMetrics logs a warning and resolves false', async () => {
    const lines: string[] = [];
    const log = createLogger({ write: (line) => lines.push(line) });
    const env = { AWS_ENDPOINT_URL_CLOUDWATCH: `http://127.0.0.1:${await closedPort()}`, AWS_REGION: 'us-east-1' };
    const sent = await publishRunMetrics({ outcome: RunOutcome.SUCCEEDED, durationSeconds: 1 }, CONFIG, log, { env });
    expect(sent).toBe(false);
    expect(lines.join('')).toMatch(/WARN {2}Could not publish the run metrics to CloudWatch \(the run's outcome stands\).*ECONNREFUSED/);
  });

  test('a good run with CloudWatch unreachable still exits 0, and says the metrics were not published', async () => {
    const input = join(temp.make(), 'input.csv');
    writeFileSync(input, `${HEADER}\n1,A,30,50000,2020-01-01,,IT,1\n`);
    const lines: string[] = [];
    const code = await main(['--input', input, '--output', temp.make(), '--run-id', RUN_ID], {
      SCRATCH_DIR: temp.make(),
      METRICS_NAMESPACE: CONFIG.namespace,
      AWS_ENDPOINT_URL_CLOUDWATCH: `http://127.0.0.1:${await closedPort()}`,
      AWS_REGION: 'us-east-1',
    }, { write: (line) => lines.push(line) });
    expect(code).toBe(0);
    expect(lines.join('')).toContain('Could not publish the run metrics');
  });

  test('wrong metrics settings are a warning, not a failed run', async () => {
    const input = join(temp.make(), 'input.csv');
    writeFileSync(input, `${HEADER}\n1,A,30,50000,2020-01-01,,IT,1\n`);
    const lines: string[] = [];
    const code = await main(['--input', input, '--output', temp.make(), '--run-id', RUN_ID], {
      SCRATCH_DIR: temp.make(), METRICS_NAMESPACE: CONFIG.namespace, METRICS_DIMENSIONS: 'Workload',
    }, { write: (line) => lines.push(line) });
    expect(code).toBe(0);
    expect(lines.join('')).toMatch(/WARN {2}No run metrics: METRICS_DIMENSIONS must be Name=Value pairs/);
  });

  test('a configuration error still publishes the run\'s metrics: BadInput (exit 2)', async () => {
    const lines: string[] = [];
    const code = await main([], {
      QUEUE_URL: 'http://127.0.0.1:1/000000000000/q',
      OUTPUT_BUCKET: 'processed',
      THREADS: 'many',
      METRICS_NAMESPACE: CONFIG.namespace,
      METRICS_DIMENSIONS: 'Workload=w',
      METRICS_DESTINATION: 'log',
    }, { write: (line) => lines.push(line) });
    expect(code).toBe(2);
    expect(lines.join('')).toContain('THREADS');
    const line = lines.find((l) => l.includes('Run metrics'));
    expect(line).toMatch(/SucceededRuns=0 BadInputRuns=1 FailedRuns=0 .*\(dimensions Workload=w\)/);
  });

  test('METRICS_DESTINATION=log logs what a run would publish and sends nothing', async () => {
    const input = join(temp.make(), 'input.csv');
    writeFileSync(input, `${HEADER}\n1,A,30,50000,2020-01-01,,IT,1\n1,A,30,50000,2020-01-01,,IT,1\nbad\n`);
    const lines: string[] = [];
    const code = await main(['--input', input, '--output', temp.make(), '--run-id', RUN_ID], {
      SCRATCH_DIR: temp.make(),
      METRICS_NAMESPACE: CONFIG.namespace,
      METRICS_DIMENSIONS: 'Workload=w',
      METRICS_DESTINATION: 'log',
    }, { write: (line) => lines.push(line) });
    expect(code).toBe(0);
    const line = lines.find((l) => l.includes('Run metrics'))!;
    expect(line).toMatch(/SucceededRuns=1 BadInputRuns=0 FailedRuns=0 SupersededRuns=0 SkippedRuns=0 StoppedRuns=0 Duration=[\d.]+s InputRows=3 RejectedRows=1 DuplicateRows=1 InputBytes=\d+ \(dimensions Workload=w\)/);
  });
});
