import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PropValidationError } from '../private/validation';

/**
 * The Kubernetes version of the kubectl layer this library depends on
 * (`@aws-cdk/lambda-layer-kubectl-v36`, the newest that aws-cdk-lib's `aws-eks-v2` supports):
 * a cluster of this version needs no `kubectlLayer` prop.
 */
export const BUNDLED_KUBECTL_VERSION = eks.KubernetesVersion.V1_36;

const CONSTRUCT = 'MlopsEksCluster';
const LAYER_CLASS_NAME = /^KubectlV(\d+)Layer$/;

/**
 * The kubectl layer for the cluster's version: the bundled one for its version, the user's
 * otherwise. kubectl must match the cluster's minor version, so a layer from a
 * `@aws-cdk/lambda-layer-kubectl-vNN` package is checked against it.
 */
export function kubectlLayerFor(
  scope: Construct,
  version: eks.KubernetesVersion,
  userLayer: lambda.ILayerVersion | undefined,
): lambda.ILayerVersion {
  if (Token.isUnresolved(version.version)) {
    if (!userLayer) {
      throw new PropValidationError(CONSTRUCT, 'kubectlLayer', 'is required when kubernetesVersion is a token');
    }
    return userLayer;
  }
  const minor = minorOf(version.version);
  if (!userLayer) {
    if (version.version !== BUNDLED_KUBECTL_VERSION.version) {
      throw new PropValidationError(CONSTRUCT, 'kubectlLayer',
        `is required for kubernetesVersion ${version.version}: pass new KubectlV${minor}Layer(this, 'Kubectl') from ` +
        `@aws-cdk/lambda-layer-kubectl-v${minor} (the bundled layer is for ${BUNDLED_KUBECTL_VERSION.version})`);
    }
    return new KubectlV36Layer(scope, 'KubectlLayer');
  }
  const layerMinor = layerMinorVersion(userLayer);
  if (layerMinor !== undefined && layerMinor !== minor) {
    throw new PropValidationError(CONSTRUCT, 'kubectlLayer',
      `is KubectlV${layerMinor}Layer (kubectl 1.${layerMinor}) but kubernetesVersion is ${version.version}; ` +
      `use KubectlV${minor}Layer from @aws-cdk/lambda-layer-kubectl-v${minor}`);
  }
  return userLayer;
}

function minorOf(version: string): number {
  const match = /^1\.(\d+)$/.exec(version);
  if (!match) {
    throw new PropValidationError(CONSTRUCT, 'kubernetesVersion', `'${version}' is not a Kubernetes version such as 1.32`);
  }
  return Number(match[1]);
}

/** The minor version of a layer made by a `@aws-cdk/lambda-layer-kubectl-vNN` class, if it is one. */
function layerMinorVersion(layer: lambda.ILayerVersion): number | undefined {
  const match = LAYER_CLASS_NAME.exec(layer.constructor.name);
  return match ? Number(match[1]) : undefined;
}
