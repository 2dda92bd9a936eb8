import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Token } from 'aws-cdk-lib';

/**
 * Strict schema validation of Kubernetes objects for the tests: the Kubernetes API schema of
 * kubernetes-models 5.x and the KEDA CRD schema of @kubernetes-models/keda, with unknown fields
 * rejected at every depth. Those packages are ESM-only, which jest (ts-jest, CommonJS) cannot
 * load, so k8s-schema.worker.mjs validates in a child process: one process per call, so pass all
 * the objects of a test file at once.
 */
const WORKER = path.join(__dirname, 'k8s-schema.worker.mjs');

/** Stands in for a string known only at deploy time (a CDK token such as a bucket name). */
export const DEPLOY_TIME_STRING = 'resolved-at-deploy-time';
/** Stands in for a number known only at deploy time. */
export const DEPLOY_TIME_NUMBER = 1;

/**
 * The problems of each object, in the order given (an empty list for an object that validates).
 * Each problem names the JSON pointer of the offending field: `/spec/backoffLimt: unknown field`.
 */
export function kubernetesSchemaProblems(objects: ReadonlyArray<Record<string, any>>): string[][] {
  const run = spawnSync(process.execPath, [WORKER], {
    input: JSON.stringify(objects.map(withoutTokens)),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error || run.status !== 0) {
    throw new Error(`schema validation did not run (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr}`);
  }
  return JSON.parse(run.stdout);
}

/**
 * All problems of all objects, each prefixed by the object it belongs to
 * (`batch/v1 Job data-preprocessing: /spec/backoffLimt: unknown field`); empty when every object
 * validates, so a test reads `expect(validateKubernetesObjects(objects)).toEqual([])`.
 */
export function validateKubernetesObjects(objects: ReadonlyArray<Record<string, any>>): string[] {
  const problems = kubernetesSchemaProblems(objects);
  return objects.flatMap((object, index) => problems[index].map((problem) => `${describeObject(object, index)}: ${problem}`));
}

function describeObject(object: Record<string, any>, index: number): string {
  return [object.apiVersion, object.kind, object.metadata?.name ?? `#${index}`].filter((part) => part !== undefined).join(' ');
}

function withoutTokens(value: any): any {
  if (typeof value === 'string') {
    return Token.isUnresolved(value) ? DEPLOY_TIME_STRING : value;
  }
  if (typeof value === 'number') {
    return Token.isUnresolved(value) ? DEPLOY_TIME_NUMBER : value;
  }
  if (Array.isArray(value)) {
    return value.map(withoutTokens);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutTokens(v)]));
  }
  return value;
}
