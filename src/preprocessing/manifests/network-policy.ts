import { KubernetesObject, objectMetadata } from './labels';

/** Where the EKS Pod Identity agent serves credentials on every node. */
const POD_IDENTITY_AGENT = '169.254.170.23/32';

/** The cluster's DNS servers as a NetworkPolicy peer: CoreDNS pods in kube-system. */
const KUBE_DNS_PODS = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
};

/**
 * The workload's pods may only resolve names (DNS), fetch credentials from the node's Pod
 * Identity agent, and speak HTTPS (S3, SQS). Nothing may connect to them. Only this workload's
 * pods are selected. DNS goes to the CoreDNS pods, except with `dnsOnAnyAddress`: EKS Auto Mode
 * serves DNS from each node instead of from pods, which no pod selector matches.
 */
export function networkPolicy(jobName: string, namespace: string, labels: Record<string, string>, dnsOnAnyAddress: boolean): KubernetesObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: objectMetadata(`${jobName}-egress`, namespace, labels),
    spec: {
      podSelector: { matchLabels: { ...labels } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [
        {
          ...(dnsOnAnyAddress ? {} : { to: [KUBE_DNS_PODS] }),
          ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
        },
        {
          to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT } }],
          ports: [{ protocol: 'TCP', port: 80 }],
        },
        { ports: [{ protocol: 'TCP', port: 443 }] },
      ],
    },
  };
}
