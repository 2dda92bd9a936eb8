import { Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { addWalkthroughNetworkAcls } from './network-acls';
import { FixedSubnetCidrs } from '../private/fixed-subnet-cidrs';
import { checkIntegerInRange, cidrContains, cidrsOverlap, CidrRange, parseCidr, PropValidationError } from '../private/validation';

/** Properties of {@link MlopsNetwork}. */
export interface MlopsNetworkProps {
  /**
   * The VPC's name (the `Name` tag).
   *
   * @default - a name derived from the construct path
   */
  readonly vpcName?: string;

  /**
   * The VPC's IPv4 CIDR block, from /16 to /24.
   *
   * @default '10.10.0.0/16' (the walkthrough's)
   */
  readonly vpcCidr?: string;

  /**
   * How many Availability Zones to use; EKS needs at least two.
   *
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * CIDR blocks of the public subnets, one per Availability Zone, inside `vpcCidr`.
   *
   * @default ['10.10.0.0/24', '10.10.1.0/24'] (the walkthrough's)
   */
  readonly publicSubnetCidrs?: string[];

  /**
   * CIDR blocks of the private subnets (egress through NAT), one per Availability Zone, inside
   * `vpcCidr`. EKS nodes and the control plane's network interfaces go here.
   *
   * @default ['10.10.10.0/24', '10.10.11.0/24'] (the walkthrough's)
   */
  readonly privateSubnetCidrs?: string[];

  /**
   * How many NAT gateways to create (at least one: private nodes pull images through it).
   * One per AZ survives an AZ outage; one is the walkthrough's cheaper choice.
   *
   * @default 1
   */
  readonly natGateways?: number;

  /**
   * Whether to record VPC flow logs (all traffic) to a CloudWatch Logs group.
   *
   * @default true
   */
  readonly flowLogs?: boolean;

  /**
   * How long flow log records are kept.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;

  /**
   * Whether to add an S3 gateway endpoint, so S3 traffic from private subnets stays on the AWS
   * network and costs no NAT data processing.
   *
   * @default true
   */
  readonly s3GatewayEndpoint?: boolean;

  /**
   * Whether to add the walkthrough's network ACLs on top of security groups: public subnets admit
   * HTTP, HTTPS, ephemeral ports and ICMP; private subnets admit the VPC and ephemeral ports and
   * send HTTP, HTTPS, DNS and VPC traffic. The walkthrough's inbound SSH rule is left out: nodes
   * have no SSH access (use SSM Session Manager).
   *
   * @default false
   */
  readonly networkAcls?: boolean;
}

const CONSTRUCT = 'MlopsNetwork';
const DEFAULT_VPC_CIDR = '10.10.0.0/16';
const DEFAULT_PUBLIC_SUBNET_CIDRS = ['10.10.0.0/24', '10.10.1.0/24'];
const DEFAULT_PRIVATE_SUBNET_CIDRS = ['10.10.10.0/24', '10.10.11.0/24'];

/**
 * The walkthrough's VPC for EKS: public and private subnets in two AZs with the walkthrough's
 * CIDRs, a NAT gateway, subnet tags for EKS load balancers, VPC flow logs and an S3 gateway
 * endpoint.
 */
export class MlopsNetwork extends Construct {
  /** The VPC. */
  public readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: MlopsNetworkProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    const natGateways = props.natGateways ?? 1;
    checkIntegerInRange(CONSTRUCT, 'maxAzs', maxAzs, 2, 6);
    checkIntegerInRange(CONSTRUCT, 'natGateways', natGateways, 1, maxAzs);
    const vpcCidr = props.vpcCidr ?? DEFAULT_VPC_CIDR;
    const publicCidrs = props.publicSubnetCidrs ?? DEFAULT_PUBLIC_SUBNET_CIDRS;
    const privateCidrs = props.privateSubnetCidrs ?? DEFAULT_PRIVATE_SUBNET_CIDRS;
    // An environment-agnostic stack only knows of two AZs; the VPC uses at most that many.
    const azCount = Math.min(maxAzs, Stack.of(this).availabilityZones.length);
    checkSubnetLayout(vpcCidr, azCount, publicCidrs, privateCidrs);

    const vpc = new ec2.Vpc(this, 'Vpc', {
      vpcName: props.vpcName,
      ipAddresses: new FixedSubnetCidrs(vpcCidr, {
        [ec2.SubnetType.PUBLIC]: publicCidrs,
        [ec2.SubnetType.PRIVATE_WITH_EGRESS]: privateCidrs,
      }),
      maxAzs,
      natGateways,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      subnetConfiguration: [
        // Only the NAT gateway (with its Elastic IP) and load balancers live in the public
        // subnets; nothing there should get a public IP by default (Control Tower CT.EC2.PR.11).
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: prefixOf(publicCidrs[0]), mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: prefixOf(privateCidrs[0]) },
      ],
      // Without this, the default security group would allow all traffic between its members.
      restrictDefaultSecurityGroup: true,
    });
    tagSubnetsForLoadBalancers(vpc);

    if (props.flowLogs ?? true) {
      const logGroup = new logs.LogGroup(this, 'FlowLogGroup', {
        retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
      });
      vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(logGroup),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
    }
    if (props.s3GatewayEndpoint ?? true) {
      vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    }
    if (props.networkAcls ?? false) {
      addWalkthroughNetworkAcls(this, vpc, vpcCidr);
    }
    this.vpc = vpc;
  }
}

/** Subnet roles that the AWS Load Balancer Controller and in-tree services look for. */
function tagSubnetsForLoadBalancers(vpc: ec2.Vpc): void {
  for (const subnet of vpc.publicSubnets) {
    Tags.of(subnet).add('kubernetes.io/role/elb', '1');
  }
  for (const subnet of vpc.privateSubnets) {
    Tags.of(subnet).add('kubernetes.io/role/internal-elb', '1');
  }
}

function prefixOf(cidr: string): number {
  return Number(cidr.split('/')[1]);
}

/** Every subnet CIDR is well formed, inside the VPC, one per AZ, and none overlap. */
function checkSubnetLayout(vpcCidr: string, azCount: number, publicCidrs: string[], privateCidrs: string[]): void {
  const vpcRange = parseCidr(CONSTRUCT, 'vpcCidr', vpcCidr, 16, 24);
  const seen: Array<{ prop: string; cidr: string; range: CidrRange }> = [];
  for (const [prop, cidrs] of [['publicSubnetCidrs', publicCidrs], ['privateSubnetCidrs', privateCidrs]] as const) {
    if (cidrs.length !== azCount) {
      throw new PropValidationError(CONSTRUCT, prop, `needs one CIDR per Availability Zone used: ${azCount}, got ${cidrs.length}`);
    }
    const prefixes = new Set(cidrs.map(prefixOf));
    if (prefixes.size > 1) {
      throw new PropValidationError(CONSTRUCT, prop, `all CIDRs must have the same prefix length, got ${cidrs.join(', ')}`);
    }
    for (const cidr of cidrs) {
      const range = parseCidr(CONSTRUCT, prop, cidr, 16, 28);
      if (!cidrContains(vpcRange, range)) {
        throw new PropValidationError(CONSTRUCT, prop, `'${cidr}' is outside vpcCidr '${vpcCidr}'`);
      }
      const clash = seen.find((other) => cidrsOverlap(other.range, range));
      if (clash) {
        throw new PropValidationError(CONSTRUCT, prop, `'${cidr}' overlaps '${clash.cidr}' (${clash.prop})`);
      }
      seen.push({ prop, cidr, range });
    }
  }
}
