import { Duration } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IDependable } from 'constructs';
import { bindOnDemand, bindSchedule } from './cron-job';
import { bindOnDeploy } from './on-deploy';
import { bindOnUpload } from './on-upload';

/** Options of {@link PreprocessingTrigger.onUpload}. */
export interface UploadTriggerOptions {
  /**
   * How many Jobs may run at once. Each Job processes one uploaded object; more uploads wait in
   * the queue. Together the Jobs must fit the namespace quota.
   *
   * @default 4
   */
  readonly maxParallelJobs?: number;

  /**
   * Only objects whose key ends with this suffix start a run.
   *
   * @default '.csv'
   */
  readonly suffix?: string;

  /**
   * How often a message is received (a Job tried it and failed for a reason other than bad
   * input) before it moves to the dead-letter queue.
   *
   * @default 3
   */
  readonly maxReceiveCount?: number;
}

/**
 * What a trigger is bound to: the workload's cluster, names, buckets and the JobSpec of one run.
 * {@link PodIdentityPreprocessing} builds these for you.
 */
export interface PreprocessingTriggerBindOptions {
  /** The cluster the workload runs on. */
  readonly cluster: eks.ICluster;
  /** The workload's namespace. */
  readonly namespace: string;
  /** The workload's name: the Job, CronJob or ScaledJob is named after it. */
  readonly jobName: string;
  /** Labels of the workload's objects and pods. */
  readonly labels: { [key: string]: string };
  /**
   * The batch/v1 JobSpec of one run of the processor on the configured input key
   * (environment INPUT_BUCKET, INPUT_KEY, OUTPUT_BUCKET, OUTPUT_PREFIX, …).
   */
  readonly jobSpec: { [key: string]: any };
  /** The role the pods use (Pod Identity). */
  readonly role: iam.IRole;
  /** The bucket inputs are read from. */
  readonly inputBucket: s3.IBucket;
  /** The key prefix inputs are read from. */
  readonly inputPrefix: string;
  /** How long one run may take. */
  readonly activeDeadline: Duration;
  /** The AWS region of the workload's stack. */
  readonly region: string;
  /** Whether the manifests are applied through the cluster (false: GitOps). */
  readonly applyManifests: boolean;
}

/** What a trigger adds to the workload. */
export interface PreprocessingTriggerConfig {
  /** The Kubernetes objects that start the pods (a Job, a CronJob, a ScaledJob, …). */
  readonly manifests: Array<{ [key: string]: any }>;

  /**
   * The command that starts a run by hand, if there is one.
   *
   * @default - none
   */
  readonly runCommand?: string;

  /**
   * The queue that feeds the runs, if any.
   *
   * @default - none
   */
  readonly queue?: sqs.IQueue;

  /**
   * Where messages that failed too often go.
   *
   * @default - none
   */
  readonly deadLetterQueue?: sqs.IQueue;

  /**
   * What the objects must wait for when applied (for example the chart that installs their
   * custom resource definitions).
   *
   * @default - nothing beyond the workload's own objects
   */
  readonly dependencies?: IDependable[];

  /**
   * The cron expression of a scheduled trigger (its missed-run alarm watches that period).
   *
   * @default - not scheduled
   */
  readonly schedule?: string;

  /**
   * How many runs may be active at once (checked against the namespace quota).
   *
   * @default 1
   */
  readonly maxParallelRuns?: number;

  /**
   * How often a queue message is received before it goes to the dead-letter queue (the queue-age
   * alarm lets a message be tried that often).
   *
   * @default - no queue
   */
  readonly maxReceiveCount?: number;
}

/** The signature of each trigger's bind function (one file per trigger). */
export type TriggerBinder = (scope: Construct, options: PreprocessingTriggerBindOptions) => PreprocessingTriggerConfig;

/**
 * When the preprocessing workload runs. A Job's pod template cannot change once the Job exists,
 * and CloudFormation applies manifests when the stack deploys, often before any input exists;
 * each trigger gives the pods a Kubernetes object that fits that life.
 */
export abstract class PreprocessingTrigger {
  /**
   * Runs only when you start one (the default). A suspended CronJob holds the pod template, so
   * nothing runs at deploy time and every deploy may change the template. Start a run with
   * `kubectl -n <namespace> create job <jobName>-$(date +%s) --from=cronjob/<jobName>`; the
   * construct's `runCommand` (and a stack output) prints it.
   */
  public static onDemand(): PreprocessingTrigger {
    return new BinderTrigger(bindOnDemand);
  }

  /**
   * Runs on a schedule: a CronJob that never runs two Jobs at once.
   *
   * @param cron five-field cron expression in UTC, e.g. `0 2 * * *`
   */
  public static schedule(cron: string): PreprocessingTrigger {
    return new BinderTrigger((scope, options) => bindSchedule(scope, options, cron));
  }

  /**
   * Runs once per deploy that changes the run: a Job named after a short hash of its spec, so a
   * deploy that changes the image, environment or resources creates a new Job (the old one is
   * left to finish and goes after `ttlAfterFinished`) instead of failing on the Job's immutable pod template. A
   * deploy that changes nothing of the Job leaves it alone.
   */
  public static onDeploy(): PreprocessingTrigger {
    return new BinderTrigger(bindOnDeploy);
  }

  /**
   * Runs once per object created under the input prefix: S3 event notifications go to an
   * encrypted SQS queue (with a dead-letter queue), and a KEDA ScaledJob starts one Job per
   * message, at most `maxParallelJobs` at once. Each run writes its outputs under
   * `<outputPrefix><key relative to the input prefix, without extension>/`. KEDA is installed on
   * the cluster by the cluster itself (`MlopsEksCluster` prop `keda: true`); a cluster without
   * it fails the synth.
   */
  public static onUpload(options: UploadTriggerOptions = {}): PreprocessingTrigger {
    return new BinderTrigger((scope, bindOptions) => bindOnUpload(scope, bindOptions, options));
  }

  /** Adds the trigger's AWS resources under `scope` and returns its Kubernetes objects. */
  public abstract bind(scope: Construct, options: PreprocessingTriggerBindOptions): PreprocessingTriggerConfig;
}

class BinderTrigger extends PreprocessingTrigger {
  constructor(private readonly binder: TriggerBinder) {
    super();
  }

  public bind(scope: Construct, options: PreprocessingTriggerBindOptions): PreprocessingTriggerConfig {
    return this.binder(scope, options);
  }
}
