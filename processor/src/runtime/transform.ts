/**
 * The one interface between the runtime (where bytes come from and go to, what a run reports) and
 * a transform (what is made of the input). The runtime opens the input, stages the outputs,
 * checks the scratch space, publishes the files a transform wrote and writes the manifest last;
 * a transform only reads `input.bytes` and writes files through `output`
 * (processor/src/runtime/run.ts calls it; processor/src/transforms/walkthrough is the first one).
 *
 * A transform may write any files of its own naming: the runtime publishes exactly the
 * {@link OutputFile}s it returns, in that order, and lists them in the manifest.
 */
import type { Writable } from 'node:stream';
import type { ByteSource } from './io/source';
import type { Logger } from './log';
import type { ScratchBudget } from './scratch-space';
import type { OutputFormat } from '../transforms/walkthrough/parquet/layout';

/** `default`: an empty cell and pandas' default missing tokens; `empty`: only an empty cell (SPEC §5). */
export const NA_VALUES_MODES = ['default', 'empty'] as const;
export type NaValuesMode = (typeof NA_VALUES_MODES)[number];

/** The run's input, opened by the runtime: a local file, or one exact version of an S3 object. */
export interface TransformInput {
  /** The input as given: a local path or `s3://bucket/key`. */
  readonly location: string;
  /** The local file, when the input is one (an S3 input is only ever read through `bytes`). */
  readonly localPath?: string;
  /** The input's bytes (for S3: the version that was opened, read as ranged GETs). */
  readonly bytes: ByteSource;
  readonly size: number;
  readonly lastModified: Date;
  /** The S3 version read, where known. */
  readonly versionId?: string;
  /** The ETag of the S3 bytes read (without quotes), where known. */
  readonly eTag?: string;
}

/**
 * Where a transform writes its files. Nothing it writes is visible before the runtime publishes
 * the files the transform returned (local: hidden `.partial` files renamed; S3: staged in the
 * scratch directory, then uploaded).
 */
export interface TransformOutput {
  /** A stream to write the file `fileName` (a bare name: no directories). */
  createStream(fileName: string): Writable;
  /** Writes a small file in one go. */
  writeSmall(fileName: string, bytes: Buffer): Promise<void>;
}

/** Settings of a run that a transform may use (CLI flags / environment: --na-values, --threads). */
export interface TransformOptions {
  /** Which cells are missing values. */
  readonly naValues: NaValuesMode;
  /** Threads to use; undefined: the CPUs the container may use. */
  readonly threads?: number;
  /** Which formats the tables are written in (csv, parquet, both; SPEC §15); undefined: csv. */
  readonly outputFormat?: OutputFormat;
}

export interface TransformRequest {
  readonly input: TransformInput;
  readonly output: TransformOutput;
  /** Names the run's files (`<name>_<runId>.<ext>`); validated. */
  readonly runId: string;
  /**
   * The run's time as ISO seconds: the time the run id names, else the input's last-modified time
   * (never the wall clock, so a rerun gives the same bytes).
   */
  readonly processingTimestamp: string;
  /** A directory of this run only, removed after it whatever happened. */
  readonly scratchDir: string;
  /** Aborted when the run is stopped: the transform rejects soon after (the runtime reports RunAbortedError). */
  readonly signal?: AbortSignal;
  readonly log: Logger;
  readonly options: TransformOptions;
  /**
   * Where Parquet tables (`tables/<name>/run_date=<date>/<runId>.parquet`) are written: the
   * output's root, which in queue mode is not the object's folder that `output` writes to.
   */
  readonly tablesOutput: TransformOutput;
  /**
   * The scratch space the preflight set aside; a transform that finds it needs more asks for it
   * here first (ScratchSpaceError when the volume cannot hold it). Absent: no limit is checked.
   */
  readonly scratchBudget?: ScratchBudget;
}

/** A file the transform wrote through {@link TransformOutput}, as the manifest lists it. */
export interface OutputFile {
  /** The manifest's name for it (`cleaned_data`, …). */
  readonly name: string;
  /** The name it was written under. */
  readonly fileName: string;
  readonly bytes: number;
  /** Data rows, for a table. */
  readonly rows?: number;
  readonly contentType: string;
  /**
   * `parquet`: a Parquet table written through {@link TransformRequest.tablesOutput}; the runtime
   * publishes these after the other files and lists them in the manifest with this format.
   */
  readonly format?: 'parquet';
  /**
   * A file the transform already wrote outside {@link TransformOutput} (the command transform's
   * output directory): published from this path. `fileName` may then hold sub-folders (`a/b.csv`).
   */
  readonly sourcePath?: string;
  /** Hex SHA-256 of the bytes, listed in the manifest when given. */
  readonly sha256?: string;
}

/** What made the outputs, as the manifest's `transform` names it (absent for the built-in transform). */
export interface TransformDescription {
  readonly type: string;
  /** The program and its arguments, for a command transform. */
  readonly command?: readonly string[];
}

/** What a run counted: the manifest's and the run metrics' figures. */
export interface TransformCounts {
  /** Data records read. */
  readonly inputRows: number;
  /** Records that could not be processed (written to a rejects file with a reason). */
  readonly rejectedRows: number;
  /** Rows of the main output. */
  readonly totalRows: number;
  /** Duplicate rows found (0 when the transform does not look for them). */
  readonly duplicateRows: number;
}

export interface TransformResult {
  readonly counts: TransformCounts;
  /** Every file written, in the manifest's order; the runtime publishes these and no others. */
  readonly files: readonly OutputFile[];
  /** Listed in the manifest as `transform`. */
  readonly description?: TransformDescription;
}

export interface Transform {
  /**
   * Optional: starts what takes time to boot (the walkthrough: its worker threads) before the
   * input is opened. Called at most once, before `run`.
   */
  warmUp?(options: TransformOptions): void;
  /** Reads the input, writes the files, resolves what it wrote; rejects on any failure. */
  run(request: TransformRequest): Promise<TransformResult>;
  /**
   * Optional: the names of the files a run with this id writes, where known ahead (queue mode checks
   * that their S3 keys fit before it runs); a transform whose names are not known returns none.
   */
  fileNamesFor?(runId: string): readonly string[];
  /** Optional: releases what `warmUp` started; the runtime calls it after every run, failed or not. */
  close?(): Promise<void>;
}
