import { createHash } from 'crypto';
import * as os from 'os';
import * as path from 'path';

/**
 * An App created without an outdir synthesizes into a new temporary directory and stages its
 * assets there (the kubectl and AWS CLI layers alone are 57 MB), and nothing removes it: a test
 * run left tens of gigabytes in /tmp. Each jest worker synthesizes into one directory of its own
 * instead, where staged assets of the same hash are reused; cleaned at the start of every run.
 * The directory is named after the checkout, so runs in two clones never clean each other's.
 */
const CHECKOUT = createHash('sha256').update(path.resolve(__dirname, '..', '..')).digest('hex').slice(0, 12);
export const CDK_OUTDIR_ROOT = path.join(os.tmpdir(), `cdk-mlops-eks-jest-${CHECKOUT}`);

export function workerOutdir(workerId: string | undefined): string {
  return path.join(CDK_OUTDIR_ROOT, `worker-${workerId ?? '1'}`);
}
