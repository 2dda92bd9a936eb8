import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * An `IIpAddresses` that hands out subnet CIDRs from fixed lists instead of packing them.
 *
 * `ec2.IpAddresses.cidr()` packs subnets one after another (10.10.0.0/24, 10.10.1.0/24,
 * 10.10.2.0/24, …), so it cannot reproduce a layout such as the walkthrough's private subnets at
 * 10.10.10.0/24 and 10.10.11.0/24. This allocator keeps `ec2.Vpc` (routing, NAT, tags) and only
 * decides the CIDRs: the n-th requested subnet of a type gets the n-th CIDR listed for that type.
 */
export class FixedSubnetCidrs implements ec2.IIpAddresses {
  constructor(
    private readonly vpcCidr: string,
    private readonly cidrsByType: Partial<Record<ec2.SubnetType, string[]>>,
  ) {}

  allocateVpcCidr(): ec2.VpcIpamOptions {
    return { cidrBlock: this.vpcCidr };
  }

  allocateSubnetsCidr(input: ec2.AllocateCidrRequest): ec2.SubnetIpamOptions {
    const used = new Map<ec2.SubnetType, number>();
    const allocatedSubnets = input.requestedSubnets.map((request) => {
      const type = request.configuration.subnetType;
      const index = used.get(type) ?? 0;
      used.set(type, index + 1);
      const cidr = this.cidrsByType[type]?.[index];
      if (cidr === undefined) {
        throw new Error(`No CIDR configured for ${type} subnet #${index + 1} (${request.subnetConstructId})`);
      }
      return { cidr };
    });
    return { allocatedSubnets };
  }
}
