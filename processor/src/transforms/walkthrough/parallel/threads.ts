/**
 * How many threads the processor uses by default: the CPUs its container may use. A Kubernetes
 * CPU limit becomes the container's cgroup CPU quota (cgroup v2 `cpu.max`, v1
 * `cpu.cfs_quota_us` / `cpu.cfs_period_us`), which os.availableParallelism() does not see: it
 * counts the node's CPUs. A fractional limit rounds up (1.5 CPUs: two threads share it).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';

export interface CgroupPaths {
  /** Where the cgroup file systems are mounted. @default /sys/fs/cgroup */
  readonly root: string;
  /** The process's cgroup membership. @default /proc/self/cgroup */
  readonly membership: string;
}

const DEFAULT_PATHS: CgroupPaths = { root: '/sys/fs/cgroup', membership: '/proc/self/cgroup' };
/** cgroup v1 directory names under which the cpu controller is mounted. */
const V1_CPU_DIRS = ['cpu,cpuacct', 'cpuacct,cpu', 'cpu'];

/** Threads to use: the cgroup CPU limit if there is one, at most the CPUs the OS offers, at least 1. */
export function defaultThreadCount(paths: CgroupPaths = DEFAULT_PATHS, cpus = availableParallelism()): number {
  const limit = cgroupCpuLimit(paths);
  return Math.max(1, Math.min(cpus, limit === undefined ? cpus : Math.ceil(limit)));
}

/**
 * The CPU limit (in CPUs, possibly fractional) of this process's cgroup or of an ancestor (the
 * smallest found), undefined when there is none. Inside a container the membership file may name
 * the host's path while the container's own cgroup is mounted at the root: every directory from
 * the named path up to the root is looked at.
 */
export function cgroupCpuLimit(paths: CgroupPaths = DEFAULT_PATHS): number | undefined {
  const limits: number[] = [];
  for (const line of readText(paths.membership)?.split('\n') ?? []) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (path === undefined) continue;
    if (controllers === '') {
      for (const dir of selfAndAncestors(paths.root, path)) {
        const limit = parseCpuMax(readText(join(dir, 'cpu.max')));
        if (limit !== undefined) limits.push(limit);
      }
    } else if (controllers.split(',').includes('cpu')) {
      for (const cpuDir of V1_CPU_DIRS) {
        for (const dir of selfAndAncestors(join(paths.root, cpuDir), path)) {
          const quota = Number(readText(join(dir, 'cpu.cfs_quota_us')));
          const period = Number(readText(join(dir, 'cpu.cfs_period_us')));
          if (quota > 0 && period > 0) limits.push(quota / period);
        }
      }
    }
  }
  return limits.length > 0 ? Math.min(...limits) : undefined;
}

/** `cpu.max` is `<quota> <period>` or `max <period>`. */
function parseCpuMax(text: string | undefined): number | undefined {
  const [quota, period] = (text ?? '').trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period);
  return quota !== 'max' && q > 0 && p > 0 ? q / p : undefined;
}

function selfAndAncestors(root: string, path: string): string[] {
  const dirs: string[] = [];
  for (let p = posix.normalize(`/${path}`); ; p = posix.dirname(p)) {
    dirs.push(join(root, p));
    if (p === '/') return dirs;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
