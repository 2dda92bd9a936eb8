import { KubernetesObject, objectMetadata } from './labels';

/** No IRSA annotation: the Pod Identity association maps this account to the IAM role. */
export function serviceAccount(name: string, namespace: string, labels: Record<string, string>): KubernetesObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: objectMetadata(name, namespace, labels) };
}
