import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { acknowledge } from '../private/acknowledgements';

const ANYWHERE = ec2.AclCidr.anyIpv4();
const EPHEMERAL = ec2.AclTraffic.tcpPortRange(1024, 65535);

/**
 * The walkthrough's network ACLs (without its inbound SSH rule). They are stateless, so every
 * allowed inbound service also needs the ephemeral port range for replies, and the reverse.
 */
export function addWalkthroughNetworkAcls(scope: Construct, vpc: ec2.IVpc, vpcCidr: string): void {
  const insideVpc = ec2.AclCidr.ipv4(vpcCidr);

  const publicAcl = new ec2.NetworkAcl(scope, 'PublicNetworkAcl', {
    vpc,
    subnetSelection: { subnetType: ec2.SubnetType.PUBLIC },
  });
  allow(publicAcl, 'HttpIn', 100, ec2.TrafficDirection.INGRESS, ANYWHERE, ec2.AclTraffic.tcpPort(80));
  allow(publicAcl, 'HttpsIn', 110, ec2.TrafficDirection.INGRESS, ANYWHERE, ec2.AclTraffic.tcpPort(443));
  allow(publicAcl, 'EphemeralIn', 120, ec2.TrafficDirection.INGRESS, ANYWHERE, EPHEMERAL);
  allow(publicAcl, 'IcmpIn', 130, ec2.TrafficDirection.INGRESS, ANYWHERE, ec2.AclTraffic.icmp({ code: -1, type: -1 }));
  allow(publicAcl, 'VpcIn', 140, ec2.TrafficDirection.INGRESS, insideVpc, ec2.AclTraffic.allTraffic());
  allow(publicAcl, 'AllOut', 100, ec2.TrafficDirection.EGRESS, ANYWHERE, ec2.AclTraffic.allTraffic());

  const privateAcl = new ec2.NetworkAcl(scope, 'PrivateNetworkAcl', {
    vpc,
    subnetSelection: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  });
  allow(privateAcl, 'VpcIn', 100, ec2.TrafficDirection.INGRESS, insideVpc, ec2.AclTraffic.allTraffic());
  allow(privateAcl, 'EphemeralIn', 110, ec2.TrafficDirection.INGRESS, ANYWHERE, EPHEMERAL);
  allow(privateAcl, 'EphemeralUdpIn', 120, ec2.TrafficDirection.INGRESS, ANYWHERE, ec2.AclTraffic.udpPortRange(1024, 65535));
  allow(privateAcl, 'HttpOut', 100, ec2.TrafficDirection.EGRESS, ANYWHERE, ec2.AclTraffic.tcpPort(80));
  allow(privateAcl, 'HttpsOut', 110, ec2.TrafficDirection.EGRESS, ANYWHERE, ec2.AclTraffic.tcpPort(443));
  allow(privateAcl, 'DnsOut', 120, ec2.TrafficDirection.EGRESS, ANYWHERE, ec2.AclTraffic.udpPort(53));
  allow(privateAcl, 'VpcOut', 130, ec2.TrafficDirection.EGRESS, insideVpc, ec2.AclTraffic.allTraffic());

  for (const acl of [publicAcl, privateAcl]) {
    acknowledge(acl, 'AwsSolutions-VPC3', 'The walkthrough\'s network ACLs are opt-in (networkAcls: true), a second layer on top of security groups.');
  }
}

function allow(
  acl: ec2.NetworkAcl,
  id: string,
  ruleNumber: number,
  direction: ec2.TrafficDirection,
  cidr: ec2.AclCidr,
  traffic: ec2.AclTraffic,
): void {
  acl.addEntry(id, { ruleNumber, direction, cidr, traffic, ruleAction: ec2.Action.ALLOW });
}
