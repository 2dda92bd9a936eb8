import { Token } from 'aws-cdk-lib';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { LimitRange, Namespace, ResourceQuota, ServiceAccount } from 'kubernetes-models/v1';

/**
 * Validates Kubernetes objects against the OpenAPI schema packaged in kubernetes-models. Values
 * known only at deploy time (CDK tokens such as bucket names) are replaced by a placeholder first.
 */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ResourceQuota': ResourceQuota,
  'v1/LimitRange': LimitRange,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'batch/v1/Job': Job,
  'batch/v1/CronJob': CronJob,
};

export function validateKubernetesObject(object: Record<string, any>): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) {
    throw new Error(`no schema for ${object.apiVersion}/${object.kind}`);
  }
  new Model(withoutTokens(object)).validate();
}

function withoutTokens(value: any): any {
  if (typeof value === 'string') {
    return Token.isUnresolved(value) ? 'resolved-at-deploy-time' : value;
  }
  if (Array.isArray(value)) {
    return value.map(withoutTokens);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutTokens(v)]));
  }
  return value;
}
