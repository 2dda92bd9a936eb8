import { Token } from 'aws-cdk-lib';
import type { WorkloadResourceValues } from './manifests/job';
import { NAMESPACE_QUOTA } from './manifests/namespace';
import { PropValidationError } from '../private/validation';

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
 * Requests must fit their limits, and, in a namespace this library creates, `parallelRuns` pods
 * must fit its quota together; otherwise Kubernetes refuses the pods long after the stack has
 * deployed. `parallelRunsProp` names what sets the number of parallel runs.
 */
export function checkWorkloadResources(
  construct: string,
  resources: WorkloadResourceValues,
  scratchVolumeSize: string,
  quota: { readonly parallelRuns: number; readonly parallelRunsProp: string } | undefined,
  resourcesProp: string = 'resources',
): void {
  parseQuantity(construct, 'scratchVolumeSize', scratchVolumeSize);
  const pairs: Array<[keyof WorkloadResourceValues, keyof WorkloadResourceValues, keyof typeof NAMESPACE_QUOTA]> = [
    ['cpuRequest', 'cpuLimit', 'requests.cpu'],
    ['memoryRequest', 'memoryLimit', 'requests.memory'],
  ];
  for (const [requestName, limitName, quotaName] of pairs) {
    const request = parseQuantity(construct, `${resourcesProp}.${requestName}`, resources[requestName]);
    const limit = parseQuantity(construct, `${resourcesProp}.${limitName}`, resources[limitName]);
    checkAtMost(construct, `${resourcesProp}.${requestName}`, resources[requestName], request, `${resourcesProp}.${limitName} ${resources[limitName]}`, limit);
    if (quota === undefined) continue;
    const limitQuotaName = quotaName.replace('requests.', 'limits.') as keyof typeof NAMESPACE_QUOTA;
    checkFitsQuota(construct, `${resourcesProp}.${requestName}`, resources[requestName], request, quotaName, quota);
    checkFitsQuota(construct, `${resourcesProp}.${limitName}`, resources[limitName], limit, limitQuotaName, quota);
  }
  if (quota !== undefined && Number(NAMESPACE_QUOTA.pods) < quota.parallelRuns) {
    throw new PropValidationError(construct, quota.parallelRunsProp,
      `${quota.parallelRuns} parallel runs are more than the namespace quota's ${NAMESPACE_QUOTA.pods} pods`);
  }
}

function checkFitsQuota(
  construct: string,
  prop: string,
  text: string,
  value: number | undefined,
  quotaName: keyof typeof NAMESPACE_QUOTA,
  quota: { readonly parallelRuns: number; readonly parallelRunsProp: string },
): void {
  const bound = parseQuantity(construct, quotaName, NAMESPACE_QUOTA[quotaName]);
  if (value === undefined || bound === undefined) return;
  if (value > bound) {
    throw new PropValidationError(construct, prop, `${text} is more than the namespace quota's ${quotaName} ${NAMESPACE_QUOTA[quotaName]}`);
  }
  if (value * quota.parallelRuns > bound) {
    throw new PropValidationError(construct, quota.parallelRunsProp,
      `${quota.parallelRuns} parallel runs × ${prop} ${text} are more than the namespace quota's ${quotaName} ${NAMESPACE_QUOTA[quotaName]}`);
  }
}

function checkAtMost(construct: string, prop: string, text: string, value: number | undefined, boundText: string, bound: number | undefined): void {
  if (value !== undefined && bound !== undefined && value > bound) {
    throw new PropValidationError(construct, prop, `${text} is more than ${boundText}`);
  }
}

/**
 * The resources of a pod whose containers run side by side (what the namespace quota counts):
 * each request and limit summed, CPU in millicores, memory in bytes. Undefined when one of them
 * is a token (the quota cannot be checked at synth then).
 */
export function sumResources(construct: string, parts: WorkloadResourceValues[]): WorkloadResourceValues | undefined {
  const sum = (name: keyof WorkloadResourceValues): number | undefined => {
    let total = 0;
    for (const part of parts) {
      const value = parseQuantity(construct, `resources.${name}`, part[name]);
      if (value === undefined) return undefined;
      total += value;
    }
    return total;
  };
  const cpu = (name: 'cpuRequest' | 'cpuLimit') => { const v = sum(name); return v === undefined ? undefined : `${Math.round(v * 1000)}m`; };
  const memory = (name: 'memoryRequest' | 'memoryLimit') => {
    const v = sum(name);
    if (v === undefined) return undefined;
    return Number.isInteger(v / 2 ** 20) ? `${v / 2 ** 20}Mi` : `${Math.round(v)}`;
  };
  const values = { cpuRequest: cpu('cpuRequest'), memoryRequest: memory('memoryRequest'), cpuLimit: cpu('cpuLimit'), memoryLimit: memory('memoryLimit') };
  if (Object.values(values).some((v) => v === undefined)) return undefined;
  return values as WorkloadResourceValues;
}
