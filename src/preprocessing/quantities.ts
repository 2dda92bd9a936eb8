import { Token } from 'aws-cdk-lib';
import type { WorkloadResourceValues } from './manifests';
import { PropValidationError } from '../private/validation';

/** The walkthrough's ResourceQuota for the namespace. */
export const NAMESPACE_QUOTA = {
  'requests.cpu': '4',
  'requests.memory': '8Gi',
  'limits.cpu': '8',
  'limits.memory': '16Gi',
  'pods': '10',
};

const QUANTITY = /^(\d+(?:\.\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const MULTIPLIERS: Record<string, number> = {
  'm': 1e-3,
  '': 1,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 2 ** 10,
  'Mi': 2 ** 20,
  'Gi': 2 ** 30,
  'Ti': 2 ** 40,
  'Pi': 2 ** 50,
  'Ei': 2 ** 60,
};

/** A Kubernetes quantity ('500m', '4Gi') as a number, or undefined for a token. */
export function parseQuantity(construct: string, prop: string, value: string): number | undefined {
  if (Token.isUnresolved(value)) {
    return undefined;
  }
  const match = QUANTITY.exec(value);
  if (!match) {
    throw new PropValidationError(construct, prop, `'${value}' is not a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi`);
  }
  return Number(match[1]) * MULTIPLIERS[match[2] ?? ''];
}

/**
 * Requests must fit their limits, and the pod must fit the namespace quota; otherwise Kubernetes
 * refuses the pod long after the stack has deployed.
 */
export function checkWorkloadResources(construct: string, resources: WorkloadResourceValues, scratchVolumeSize: string): void {
  parseQuantity(construct, 'scratchVolumeSize', scratchVolumeSize);
  const pairs: Array<[keyof WorkloadResourceValues, keyof WorkloadResourceValues, keyof typeof NAMESPACE_QUOTA]> = [
    ['cpuRequest', 'cpuLimit', 'requests.cpu'],
    ['memoryRequest', 'memoryLimit', 'requests.memory'],
  ];
  for (const [requestName, limitName, quotaName] of pairs) {
    const request = parseQuantity(construct, `resources.${requestName}`, resources[requestName]);
    const limit = parseQuantity(construct, `resources.${limitName}`, resources[limitName]);
    const limitQuotaName = quotaName.replace('requests.', 'limits.') as keyof typeof NAMESPACE_QUOTA;
    checkAtMost(construct, `resources.${requestName}`, resources[requestName], request, `resources.${limitName} ${resources[limitName]}`, limit);
    checkAtMost(construct, `resources.${requestName}`, resources[requestName], request,
      `the namespace quota's ${quotaName} ${NAMESPACE_QUOTA[quotaName]}`, parseQuantity(construct, quotaName, NAMESPACE_QUOTA[quotaName]));
    checkAtMost(construct, `resources.${limitName}`, resources[limitName], limit,
      `the namespace quota's ${limitQuotaName} ${NAMESPACE_QUOTA[limitQuotaName]}`, parseQuantity(construct, limitQuotaName, NAMESPACE_QUOTA[limitQuotaName]));
  }
}

function checkAtMost(construct: string, prop: string, text: string, value: number | undefined, boundText: string, bound: number | undefined): void {
  if (value !== undefined && bound !== undefined && value > bound) {
    throw new PropValidationError(construct, prop, `${text} is more than ${boundText}`);
  }
}
