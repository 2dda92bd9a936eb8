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
 * Default instance types per architecture and capacity type. On demand, one burstable 2 vCPU /
 * 4 GiB type; for Spot, several types in different capacity pools so a reclaim in one pool does
 * not stop scaling (the walkthrough's three for x86; for Graviton the same shapes).
 */
const DEFAULT_INSTANCE_TYPES: Record<ec2.InstanceArchitecture, Record<'onDemand' | 'spot', string[]>> = {
  [ec2.InstanceArchitecture.X86_64]: { onDemand: ['t3.medium'], spot: ['t3.medium', 't3a.medium', 'm5.large'] },
  [ec2.InstanceArchitecture.ARM_64]: { onDemand: ['t4g.medium'], spot: ['t4g.medium', 'm7g.large', 'm6g.large'] },
};

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
