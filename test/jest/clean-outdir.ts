import { rmSync } from 'fs';
import { CDK_OUTDIR_ROOT } from './cdk-outdir';

/** jest globalSetup: start every run with no synthesized output of an earlier one (see cdk-outdir.ts). */
export default function cleanCdkOutdir(): void {
  rmSync(CDK_OUTDIR_ROOT, { recursive: true, force: true });
}
