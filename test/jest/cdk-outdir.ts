import * as os from 'os';
import * as path from 'path';

/**
 * An App created without an outdir synthesizes into a new temporary directory and stages its
 * assets there (the kubectl and AWS CLI layers alone are 57 MB), and nothing removes it: a test
 * run left tens of gigabytes in /tmp. Each jest worker synthesizes into one directory of its own
 * instead, where staged assets of the same hash are reused; cleaned at the start of every run.
 */
export const CDK_OUTDIR_ROOT = path.join(os.tmpdir(), 'cdk-mlops-eks-jest');

export function workerOutdir(workerId: string | undefined): string {
  return path.join(CDK_OUTDIR_ROOT, `worker-${workerId ?? '1'}`);
}
