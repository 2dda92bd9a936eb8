import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { PropValidationError } from '../private/validation';

/** Where the cluster's pods run. */
export enum ComputeMode {
  /**
   * One EKS managed node group (the walkthrough's), with the library's launch template (IMDSv2,
   * hop limit 1, encrypted gp3), the core add-ons, and the Kubernetes Cluster Autoscaler growing
   * and shrinking it between `minSize` and `maxSize`.
   */
  MANAGED_NODEGROUP = 'MANAGED_NODEGROUP',
  /**
   * EKS Auto Mode: EKS launches, patches and removes nodes itself from its built-in `system` and
   * `general-purpose` node pools (on-demand, amd64, C/M/R instances of generation 5 or newer), and
   * runs networking, DNS, block storage and the Pod Identity agent on the nodes. No node group, no
   * core add-ons, no Cluster Autoscaler.
   */
  AUTO_MODE = 'AUTO_MODE',
}

const CONSTRUCT = 'MlopsEksCluster';

/**
 * Default instance types per architecture and capacity type, all of one size (2 vCPU, 4 GiB, the
 * walkthrough's t3.medium). On demand, one burstable type; for Spot, several types in different
 * capacity pools so a reclaim in one pool does not stop scaling. The walkthrough's Spot list mixed
 * in m5.large (8 GiB), which the Cluster Autoscaler cannot plan with (see checkEqualSizes).
 */
const DEFAULT_INSTANCE_TYPES: Record<ec2.InstanceArchitecture, Record<'onDemand' | 'spot', string[]>> = {
  [ec2.InstanceArchitecture.X86_64]: {
    onDemand: ['t3.medium'],
    spot: ['t3.medium', 't3a.medium', 'c5.large', 'c5a.large', 'c6i.large', 'c6a.large'],
  },
  [ec2.InstanceArchitecture.ARM_64]: { onDemand: ['t4g.medium'], spot: ['t4g.medium', 'c6g.large', 'c7g.large'] },
};

/** vCPUs and memory of an instance type. */
interface InstanceSize {
  readonly vcpus: number;
  readonly memoryGiB: number;
}

/** Burstable families: sizes from nano to 2xlarge. */
const BURSTABLE_FAMILIES = new Set(['t3', 't3a', 't4g']);
const BURSTABLE_SIZES: Record<string, InstanceSize> = {
  'nano': { vcpus: 2, memoryGiB: 0.5 },
  'micro': { vcpus: 2, memoryGiB: 1 },
  'small': { vcpus: 2, memoryGiB: 2 },
  'medium': { vcpus: 2, memoryGiB: 4 },
  'large': { vcpus: 2, memoryGiB: 8 },
  'xlarge': { vcpus: 4, memoryGiB: 16 },
  '2xlarge': { vcpus: 8, memoryGiB: 32 },
};
/**
 * Current compute (c), general purpose (m) and memory optimized (r) families, whose memory is a
 * fixed number of GiB per vCPU: 2, 4 and 8.
 */
const MEMORY_PER_VCPU: Record<string, number> = { c: 2, m: 4, r: 8 };
const FIXED_RATIO_FAMILY = /^([cmr])([5-8])(a|ad|d|g|gd|i|id)?$/;

/** The size of an instance type this library knows, or undefined (an unknown family, a token). */
export function instanceSizeOf(instanceType: string): InstanceSize | undefined {
  const [family, size] = instanceType.split('.');
  if (size === undefined) {
    return undefined;
  }
  if (BURSTABLE_FAMILIES.has(family)) {
    return BURSTABLE_SIZES[size];
  }
  const fixedRatio = FIXED_RATIO_FAMILY.exec(family);
  const vcpus = vcpusOfSize(size);
  if (!fixedRatio || vcpus === undefined) {
    return undefined;
  }
  return { vcpus, memoryGiB: vcpus * MEMORY_PER_VCPU[fixedRatio[1]] };
}

/** vCPUs of a size name of the c/m/r families: medium 1, large 2, xlarge 4, Nxlarge 4N. */
function vcpusOfSize(size: string): number | undefined {
  const named: Record<string, number> = { medium: 1, large: 2, xlarge: 4 };
  if (named[size] !== undefined) {
    return named[size];
  }
  const multiple = /^(\d+)xlarge$/.exec(size);
  return multiple ? Number(multiple[1]) * 4 : undefined;
}

/**
 * The Cluster Autoscaler plans a scale-up with one instance type of a node group and expects the
 * others to be the same size (its AWS README: "same number of vCPUs and amount of RAM"): a bigger
 * first type leaves pods pending on the smaller nodes it actually gets, a smaller one wastes them.
 * Given types of known, different sizes are refused; types of unknown size are not judged.
 */
export function checkEqualSizes(instanceTypes: ec2.InstanceType[] | undefined): void {
  const sized = (instanceTypes ?? [])
    .map((instanceType) => instanceType.toString())
    .filter((name) => !Token.isUnresolved(name))
    .map((name) => ({ name, size: instanceSizeOf(name) }))
    .filter((entry): entry is { name: string; size: InstanceSize } => entry.size !== undefined);
  const [first, ...rest] = sized;
  const other = rest.find(({ size }) => size.vcpus !== first.size.vcpus || size.memoryGiB !== first.size.memoryGiB);
  if (other) {
    throw new PropValidationError(CONSTRUCT, 'instanceTypes',
      `${other.name} (${describeSize(other.size)}) is not the size of ${first.name} (${describeSize(first.size)}): ` +
      'the Cluster Autoscaler plans with one type of a node group and needs all of them the same vCPUs and memory; ' +
      'list types of one size, or set clusterAutoscaler: false');
  }
}

function describeSize(size: InstanceSize): string {
  return `${size.vcpus} vCPU, ${size.memoryGiB} GiB`;
}

/** The node group's instance types: the given ones, or the defaults for the architecture and capacity type. */
export function nodeInstanceTypes(
  architecture: ec2.InstanceArchitecture,
  capacityType: eks.CapacityType,
  given: ec2.InstanceType[] | undefined,
): ec2.InstanceType[] {
  if (given) {
    return given;
  }
  const names = DEFAULT_INSTANCE_TYPES[architecture][capacityType === eks.CapacityType.SPOT ? 'spot' : 'onDemand'];
  return names.map((name) => new ec2.InstanceType(name));
}

/** The Amazon Linux 2023 AMI type for the architecture. */
export function defaultAmiType(architecture: ec2.InstanceArchitecture): eks.NodegroupAmiType {
  return architecture === ec2.InstanceArchitecture.ARM_64
    ? eks.NodegroupAmiType.AL2023_ARM_64_STANDARD
    : eks.NodegroupAmiType.AL2023_X86_64_STANDARD;
}

/** The container image platform that runs on nodes of the architecture. */
export function imagePlatformFor(architecture: ec2.InstanceArchitecture): Platform {
  return architecture === ec2.InstanceArchitecture.ARM_64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64;
}

/** Given instance types and AMI type must be of the node architecture. */
export function checkArchitecture(
  architecture: ec2.InstanceArchitecture,
  instanceTypes: ec2.InstanceType[] | undefined,
  amiType: eks.NodegroupAmiType | undefined,
): void {
  for (const instanceType of instanceTypes ?? []) {
    const actual = architectureOf(instanceType);
    if (actual !== undefined && actual !== architecture) {
      throw new PropValidationError(CONSTRUCT, 'instanceTypes',
        `${instanceType} is ${actual} but nodeArchitecture is ${architecture}; set nodeArchitecture to match`);
    }
  }
  if (amiType !== undefined && amiType.includes('ARM_64') !== (architecture === ec2.InstanceArchitecture.ARM_64)) {
    throw new PropValidationError(CONSTRUCT, 'amiType', `${amiType} does not run on ${architecture} nodes (nodeArchitecture)`);
  }
}

/** The architecture of an instance type, or undefined when it is a token or an unknown family. */
function architectureOf(instanceType: ec2.InstanceType): ec2.InstanceArchitecture | undefined {
  try {
    return instanceType.architecture;
  } catch {
    return undefined;
  }
}
