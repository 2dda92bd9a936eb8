import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MlopsNetwork, MlopsNetworkProps } from '../../src';

function synth(props?: MlopsNetworkProps, env?: { account: string; region: string }): Template {
  const stack = new Stack(new App(), 'NetworkStack', { env });
  new MlopsNetwork(stack, 'Network', props);
  return Template.fromStack(stack);
}

function subnetsTagged(template: Template, tagKey: string, tagValue: string): any[] {
  return Object.values(template.findResources('AWS::EC2::Subnet', {
    Properties: { Tags: Match.arrayWith([{ Key: tagKey, Value: tagValue }]) },
  }));
}

describe('MlopsNetwork with default props', () => {
  let template: Template;
  beforeAll(() => {
    template = synth();
  });

  test('the VPC is 10.10.0.0/16 with DNS support and hostnames', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: '10.10.0.0/16',
      EnableDnsHostnames: true,
      EnableDnsSupport: true,
    });
  });

  test('public subnets have the walkthrough CIDRs, the ELB role tag, and map no public IPs (only the NAT gateway lives there; CT.EC2.PR.11)', () => {
    const publicSubnets = subnetsTagged(template, 'aws-cdk:subnet-type', 'Public');
    expect(publicSubnets.map((s) => s.Properties.CidrBlock).sort()).toEqual(['10.10.0.0/24', '10.10.1.0/24']);
    for (const subnet of publicSubnets) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
      expect(subnet.Properties.Tags).toContainEqual({ Key: 'kubernetes.io/role/elb', Value: '1' });
    }
  });

  test('private subnets have the walkthrough CIDRs, no public IPs and the internal ELB tag', () => {
    const privateSubnets = subnetsTagged(template, 'aws-cdk:subnet-type', 'Private');
    expect(privateSubnets.map((s) => s.Properties.CidrBlock).sort()).toEqual(['10.10.10.0/24', '10.10.11.0/24']);
    for (const subnet of privateSubnets) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
      expect(subnet.Properties.Tags).toContainEqual({ Key: 'kubernetes.io/role/internal-elb', Value: '1' });
    }
  });

  test('the subnets span two Availability Zones', () => {
    const azIndexes = Object.values(template.findResources('AWS::EC2::Subnet'))
      .map((s: any) => s.Properties.AvailabilityZone['Fn::Select'][0]);
    expect(new Set(azIndexes)).toEqual(new Set([0, 1]));
  });

  test('one NAT gateway in a public subnet serves both private route tables', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    const natRoutes = template.findResources('AWS::EC2::Route', {
      Properties: { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: Match.anyValue() },
    });
    expect(Object.keys(natRoutes)).toHaveLength(2);
  });

  test('flow logs record all traffic to a log group kept for a year', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('an S3 gateway endpoint is attached to the private route tables', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('\\.s3$')])] },
      RouteTableIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('PrivateSubnet1RouteTable') }]),
    });
  });

  test('no network ACLs unless asked for', () => {
    template.resourceCountIs('AWS::EC2::NetworkAcl', 0);
  });

  test('the default security group is stripped of its allow-all rules', () => {
    template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });
});

describe('MlopsNetwork options', () => {
  test('the walkthrough NACLs: public admits web and ephemeral ports, private admits the VPC; no SSH', () => {
    const template = synth({ networkAcls: true, vpcName: 'eks-demo-vpc' });
    template.resourceCountIs('AWS::EC2::NetworkAcl', 2);
    template.hasResourceProperties('AWS::EC2::NetworkAclEntry', {
      Egress: false, Protocol: 6, PortRange: { From: 443, To: 443 }, CidrBlock: '0.0.0.0/0', RuleAction: 'allow',
    });
    template.hasResourceProperties('AWS::EC2::NetworkAclEntry', {
      Egress: false, Protocol: -1, CidrBlock: '10.10.0.0/16', RuleAction: 'allow',
    });
    template.hasResourceProperties('AWS::EC2::NetworkAclEntry', {
      Egress: true, Protocol: 17, PortRange: { From: 53, To: 53 },
    });
    const sshRules = template.findResources('AWS::EC2::NetworkAclEntry', {
      Properties: { Egress: false, PortRange: { From: 22, To: 22 } },
    });
    expect(Object.keys(sshRules)).toHaveLength(0);
    template.hasResourceProperties('AWS::EC2::VPC', {
      Tags: Match.arrayWith([{ Key: 'Name', Value: 'eks-demo-vpc' }]),
    });
  });

  test('flow logs, the S3 endpoint and extra NAT gateways follow their props', () => {
    const template = synth({ flowLogs: false, s3GatewayEndpoint: false, natGateways: 2 });
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  test('custom CIDRs in three AZs of a known region are used as given', () => {
    const template = synth({
      vpcCidr: '172.20.0.0/20',
      maxAzs: 3,
      publicSubnetCidrs: ['172.20.0.0/26', '172.20.0.64/26', '172.20.0.128/26'],
      privateSubnetCidrs: ['172.20.4.0/24', '172.20.5.0/24', '172.20.6.0/24'],
    }, { account: '123456789012', region: 'eu-west-1' });
    const cidrs = Object.values(template.findResources('AWS::EC2::Subnet')).map((s: any) => s.Properties.CidrBlock).sort();
    expect(cidrs).toEqual(['172.20.0.0/26', '172.20.0.128/26', '172.20.0.64/26', '172.20.4.0/24', '172.20.5.0/24', '172.20.6.0/24']);
  });
});

describe('MlopsNetwork validation names the prop', () => {
  test.each<[MlopsNetworkProps, RegExp]>([
    [{ vpcCidr: '10.10.0.0' }, /invalid 'vpcCidr'.*not an IPv4 CIDR/],
    [{ vpcCidr: '10.10.0.0/8' }, /invalid 'vpcCidr'.*prefix length/],
    [{ vpcCidr: '10.10.1.0/16' }, /invalid 'vpcCidr'.*host bits/],
    [{ vpcCidr: '10.300.0.0/16' }, /invalid 'vpcCidr'.*above 255/],
    [{ maxAzs: 1 }, /invalid 'maxAzs'/],
    [{ natGateways: 0 }, /invalid 'natGateways'/],
    [{ natGateways: 3 }, /invalid 'natGateways'.*from 1 to 2/],
    [{ publicSubnetCidrs: ['10.10.0.0/24'] }, /invalid 'publicSubnetCidrs'.*one CIDR per Availability Zone/],
    [{ privateSubnetCidrs: ['10.10.10.0/24', '10.20.11.0/24'] }, /invalid 'privateSubnetCidrs'.*outside vpcCidr/],
    [{ privateSubnetCidrs: ['10.10.1.0/24', '10.10.11.0/24'] }, /invalid 'privateSubnetCidrs'.*overlaps '10.10.1.0\/24' \(publicSubnetCidrs\)/],
    [{ publicSubnetCidrs: ['10.10.0.0/24', '10.10.2.0/25'] }, /invalid 'publicSubnetCidrs'.*same prefix length/],
  ])('%j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
