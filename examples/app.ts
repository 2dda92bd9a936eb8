/**
 * The walkthrough ("MLOps on Kubernetes: EKS Data Preprocessing with Pod Identity") rebuilt with
 * this library: NetworkStack and EksClusterStack with the walkthrough's names and tags, and this
 * library's safer defaults (see the README's table).
 *
 *   npm run synth:example                         # Kubernetes 1.36
 *   npx cdk synth -c kubernetesVersion=1.32       # the walkthrough's version
 *   npx cdk synth -c adminRoleArn=arn:aws:iam::123456789012:role/Admin   # who may run kubectl
 *   npx cdk synth -c publicAccessCidrs=203.0.113.7/32                    # kubectl from your machine
 *   npx cdk synth -c bucketNamePrefix=acme-eks-demo   # bucket names are global: pick a free prefix
 *
 * The workload runs once per uploaded object: after `cdk deploy`,
 * `aws s3 cp data/mock_data.csv s3://eks-demo-raw-data-bucket/data/` runs the pipeline.
 *
 * Stacks are environment-agnostic like the walkthrough's; `cdk deploy` uses your CLI's account
 * and region.
 */
import { KubectlV32Layer } from '@aws-cdk/lambda-layer-kubectl-v32';
import { Annotations, App, RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { MlopsEksCluster, MlopsNetwork, PodIdentityPreprocessing, PreprocessingTrigger } from '../src';

const APP_PREFIX = 'eks-demo';

export class NetworkStack extends Stack {
  public readonly network: MlopsNetwork;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.network = new MlopsNetwork(this, 'Network', {
      vpcName: `${APP_PREFIX}-vpc`,
      networkAcls: true,
    });
  }
}

export interface EksClusterStackProps extends StackProps {
  readonly network: MlopsNetwork;
  /** '1.36', or '1.32' for the walkthrough's version. */
  readonly kubernetesVersion: string;
  readonly adminRoleArn?: string;
  /** CIDRs that may reach the Kubernetes API from the internet; none keeps the endpoint private. */
  readonly publicAccessCidrs?: string[];
  /** Prefix of the five bucket names (they are global across AWS accounts). */
  readonly bucketNamePrefix: string;
}

export class EksClusterStack extends Stack {
  public readonly cluster: MlopsEksCluster;
  public readonly preprocessing: PodIdentityPreprocessing;

  constructor(scope: Construct, id: string, props: EksClusterStackProps) {
    super(scope, id, props);
    this.cluster = new MlopsEksCluster(this, 'EksCluster', {
      vpc: props.network.vpc,
      clusterName: `${APP_PREFIX}-eks-cluster`,
      nodegroupName: `${APP_PREFIX}-primary-nodegroup`,
      nodeLabels: { 'node-type': 'primary', 'environment': 'sandbox' },
      publicAccessCidrs: props.publicAccessCidrs,
      // KEDA starts the per-upload Jobs; it belongs to the cluster, not to the workload.
      keda: true,
      ...kubernetesVersionProps(this, props.kubernetesVersion),
    });
    // The walkthrough's node group name, kept as the walkthrough has it. A fixed name means that a
    // change replacing the node group (instance types, capacity type, AMI type, subnets) must also
    // rename it; see the README's "Kubernetes upgrades and other node group changes".
    Annotations.of(this.cluster).acknowledgeWarning('cdk-mlops-eks:fixedNodegroupName',
      'The walkthrough names its node group; a replacing change renames it in the same deploy (README).');
    if (props.adminRoleArn) {
      this.cluster.grantClusterAdmin(iam.Role.fromRoleArn(this, 'AdminRole', props.adminRoleArn));
    }

    this.preprocessing = new PodIdentityPreprocessing(this, 'DataPreprocessing', {
      cluster: this.cluster.cluster,
      namespace: 'mlops',
      serviceAccountName: 'data-preprocessing-sa',
      jobName: 'data-preprocessing',
      roleName: `${APP_PREFIX}-data-preprocessing-role`,
      // Every CSV uploaded under data/ is processed by its own Job (S3 → SQS → KEDA).
      trigger: PreprocessingTrigger.onUpload(),
      bucketNamePrefix: props.bucketNamePrefix,
      // The data buckets send their access logs to the walkthrough's logs bucket.
      createAdditionalBuckets: true,
      // A demo, like the walkthrough: buckets go away with the stack.
      bucketRemovalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
  }
}

/**
 * The Kubernetes version is always named, never left to the library: 1.36 (whose kubectl layer
 * the library bundles) or the walkthrough's 1.32 with its own kubectl layer.
 */
function kubernetesVersionProps(scope: Construct, version: string): { kubernetesVersion: eks.KubernetesVersion; kubectlLayer?: KubectlV32Layer } {
  if (version === '1.36') {
    return { kubernetesVersion: eks.KubernetesVersion.V1_36 };
  }
  if (version === '1.32') {
    return { kubernetesVersion: eks.KubernetesVersion.V1_32, kubectlLayer: new KubectlV32Layer(scope, 'KubectlLayer') };
  }
  throw new Error(`context kubernetesVersion must be '1.36' or '1.32', got '${version}'`);
}

/**
 * Builds the example app; context: kubernetesVersion ('1.36' | '1.32', default '1.36'), adminRoleArn,
 * publicAccessCidrs (comma-separated), bucketNamePrefix, owner.
 */
export function buildExampleApp(app: App): { network: NetworkStack; cluster: EksClusterStack } {
  const context = (key: string): string | undefined => app.node.tryGetContext(key);
  const network = new NetworkStack(app, 'NetworkStack', { description: 'eks-demo: VPC for the EKS MLOps preprocessing pipeline' });
  const cluster = new EksClusterStack(app, 'EksClusterStack', {
    description: 'eks-demo: EKS cluster, Pod Identity, buckets and the data-preprocessing Job',
    network: network.network,
    kubernetesVersion: String(context('kubernetesVersion') ?? '1.36'),
    adminRoleArn: context('adminRoleArn'),
    publicAccessCidrs: listContext(context('publicAccessCidrs')),
    bucketNamePrefix: String(context('bucketNamePrefix') ?? APP_PREFIX),
  });
  cluster.addStackDependency(network);

  const tags: Record<string, string> = {
    Application: APP_PREFIX,
    Owner: String(context('owner') ?? 'mlops-team'),
    Environment: 'Sandbox',
    Project: 'AWSInfra',
    ManagedBy: 'CDK',
  };
  for (const [key, value] of Object.entries(tags)) {
    Tags.of(app).add(key, value);
  }
  return { network, cluster };
}

/** A comma-separated context value as a list; unset or blank gives undefined. */
function listContext(value: string | undefined): string[] | undefined {
  const items = String(value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
  return items.length > 0 ? items : undefined;
}

if (require.main === module) {
  const app = new App();
  buildExampleApp(app);
  app.synth();
}
