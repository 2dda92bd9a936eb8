import * as fs from 'fs';
import * as path from 'path';
import { Token } from 'aws-cdk-lib';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import { PropValidationError } from '../private/validation';

/** The image reference a {@link ProcessorImage} resolves to. */
export interface ProcessorImageConfig {
  /** The image URI that the Kubernetes workload runs. */
  readonly imageUri: string;

  /**
   * The CPU architecture the image is built for, as Kubernetes names it (`amd64`, `arm64`): the
   * pods get a `kubernetes.io/arch` node selector for it.
   *
   * @default - any architecture (a multi-architecture image)
   */
  readonly architecture?: string;
}

/** Options of {@link ProcessorImage.bundled}. */
export interface BundledProcessorImageOptions {
  /**
   * The platform to build the image for: `Platform.LINUX_AMD64`, or `Platform.LINUX_ARM64` for
   * Graviton nodes. The pods are placed on nodes of that architecture.
   *
   * @default Platform.LINUX_AMD64
   */
  readonly platform?: Platform;
}

/** Options of {@link ProcessorImage.fromImageUri}. */
export interface ImageUriProcessorImageOptions {
  /**
   * The platform the image is built for, when it is built for one only (`Platform.LINUX_AMD64`
   * or `Platform.LINUX_ARM64`); the pods are then placed on nodes of that architecture.
   *
   * @default - no node selector: the image must run on every node's architecture
   */
  readonly platform?: Platform;
}

/** Options of {@link ProcessorImage.fromDirectory}. */
export interface DirectoryProcessorImageOptions {
  /**
   * The platform to build the image for (`Platform.LINUX_AMD64` or `Platform.LINUX_ARM64`); the
   * pods are placed on nodes of that architecture.
   *
   * @default Platform.LINUX_AMD64
   */
  readonly platform?: Platform;

  /**
   * The Dockerfile, relative to the directory.
   *
   * @default 'Dockerfile'
   */
  readonly file?: string;

  /**
   * Build arguments (`--build-arg`).
   *
   * @default - none
   */
  readonly buildArgs?: { [name: string]: string };

  /**
   * Files of the directory to leave out of the build context (.dockerignore syntax).
   *
   * @default - none
   */
  readonly exclude?: string[];
}

/** Where a container image comes from: the bundled processor, a directory with a Dockerfile, or a URI. */
export abstract class ProcessorImage {
  /**
   * The processor bundled with this library (`processor/` in the package), built for the given
   * platform (linux/amd64 by default) and published to the CDK assets repository at deploy time.
   */
  public static bundled(options: BundledProcessorImageOptions = {}): ProcessorImage {
    return new BundledProcessorImage(options.platform ?? Platform.LINUX_AMD64);
  }

  /**
   * An image you build and publish yourself. It must honour the same environment contract
   * (INPUT_BUCKET, INPUT_KEY, OUTPUT_BUCKET, OUTPUT_PREFIX, RUN_ID, LOG_LEVEL; QUEUE_URL and
   * INPUT_PREFIX for `PreprocessingTrigger.onUpload()`).
   *
   * @param imageUri e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/preprocess:1.4.0`
   */
  public static fromImageUri(imageUri: string, options: ImageUriProcessorImageOptions = {}): ProcessorImage {
    return new UriProcessorImage(imageUri, options.platform);
  }

  /**
   * An image built from a directory that holds a Dockerfile (yours, unchanged), as a CDK image
   * asset: built for the given platform (linux/amd64 by default) and published to the CDK assets
   * repository at deploy time, from where the nodes pull it as they pull the bundled image.
   * Typically the image of a `PreprocessingTransform.command()`.
   *
   * @param directory the build context, e.g. `transforms/` (relative to where `cdk` runs)
   */
  public static fromDirectory(directory: string, options: DirectoryProcessorImageOptions = {}): ProcessorImage {
    return new DirectoryProcessorImage(directory, options);
  }

  /** Resolves the image in the given scope (creating an asset if needed). */
  public abstract bind(scope: Construct): ProcessorImageConfig;
}

/** The processor program's folder: `processor/` at the package root, beside `lib/` and `src/`. */
export const PROCESSOR_DIRECTORY = path.join(__dirname, '..', '..', 'processor');

/**
 * Files in processor/ that are not part of the image: build output and dependencies of a local
 * checkout, and development tools. Leaving them out keeps the asset hash stable across builds.
 */
export const PROCESSOR_ASSET_EXCLUDES = ['lib', 'node_modules', 'tools', 'tsconfig.tools.json', '*.tsbuildinfo'];

/** Kubernetes' names (`kubernetes.io/arch`) of the Linux platforms the processor is built for. */
const ARCHITECTURES: Record<string, string> = { 'linux/amd64': 'amd64', 'linux/arm64': 'arm64' };

function architectureOf(platform: Platform): string {
  const architecture = ARCHITECTURES[platform.platform];
  if (architecture === undefined) {
    throw new PropValidationError('ProcessorImage', 'platform',
      `'${platform.platform}' is not supported: use Platform.LINUX_AMD64 or Platform.LINUX_ARM64`);
  }
  return architecture;
}

class BundledProcessorImage extends ProcessorImage {
  /** Known at construction, so an unsupported platform fails where it is given. */
  private readonly architecture: string;

  constructor(private readonly platform: Platform) {
    super();
    this.architecture = architectureOf(platform);
  }

  public bind(scope: Construct): ProcessorImageConfig {
    const asset = new DockerImageAsset(scope, 'ProcessorImage', {
      directory: PROCESSOR_DIRECTORY,
      platform: this.platform,
      exclude: PROCESSOR_ASSET_EXCLUDES,
      assetName: 'cdk-mlops-eks-processor',
    });
    return { imageUri: asset.imageUri, architecture: this.architecture };
  }
}

class UriProcessorImage extends ProcessorImage {
  private readonly architecture: string | undefined;

  constructor(private readonly imageUri: string, platform: Platform | undefined) {
    super();
    if (!Token.isUnresolved(imageUri) && imageUri.trim() === '') {
      throw new PropValidationError('ProcessorImage', 'imageUri', 'must not be empty');
    }
    this.architecture = platform ? architectureOf(platform) : undefined;
  }

  public bind(): ProcessorImageConfig {
    return { imageUri: this.imageUri, architecture: this.architecture };
  }
}

class DirectoryProcessorImage extends ProcessorImage {
  private readonly architecture: string;
  private readonly platform: Platform;

  constructor(private readonly directory: string, private readonly options: DirectoryProcessorImageOptions) {
    super();
    this.platform = options.platform ?? Platform.LINUX_AMD64;
    this.architecture = architectureOf(this.platform);
    const dockerfile = path.join(directory, options.file ?? 'Dockerfile');
    if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory()) {
      throw new PropValidationError('ProcessorImage', 'directory', `'${directory}' is not a directory`);
    }
    if (!fs.existsSync(dockerfile)) {
      throw new PropValidationError('ProcessorImage', options.file ? 'file' : 'directory', `'${dockerfile}' does not exist: the image is built from it`);
    }
  }

  public bind(scope: Construct): ProcessorImageConfig {
    const asset = new DockerImageAsset(scope, 'DirectoryImage', {
      directory: this.directory,
      file: this.options.file,
      platform: this.platform,
      buildArgs: this.options.buildArgs,
      exclude: this.options.exclude,
    });
    return { imageUri: asset.imageUri, architecture: this.architecture };
  }
}
