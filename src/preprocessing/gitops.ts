import { CfnOutput, Token } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import * as YAML from 'yaml';
import { KubernetesObject } from './manifests/labels';

/** The objects as one multi-document YAML string (no line folding, so values stay whole). */
export function toYaml(objects: readonly KubernetesObject[]): string {
  return objects.map((object) => YAML.stringify(object, { lineWidth: 0 })).join('---\n');
}

/**
 * For GitOps: YAML that holds values known only at deploy time (a created bucket's name, the
 * image asset's URI, the region of an environment-agnostic stack) is published where a GitOps
 * tool can read it resolved: an SSM parameter (Intelligent-Tiering, so YAML over 4 KB still
 * fits), named in a stack output. YAML without such values needs nothing published.
 */
export function publishManifestYaml(scope: Construct, yaml: string): ssm.IStringParameter | undefined {
  if (!Token.isUnresolved(yaml)) {
    return undefined;
  }
  const parameter = new ssm.StringParameter(scope, 'ManifestParameter', {
    stringValue: yaml,
    tier: ssm.ParameterTier.INTELLIGENT_TIERING,
    description: 'Kubernetes manifests of a cdk-mlops-eks preprocessing workload, resolved at deploy time (apply with your GitOps tool)',
  });
  new CfnOutput(scope, 'ManifestParameterName', {
    value: parameter.parameterName,
    description: 'SSM parameter holding the workload\'s resolved Kubernetes YAML',
  });
  return parameter;
}
