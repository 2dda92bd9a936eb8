import { KubernetesObject, namespaceLabels, objectMetadata } from './labels';

/** The walkthrough's quota for the namespace. */
export const NAMESPACE_QUOTA = {
  'requests.cpu': '4',
  'requests.memory': '8Gi',
  'limits.cpu': '8',
  'limits.memory': '16Gi',
  'pods': '10',
};

/**
 * The namespace with Pod Security Standard `restricted` enforced, so no pod in it may run
 * privileged or as root, its quota, and a limit range that gives bounded defaults to containers
 * that state no resources (a quota requires them). The limit range caps a container at the
 * quota's limits: several workloads share the namespace, each checked against the quota at synth.
 */
export function namespaceObjects(namespace: string): KubernetesObject[] {
  const labels = namespaceLabels();
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: namespace,
        labels: {
          ...labels,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: objectMetadata('mlops-quota', namespace, labels),
      spec: { hard: { ...NAMESPACE_QUOTA } },
    },
    {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: objectMetadata('mlops-limits', namespace, labels),
      spec: {
        limits: [{
          type: 'Container',
          default: { cpu: '1', memory: '2Gi' },
          defaultRequest: { cpu: '250m', memory: '512Mi' },
          max: { cpu: NAMESPACE_QUOTA['limits.cpu'], memory: NAMESPACE_QUOTA['limits.memory'] },
        }],
      },
    },
  ];
}
