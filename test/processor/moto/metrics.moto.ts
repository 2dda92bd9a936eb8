/**
 * The processor's run metrics against a real server speaking CloudWatch's wire protocol (moto's
 * server mode). Not part of `npm test`: run with `bash scripts/moto-server.sh npx projen
 * test:moto`, which starts the server and sets MOTO_CLOUDWATCH_ENDPOINT.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchClient, Datapoint, GetMetricStatisticsCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { main } from '../../../processor/src/runtime/cli';
import { createLogger } from '../../../processor/src/runtime/log';
import { MetricsConfig, RunOutcome, publishRunMetrics } from '../../../processor/src/runtime/metrics';
import { METRICS_NAMESPACE } from '../../../src/preprocessing/monitoring';
import { HEADER, RUN_ID, TempDirs } from '../helpers';

const endpoint = process.env.MOTO_CLOUDWATCH_ENDPOINT;
if (!endpoint) {
  throw new Error('MOTO_CLOUDWATCH_ENDPOINT is not set: run this through scripts/moto-server.sh');
}

const temp = new TempDirs();
const savedEnv = { ...process.env };
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const cloudwatch = new CloudWatchClient({ region: 'us-east-1', endpoint, credentials });

beforeAll(() => {
  // The processor's own client reads its credentials from the process environment, as on EKS.
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
});
afterAll(() => {
  cloudwatch.destroy();
  process.env = savedEnv;
  temp.cleanup();
});

/** Dimensions unique to one test, so tests never read each other's data points. */
function dimensionsFor(label: string): Array<{ Name: string; Value: string }> {
  return [{ Name: 'Namespace', Value: 'mlops' }, { Name: 'Workload', Value: `${label}-${randomUUID().slice(0, 8)}` }];
}

/** Sum and count of one metric's data points of the last hour, as CloudWatch answers them. */
async function statistics(metricName: string, dimensions: Array<{ Name: string; Value: string }>): Promise<Datapoint | undefined> {
  const now = Date.now();
  const response = await cloudwatch.send(new GetMetricStatisticsCommand({
    Namespace: METRICS_NAMESPACE,
    MetricName: metricName,
    Dimensions: dimensions,
    StartTime: new Date(now - 3600_000),
    EndTime: new Date(now + 60_000),
    Period: 3600,
    Statistics: ['Sum', 'SampleCount'],
  }));
  return response.Datapoints?.[0];
}

function inputFile(content: string): string {
  const path = join(temp.make(), 'input.csv');
  writeFileSync(path, content);
  return path;
}

function envFor(dimensions: Array<{ Name: string; Value: string }>): NodeJS.ProcessEnv {
  return {
    SCRATCH_DIR: temp.make(),
    METRICS_NAMESPACE,
    METRICS_DIMENSIONS: dimensions.map((d) => `${d.Name}=${d.Value}`).join(','),
    AWS_ENDPOINT_URL_CLOUDWATCH: endpoint,
    AWS_REGION: 'us-east-1',
  };
}

describe('run metrics reach a CloudWatch server', () => {
  test('publishRunMetrics: PutMetricData in the namespace, with the dimensions, every outcome count and the input counts', async () => {
    const dimensions = dimensionsFor('publish');
    const config: MetricsConfig = { namespace: METRICS_NAMESPACE, dimensions, destination: 'cloudwatch' };
    const lines: string[] = [];
    const sent = await publishRunMetrics(
      { outcome: RunOutcome.SUCCEEDED, durationSeconds: 1.5, counts: { inputRows: 10, rejectedRows: 2, duplicateRows: 1, inputBytes: 2048 } },
      config, createLogger({ write: (line) => lines.push(line) }), { env: envFor(dimensions) });
    expect(sent).toBe(true);
    expect(lines.join('')).toContain('Published run metrics to CloudWatch: SucceededRuns=1');

    const listed = await cloudwatch.send(new ListMetricsCommand({ Namespace: METRICS_NAMESPACE, Dimensions: [dimensions[1]] }));
    expect(listed.Metrics!.map((m) => m.MetricName).sort()).toEqual([
      'BadInputRuns', 'DuplicateRows', 'Duration', 'FailedRuns', 'InputBytes', 'InputRows', 'RejectedRows',
      'SkippedRuns', 'StoppedRuns', 'SucceededRuns', 'SupersededRuns',
    ]);
    expect(await statistics('SucceededRuns', dimensions)).toMatchObject({ Sum: 1, SampleCount: 1 });
    expect(await statistics('FailedRuns', dimensions)).toMatchObject({ Sum: 0, SampleCount: 1 });
    expect(await statistics('InputRows', dimensions)).toMatchObject({ Sum: 10 });
    expect(await statistics('RejectedRows', dimensions)).toMatchObject({ Sum: 2 });
    expect(await statistics('DuplicateRows', dimensions)).toMatchObject({ Sum: 1 });
    expect(await statistics('InputBytes', dimensions)).toMatchObject({ Sum: 2048, Unit: 'Bytes' });
    expect(await statistics('Duration', dimensions)).toMatchObject({ Sum: 1.5, Unit: 'Seconds' });
  });

  test('a run of the CLI publishes its own counts once it is done', async () => {
    const dimensions = dimensionsFor('cli');
    const csv = `${HEADER}\n1,A,30,50000,2020-01-01,,IT,1\n1,A,30,50000,2020-01-01,,IT,1\nnot,a,valid,row\n`;
    const code = await main(['--input', inputFile(csv), '--output', temp.make(), '--run-id', RUN_ID], envFor(dimensions), { write: () => undefined });
    expect(code).toBe(0);
    expect(await statistics('SucceededRuns', dimensions)).toMatchObject({ Sum: 1 });
    expect(await statistics('InputRows', dimensions)).toMatchObject({ Sum: 3 });
    expect(await statistics('RejectedRows', dimensions)).toMatchObject({ Sum: 1 });
    expect(await statistics('DuplicateRows', dimensions)).toMatchObject({ Sum: 1 });
    expect(await statistics('InputBytes', dimensions)).toMatchObject({ Sum: Buffer.byteLength(csv) });
  });

  test('a bad input (exit 2) is counted as BadInputRuns, without row counts', async () => {
    const dimensions = dimensionsFor('bad');
    const code = await main(['--input', inputFile('id,name\n1,A\n'), '--output', temp.make()], envFor(dimensions), { write: () => undefined });
    expect(code).toBe(2);
    expect(await statistics('BadInputRuns', dimensions)).toMatchObject({ Sum: 1 });
    expect(await statistics('SucceededRuns', dimensions)).toMatchObject({ Sum: 0 });
    expect(await statistics('InputRows', dimensions)).toBeUndefined();
  });
});
