/**
 * The command transform (SPEC §14): any program, run with the MLOPS_* environment. The runtime
 * has opened the input (for S3 one exact version); this transform stages it as a file in the
 * run's scratch directory, creates the empty output directory, runs the program (spawned here,
 * or by the launcher in the user's container when a handoff directory is set), and on exit 0
 * returns every regular file of the output directory for the runtime to publish as
 * `<outputPrefix><runId>/<relative path>`. Exit 2 is bad input; any other end is a failure.
 */
import { mkdir, open } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { HandoffProgramRunner } from './handoff-runner';
import { LocalProgramRunner } from './local-runner';
import { readProgramCounts } from './metrics-file';
import { listOutputFiles } from './output-dir';
import type { ProgramResult, ProgramRunner } from './runner';
import { BadInputError, RunAbortedError } from '../../runtime/errors';
import type { LogFormat } from '../../runtime/log';
import type { Transform, TransformInput, TransformRequest, TransformResult } from '../../runtime/transform';

export { UnpublishableOutputError } from './output-dir';

export interface CommandTransformOptions {
  /** The program and its arguments. */
  readonly command: readonly string[];
  /** TRANSFORM_HANDOFF_DIR: the launcher runs the program (on the cluster); unset: spawned here. */
  readonly handoffDir?: string;
  /** How the launcher formats the program's lines (the runtime's LOG_FORMAT). */
  readonly logFormat?: LogFormat;
  /** Seconds from SIGTERM to SIGKILL for a program spawned here. */
  readonly killGraceSeconds?: number;
  /** Seconds to wait for the launcher to start (TRANSFORM_LAUNCHER_START_TIMEOUT). */
  readonly launcherStartTimeoutSeconds?: number;
}

const STAGE_CHUNK_BYTES = 1024 * 1024;

export class CommandTransform implements Transform {
  private readonly runner: ProgramRunner;

  constructor(private readonly options: CommandTransformOptions) {
    if (options.command.length === 0 || options.command[0] === '') throw new BadInputError('the command transform needs a program to run');
    this.runner = options.handoffDir !== undefined
      ? new HandoffProgramRunner({
        dir: options.handoffDir,
        logFormat: options.logFormat ?? 'text',
        startTimeoutMs: options.launcherStartTimeoutSeconds === undefined ? undefined : options.launcherStartTimeoutSeconds * 1000,
      })
      : new LocalProgramRunner(options.command, options.killGraceSeconds === undefined ? undefined : options.killGraceSeconds * 1000);
  }

  /** Its file names are the program's; only the folder is known ahead. */
  fileNamesFor(runId: string): readonly string[] {
    return [`${runId}/`];
  }

  async run(request: TransformRequest): Promise<TransformResult> {
    const { runId, scratchDir, log, signal } = request;
    const inputFile = await this.stageInput(request.input, resolve(scratchDir), signal);
    const outputDir = resolve(scratchDir, 'output');
    const programScratch = resolve(scratchDir, 'work');
    const metricsFile = resolve(scratchDir, 'metrics.json');
    await mkdir(outputDir, { recursive: true });
    await mkdir(programScratch, { recursive: true });
    const env: Record<string, string> = {
      MLOPS_INPUT_FILE: inputFile,
      MLOPS_OUTPUT_DIR: outputDir,
      MLOPS_RUN_ID: runId,
      MLOPS_SCRATCH_DIR: programScratch,
      MLOPS_INPUT_URI: request.input.location,
      MLOPS_METRICS_FILE: metricsFile,
      ...(request.input.versionId === undefined ? {} : { MLOPS_INPUT_VERSION_ID: request.input.versionId }),
      ...(request.input.eTag === undefined ? {} : { MLOPS_INPUT_ETAG: request.input.eTag }),
    };
    log.info(`Running the transform command ${JSON.stringify(this.options.command)}`, { inputFile });
    const result = await this.runner.run({ runId, env, log, signal });
    if (signal?.aborted) throw new RunAbortedError();
    this.checkOutcome(result);
    const counts = await readProgramCounts(metricsFile, log);
    const files = await listOutputFiles(outputDir, `${runId}/`);
    log.info(`The transform command succeeded: ${files.length} output file(s)`, { bytes: files.reduce((sum, f) => sum + f.bytes, 0) });
    return {
      counts: {
        inputRows: counts.inputRows,
        rejectedRows: counts.rejectedRows,
        totalRows: Math.max(0, counts.inputRows - counts.rejectedRows),
        duplicateRows: 0,
      },
      files,
      description: { type: 'command', command: this.options.command },
    };
  }

  /** Tells the launcher (if any) that the runtime is done; the CLI calls it once, before it exits. */
  shutdown(exitCode: number): Promise<void> {
    return this.runner.shutdown(exitCode);
  }

  /**
   * The input as a file the program can open: a local input as it is (spawned here), anything
   * else (an S3 version, or any input for the launcher's container) copied into the scratch directory.
   */
  private async stageInput(input: TransformInput, scratchDir: string, signal: AbortSignal | undefined): Promise<string> {
    if (input.localPath !== undefined && this.options.handoffDir === undefined) return resolve(input.localPath);
    const dir = join(scratchDir, 'input');
    await mkdir(dir, { recursive: true });
    const path = join(dir, basename(input.location) || 'input');
    if (input.bytes.saveTo !== undefined) {
      await input.bytes.saveTo(path);
      signal?.throwIfAborted();
      return path;
    }
    // One buffer, written before it is refilled: no copies queue up in memory whatever the disk's pace.
    const out = await open(path, 'w');
    const buf = Buffer.allocUnsafe(STAGE_CHUNK_BYTES);
    try {
      for (;;) {
        signal?.throwIfAborted();
        const n = await input.bytes.read(buf, 0, buf.length);
        if (n === 0) break;
        for (let written = 0; written < n;) written += (await out.write(buf, written, n - written)).bytesWritten;
      }
    } finally {
      await out.close();
    }
    return path;
  }

  private checkOutcome(result: ProgramResult): void {
    const tail = result.stderrTail.length > 0 ? `; its last stderr lines:\n${result.stderrTail.join('\n')}` : '';
    const command = `the transform command '${this.options.command[0]}'`;
    if (result.error !== undefined) throw new Error(result.error);
    if (result.exitCode === 0) return;
    if (result.exitCode === 2) throw new BadInputError(`${command} rejected the input (exit code 2)${tail}`);
    if (result.signal !== null) throw new Error(`${command} was killed by ${result.signal}${tail}`);
    throw new Error(`${command} failed with exit code ${result.exitCode}${tail}`);
  }
}
