import { Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { WorkloadResources } from './pod-identity-preprocessing';
import { ProcessorImage, ProcessorImageConfig } from './processor-image';
import { PropValidationError } from '../private/validation';

/** Options of {@link PreprocessingTransform.command}. */
export interface CommandTransformOptions {
  /**
   * The image that holds your program, unchanged: `ProcessorImage.fromDirectory('transforms/')`
   * (your Dockerfile, built as a CDK image asset) or `ProcessorImage.fromImageUri(...)`. It needs
   * no shell, no Node and no particular libc: the library's launcher is copied into the pod.
   */
  readonly image: ProcessorImage;

  /**
   * The program and its arguments, run in the image's working directory, e.g.
   * `['python3', 'preprocess.py']`. It replaces the image's entrypoint and command.
   */
  readonly command: string[];

  /**
   * CPU and memory of the program's container. The runtime container beside it adds requests
   * 100m / 128Mi and limits 500m / 256Mi to the pod (the namespace quota counts both).
   *
   * @default - the workload's `resources`; if neither is given, requests 400m / 896Mi and limits
   * 1500m / 3840Mi: with the runtime's share, the built-in transform's pod (500m / 1Gi, 2 / 4Gi)
   */
  readonly resources?: WorkloadResources;

  /**
   * Extra environment variables of the program. Names starting with `MLOPS_` are the runtime's.
   *
   * @default - none
   */
  readonly environment?: { [name: string]: string };
}

/** What a {@link PreprocessingTransform} gives the workload's pod. */
export interface PreprocessingTransformConfig {
  /**
   * The program's command; undefined for the built-in walkthrough transform, which runs inside the
   * processor's own container.
   */
  readonly command?: string[];
  /** The program's image (command transforms). */
  readonly image?: ProcessorImageConfig;
  /** The program container's resources (command transforms). */
  readonly resources?: WorkloadResources;
  /** The program's extra environment (command transforms). */
  readonly environment?: { [name: string]: string };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * What a run does to its input (SPEC §14). The runtime around it (exact object versions, claims,
 * manifests, metrics, heartbeats, exit codes, per-upload scaling) is the same for every transform.
 */
export abstract class PreprocessingTransform {
  /** The walkthrough's HR transform, built into the bundled processor (the default). */
  public static walkthrough(): PreprocessingTransform {
    return new WalkthroughTransform();
  }

  /**
   * Your own program, in your own image, on the production runtime. The runtime stages the exact
   * input version and runs the program with `MLOPS_INPUT_FILE`, `MLOPS_OUTPUT_DIR`,
   * `MLOPS_RUN_ID`, `MLOPS_SCRATCH_DIR`, `MLOPS_INPUT_URI`, `MLOPS_METRICS_FILE` (and
   * `MLOPS_INPUT_VERSION_ID`, `MLOPS_INPUT_ETAG` where known); exit 0 publishes every regular file
   * of the output directory with the manifest last, exit 2 reports bad input, anything else fails
   * the run. In the cluster the program runs in its own container through a small static launcher
   * that an init container copies into the pod, so the image needs no change.
   */
  public static command(options: CommandTransformOptions): PreprocessingTransform {
    return new CommandTransform(options);
  }

  /** Resolves the transform in the given scope (creating an image asset if needed). */
  public abstract bind(scope: Construct): PreprocessingTransformConfig;
}

class WalkthroughTransform extends PreprocessingTransform {
  public bind(): PreprocessingTransformConfig {
    return {};
  }
}

class CommandTransform extends PreprocessingTransform {
  constructor(private readonly options: CommandTransformOptions) {
    super();
    checkCommand(options.command);
    checkEnvironment(options.environment ?? {});
  }

  public bind(scope: Construct): PreprocessingTransformConfig {
    return {
      command: [...this.options.command],
      image: this.options.image.bind(scope),
      resources: this.options.resources,
      environment: { ...this.options.environment },
    };
  }
}

function checkCommand(command: string[]): void {
  if (!Array.isArray(command) || command.length === 0) {
    throw new PropValidationError('PreprocessingTransform', 'command', 'must name a program, e.g. [\'python3\', \'preprocess.py\']');
  }
  const program = command[0];
  if (!Token.isUnresolved(program) && program.trim() === '') {
    throw new PropValidationError('PreprocessingTransform', 'command', 'its first element (the program) must not be empty');
  }
}

function checkEnvironment(environment: { [name: string]: string }): void {
  for (const name of Object.keys(environment)) {
    if (!ENV_NAME.test(name)) {
      throw new PropValidationError('PreprocessingTransform', 'environment', `'${name}' is not an environment variable name`);
    }
    if (name.startsWith('MLOPS_')) {
      throw new PropValidationError('PreprocessingTransform', 'environment', `'${name}': names starting with MLOPS_ are set by the runtime`);
    }
  }
}
