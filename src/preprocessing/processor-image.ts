import * as path from 'path';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';

/** The image reference a {@link ProcessorImage} resolves to. */
export interface ProcessorImageConfig {
  /** The image URI that the Kubernetes workload runs. */
  readonly imageUri: string;
}

/** Where the preprocessing container image comes from. */
export abstract class ProcessorImage {
  /**
   * The processor bundled with this library (`processor/` in the package), built for
   * linux/amd64 and published to the CDK assets repository at deploy time.
   */
  public static bundled(): ProcessorImage {
    return new BundledProcessorImage();
  }

  /**
   * An image you build and publish yourself. It must honour the same environment contract
   * (INPUT_BUCKET, INPUT_KEY, OUTPUT_BUCKET, OUTPUT_PREFIX, RUN_ID, LOG_LEVEL).
   *
   * @param imageUri e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/preprocess:1.4.0`
   */
  public static fromImageUri(imageUri: string): ProcessorImage {
    return new UriProcessorImage(imageUri);
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

class BundledProcessorImage extends ProcessorImage {
  public bind(scope: Construct): ProcessorImageConfig {
    const asset = new DockerImageAsset(scope, 'ProcessorImage', {
      directory: PROCESSOR_DIRECTORY,
      platform: Platform.LINUX_AMD64,
      exclude: PROCESSOR_ASSET_EXCLUDES,
      assetName: 'cdk-mlops-eks-processor',
    });
    return { imageUri: asset.imageUri };
  }
}

class UriProcessorImage extends ProcessorImage {
  constructor(private readonly imageUri: string) {
    super();
  }

  public bind(): ProcessorImageConfig {
    return { imageUri: this.imageUri };
  }
}
