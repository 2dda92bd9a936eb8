// Runs in every test file's environment before the tests: see cdk-outdir.ts.
import { workerOutdir } from './cdk-outdir';

process.env.CDK_OUTDIR = workerOutdir(process.env.JEST_WORKER_ID);
