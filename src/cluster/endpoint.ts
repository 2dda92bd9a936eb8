import { Annotations, Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { IConstruct } from 'constructs';
import { parseCidr, PropValidationError } from '../private/validation';

const CONSTRUCT = 'MlopsEksCluster';
const ANYWHERE = '0.0.0.0/0';

/**
 * The API endpoint's access: private (reachable only from inside the VPC, where the nodes and the
 * kubectl handler are) unless public access CIDRs are given; then public and private, the public
 * side reachable only from those CIDRs. Public access from anywhere is allowed but warned about.
 */
export function endpointAccessFor(scope: IConstruct, publicAccessCidrs: string[] | undefined): eks.EndpointAccess {
  if (publicAccessCidrs === undefined) {
    return eks.EndpointAccess.PRIVATE;
  }
  checkPublicAccessCidrs(publicAccessCidrs);
  if (publicAccessCidrs.includes(ANYWHERE)) {
    Annotations.of(scope).addWarningV2('cdk-mlops-eks:publicEndpointFromAnywhere',
      `publicAccessCidrs includes ${ANYWHERE}: the Kubernetes API endpoint is reachable from the whole internet ` +
      '(AWS Control Tower control CT.EKS.PR.1 fails). Name only the CIDRs kubectl runs from, e.g. your IP/32.');
  }
  return eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...publicAccessCidrs);
}

function checkPublicAccessCidrs(cidrs: string[]): void {
  if (Token.isUnresolved(cidrs)) {
    return;
  }
  if (cidrs.length === 0) {
    throw new PropValidationError(CONSTRUCT, 'publicAccessCidrs',
      'is empty; omit it to keep the endpoint private, or name the CIDRs kubectl runs from');
  }
  for (const cidr of cidrs) {
    if (!Token.isUnresolved(cidr)) {
      parseCidr(CONSTRUCT, 'publicAccessCidrs', cidr, 0, 32);
    }
  }
}
