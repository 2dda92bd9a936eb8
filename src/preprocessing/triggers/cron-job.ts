import { Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { PreprocessingTriggerBindOptions, PreprocessingTriggerConfig } from './trigger';
import { PropValidationError } from '../../private/validation';
import { cronJob } from '../manifests/job';

const CRON = /^(\S+\s+){4}\S+$/;
/**
 * A schedule that never fires (there is no 31 February), for the suspended template of on-demand
 * runs: even if someone lifts `suspend`, nothing starts by surprise.
 */
const NEVER = '0 0 31 2 *';

/** onDemand(): a suspended CronJob that holds the pod template; runs are created from it by hand. */
export function bindOnDemand(_scope: Construct, options: PreprocessingTriggerBindOptions): PreprocessingTriggerConfig {
  return {
    manifests: [cronJob(options.jobName, options.namespace, options.labels, options.jobSpec, NEVER, true)],
    runCommand: runFromCronJob(options),
  };
}

/** schedule(cron): the same CronJob, firing on the schedule, never two runs at once. */
export function bindSchedule(_scope: Construct, options: PreprocessingTriggerBindOptions, cron: string): PreprocessingTriggerConfig {
  if (!Token.isUnresolved(cron) && !CRON.test(cron.trim())) {
    throw new PropValidationError('PodIdentityPreprocessing', 'trigger',
      `schedule '${cron}' must be a five-field cron expression such as '0 2 * * *'`);
  }
  return {
    manifests: [cronJob(options.jobName, options.namespace, options.labels, options.jobSpec, cron.trim(), false)],
    runCommand: runFromCronJob(options),
    schedule: cron.trim(),
  };
}

/** Starts a run from the CronJob's template; epoch seconds keep the name unique and within 63 characters (jobName ≤ 52). */
function runFromCronJob(options: PreprocessingTriggerBindOptions): string {
  return `kubectl -n ${options.namespace} create job ${options.jobName}-$(date +%s) --from=cronjob/${options.jobName}`;
}
