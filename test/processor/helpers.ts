import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { main } from '../../processor/src/runtime/cli';
import type { ByteSource } from '../../processor/src/runtime/io/source';
import { PipelineResult, runPipeline } from '../../processor/src/runtime/run';
import type { NaValuesMode } from '../../processor/src/runtime/transform';

/** A temporary directory removed by {@link TempDirs.cleanup}. */
export class TempDirs {
  private readonly dirs: string[] = [];

  make(prefix = 'processor-test-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  cleanup(): void {
    this.dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  }
}

export const RUN_ID = '20241221-224904';
export const HEADER = 'id,name,age,salary,hire_date,profile,department,bonus';

/** A profile cell as the walkthrough's data has it: JSON, quoted CSV-style. */
export function profileCell(profile: Record<string, unknown>): string {
  const json = JSON.stringify(profile).replace(/":/g, '": ').replace(/,"/g, ', "');
  return `"${json.replace(/"/g, '""')}"`;
}

export interface LocalRun {
  readonly result: PipelineResult;
  readonly dir: string;
  /** The input file the run read (for runs made by {@link runOnCsv}). */
  readonly inputPath?: string;
  /** The text of output `<name>_<runId>.<ext>`. */
  text(name: string, ext?: string): string;
  /** Lines of a CSV output (split on \n, trailing empty line dropped). */
  lines(name: string): string[];
  metrics(): Record<string, unknown>;
  /** Every file in the output directory, name → bytes. */
  files(): Map<string, Buffer>;
}

/** Writes `csv` to a file and runs the pipeline on it into a fresh directory. */
export async function runOnCsv(
  temp: TempDirs,
  csv: string | Buffer,
  options: { runId?: string; outputDir?: string; inputPath?: string; naValues?: NaValuesMode } = {},
): Promise<LocalRun> {
  const inputPath = options.inputPath ?? join(temp.make(), 'input.csv');
  writeFileSync(inputPath, csv);
  const dir = options.outputDir ?? temp.make();
  const runId = options.runId ?? RUN_ID;
  const result = await runPipeline({
    input: inputPath, output: dir, runId, scratchDir: temp.make('processor-scratch-'), naValues: options.naValues,
  });
  return { ...localRun(result, dir, runId), inputPath };
}

export function localRun(result: PipelineResult, dir: string, runId: string): LocalRun {
  const text = (name: string, ext = 'csv'): string => readFileSync(join(dir, `${name}_${runId}.${ext}`), 'utf8');
  return {
    result,
    dir,
    text,
    lines: (name) => {
      const lines = text(name).split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      return lines;
    },
    metrics: () => JSON.parse(text('quality_metrics', 'json')),
    files: () => new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))])),
  };
}

/** A ByteSource over bytes in memory that hands out at most `maxRead` bytes per read (S3 parts end anywhere). */
export class BufferSource implements ByteSource {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array, private readonly maxRead = Infinity) {}

  async read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    const n = Math.min(length, this.maxRead, this.bytes.length - this.pos);
    buf.set(this.bytes.subarray(this.pos, this.pos + n), offset);
    this.pos += n;
    return n;
  }

  async close(): Promise<void> {}
}

/** Runs the CLI's main as a container would (no arguments, this environment); its exit code and log. */
export async function runCli(env: NodeJS.ProcessEnv): Promise<{ code: number; log: string }> {
  const lines: string[] = [];
  const code = await main([], env, { write: (line) => lines.push(line) });
  return { code, log: lines.join('') };
}

/** The keys under a prefix of a bucket, sorted. */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

/** An object's bytes. */
export async function objectBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

/**
 * Makes the Pod Identity credentials stand-in the only source of AWS credentials and endpoints
 * for code in this process, as on EKS: other credentials, profiles, config files and local
 * endpoint settings are removed (the caller restores process.env afterwards).
 */
export function usePodIdentityCredentialsOnly(temp: TempDirs, credentialsEnv: Record<string, string>): void {
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS']) {
    delete process.env[name];
  }
  Object.assign(process.env, credentialsEnv, {
    AWS_CONFIG_FILE: join(temp.make(), 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(temp.make(), 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  });
}
