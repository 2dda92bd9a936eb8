import { spawnSync, SpawnSyncOptionsWithStringEncoding } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';

/** The control plane test/control-plane/run.sh started, as it describes it in the environment. */
export interface ControlPlane {
  readonly kubeconfig: string;
  /** The kubectl of the kubectl layer package. */
  readonly kubectl: string;
  readonly sqsEndpoint: string;
  /** A python3 that can import boto3 (the handler imports it). */
  readonly python: string;
  /** Holds the `aws` stand-in for `aws eks update-kubeconfig`. */
  readonly shimDir: string;
  /** Where the handler writes its kubeconfig and manifest (its TEST_OUTDIR). */
  readonly handlerDir: string;
}

let described: ControlPlane | undefined;

export function controlPlane(): ControlPlane {
  if (described) return described;
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run this through \`npm run test:cluster\` (test/control-plane/run.sh)`);
    return value;
  };
  described = {
    kubeconfig: env('CONTROL_PLANE_KUBECONFIG'),
    kubectl: env('CONTROL_PLANE_KUBECTL'),
    sqsEndpoint: env('CONTROL_PLANE_SQS_ENDPOINT'),
    python: env('CONTROL_PLANE_PYTHON'),
    shimDir: env('CONTROL_PLANE_SHIM'),
    handlerDir: mkdtempSync(join(env('CONTROL_PLANE_STATE'), 'handler-')),
  };
  return described;
}

export interface KubectlResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * How long one kubectl call may take: each talks to a local API server, so a minute means it hangs.
 * spawnSync blocks Node's event loop, so jest's own timeout could not stop a hung call: the
 * deadline has to be the call's.
 */
export const KUBECTL_TIMEOUT_MS = 60_000;

/**
 * spawnSync with a deadline: a command still running at `timeoutMs` is killed (SIGKILL) and the
 * call throws, naming it, instead of blocking the run until CI's own limit.
 */
export function runWithDeadline(
  command: string,
  args: string[],
  timeoutMs: number,
  options: Omit<SpawnSyncOptionsWithStringEncoding, 'encoding' | 'timeout'> = {},
): KubectlResult {
  const result = spawnSync(command, args, { ...options, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  if (result.error) {
    const timedOut = (result.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    throw new Error(`${command} ${args.join(' ')} ${timedOut ? `timed out after ${timeoutMs / 1000} s` : `failed to run: ${result.error.message}`}`);
  }
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs kubectl as the cluster's admin; `input` goes to its stdin. */
export function kubectlRun(args: string[], input?: string): KubectlResult {
  const plane = controlPlane();
  return runWithDeadline(plane.kubectl, ['--kubeconfig', plane.kubeconfig, ...args], KUBECTL_TIMEOUT_MS, { input });
}

export function kubectl(...args: string[]): string {
  const result = kubectlRun(args);
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

export type K8sObject = Record<string, any>;

/** The objects of these kinds (comma-separated, as kubectl takes them) in a namespace, or in all. */
export function objects(kinds: string, namespace?: string, selector?: string): K8sObject[] {
  const scope = namespace ? ['-n', namespace] : ['-A'];
  const select = selector ? ['-l', selector] : [];
  return JSON.parse(kubectl('get', kinds, ...scope, ...select, '-o', 'json')).items;
}

/** `Kind/name` of each object (namespaced ones as `Kind/namespace/name`), sorted. */
export function names(items: K8sObject[]): string[] {
  return items.map((o) => [o.kind, o.metadata.namespace, o.metadata.name].filter(Boolean).join('/')).sort();
}

/** The kinds a workload of the library creates, and those its runs create. */
export const WORKLOAD_KINDS = 'serviceaccounts,networkpolicies,jobs,cronjobs,scaledjobs.keda.sh,triggerauthentications.keda.sh';
export const NAMESPACE_KINDS = 'resourcequotas,limitranges';

/** Polls until `check` returns a value that is not undefined (no timing assertion: a deadline for a hung controller). */
export async function eventually<T>(what: string, check: () => T | undefined, timeoutMs = 90_000, intervalMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Creates a node that KWOK plays (amd64 and arm64 labels are set by the caller's needs). */
export function createKwokNode(name: string, labels: Record<string, string>): void {
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, annotations: { 'kwok.x-k8s.io/node': 'fake' }, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'type': 'kwok', ...labels } },
    spec: {},
    status: {
      allocatable: { 'cpu': '32', 'memory': '128Gi', 'pods': '110', 'ephemeral-storage': '500Gi' },
      capacity: { 'cpu': '32', 'memory': '128Gi', 'pods': '110', 'ephemeral-storage': '500Gi' },
    },
  };
  const result = kubectlRun(['apply', '-f', '-'], JSON.stringify(node));
  if (result.status !== 0) throw new Error(`creating node ${name} failed: ${result.stderr}`);
  // A new node is tainted not-ready until the node lifecycle controller sees it ready; that
  // controller is off (no kubelet heartbeats to watch), so the taint goes here.
  kubectl('taint', 'node', name, 'node.kubernetes.io/not-ready:NoSchedule-');
}
