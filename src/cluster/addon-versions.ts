import { Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { PropValidationError } from '../private/validation';

/**
 * Versions of the EKS add-ons that {@link MlopsEksCluster} installs. Each is an EKS add-on
 * version string such as `v1.20.4-eksbuild.1`; unset means the version this library pins for the
 * cluster's Kubernetes version.
 */
export interface AddonVersions {
  /**
   * Version of the Amazon VPC CNI add-on (`vpc-cni`).
   *
   * @default - the version pinned for the Kubernetes version (1.32 to 1.36); other versions need it given
   */
  readonly vpcCni?: string;
  /**
   * Version of the CoreDNS add-on (`coredns`).
   *
   * @default - the version pinned for the Kubernetes version (1.32 to 1.36); other versions need it given
   */
  readonly coreDns?: string;
  /**
   * Version of the kube-proxy add-on (`kube-proxy`).
   *
   * @default - the version pinned for the Kubernetes version (1.32 to 1.36); other versions need it given
   */
  readonly kubeProxy?: string;
  /**
   * Version of the EKS Pod Identity Agent add-on (`eks-pod-identity-agent`).
   *
   * @default - the version pinned for the Kubernetes version (1.32 to 1.36); other versions need it given
   */
  readonly podIdentityAgent?: string;
  /**
   * Version of the Amazon EBS CSI driver add-on (`aws-ebs-csi-driver`).
   *
   * @default - the version pinned for the Kubernetes version (1.32 to 1.36); other versions need it given
   */
  readonly ebsCsiDriver?: string;
}

/** Every add-on with its version: what the cluster installs. */
export type ResolvedAddonVersions = Required<AddonVersions>;

/** The EKS add-on name of each {@link AddonVersions} field. */
export const ADDON_NAMES: Readonly<Record<keyof AddonVersions, string>> = {
  vpcCni: 'vpc-cni',
  coreDns: 'coredns',
  kubeProxy: 'kube-proxy',
  podIdentityAgent: 'eks-pod-identity-agent',
  ebsCsiDriver: 'aws-ebs-csi-driver',
};

/**
 * The add-on versions pinned for each supported Kubernetes minor version. EKS never upgrades an
 * add-on by itself (an unpinned add-on stays on whatever was newest when it was created), so a
 * version bump of the cluster also moves its add-ons to the row of the new version.
 *
 * Where they come from (Amazon EKS User Guide, "latest version of the Amazon EKS add-on type for
 * each Kubernetes version" tables, as published in the user guide's Markdown pages in 2026):
 * - coredns: managing-coredns (https://docs.aws.amazon.com/eks/latest/userguide/managing-coredns.html#coredns-versions)
 * - kube-proxy: managing-kube-proxy (https://docs.aws.amazon.com/eks/latest/userguide/managing-kube-proxy.html#kube-proxy-versions)
 * - vpc-cni: managing-vpc-cni (https://docs.aws.amazon.com/eks/latest/userguide/managing-vpc-cni.html) lists one
 *   version for every supported Kubernetes version; its snapshot reached 1.34 only (v1.20.4-eksbuild.1), so the pin
 *   is v1.22.4-eksbuild.3, the version `describe-addon-versions` reported as the default on 1.33, 1.35 and 1.36
 *   clusters in 2026 deployment records.
 * - eks-pod-identity-agent and aws-ebs-csi-driver: the user guide publishes no table (one add-on version serves
 *   every supported Kubernetes version); the pins are the defaults `describe-addon-versions` reported for 1.34 to
 *   1.36 in 2026 deployment records.
 *
 * To refresh a row, or to add one for a new Kubernetes version, take the default version that EKS
 * reports for each add-on, then deploy the example on that version:
 *
 *   aws eks describe-addon-versions --kubernetes-version 1.36 --addon-name coredns \
 *     --query 'addons[].addonVersions[?compatibilities[?defaultVersion]].addonVersion' --output text
 *
 * (and the same for vpc-cni, kube-proxy, eks-pod-identity-agent and aws-ebs-csi-driver).
 */
export const PINNED_ADDON_VERSIONS: Readonly<Record<string, ResolvedAddonVersions>> = {
  1.32: { vpcCni: 'v1.22.4-eksbuild.3', coreDns: 'v1.11.4-eksbuild.40', kubeProxy: 'v1.32.13-eksbuild.16', podIdentityAgent: 'v1.3.10-eksbuild.3', ebsCsiDriver: 'v1.66.0-eksbuild.1' },
  1.33: { vpcCni: 'v1.22.4-eksbuild.3', coreDns: 'v1.12.4-eksbuild.18', kubeProxy: 'v1.33.10-eksbuild.13', podIdentityAgent: 'v1.3.10-eksbuild.3', ebsCsiDriver: 'v1.66.0-eksbuild.1' },
  1.34: { vpcCni: 'v1.22.4-eksbuild.3', coreDns: 'v1.13.2-eksbuild.11', kubeProxy: 'v1.34.6-eksbuild.13', podIdentityAgent: 'v1.3.10-eksbuild.3', ebsCsiDriver: 'v1.66.0-eksbuild.1' },
  1.35: { vpcCni: 'v1.22.4-eksbuild.3', coreDns: 'v1.14.3-eksbuild.3', kubeProxy: 'v1.35.3-eksbuild.13', podIdentityAgent: 'v1.3.10-eksbuild.3', ebsCsiDriver: 'v1.66.0-eksbuild.1' },
  1.36: { vpcCni: 'v1.22.4-eksbuild.3', coreDns: 'v1.14.3-eksbuild.3', kubeProxy: 'v1.36.0-eksbuild.14', podIdentityAgent: 'v1.3.10-eksbuild.3', ebsCsiDriver: 'v1.66.0-eksbuild.1' },
};

/**
 * The add-on versions seen as EKS's default for each Kubernetes version (the sources above): a pin
 * is verified when it is listed here for its Kubernetes version.
 */
export const OBSERVED_ADDON_VERSIONS: Readonly<Record<string, Partial<ResolvedAddonVersions>>> = {
  1.32: { coreDns: 'v1.11.4-eksbuild.40', kubeProxy: 'v1.32.13-eksbuild.16' },
  1.33: { vpcCni: 'v1.22.4-eksbuild.3', coreDns: 'v1.12.4-eksbuild.18', kubeProxy: 'v1.33.10-eksbuild.13' },
  1.34: { coreDns: 'v1.13.2-eksbuild.11', kubeProxy: 'v1.34.6-eksbuild.13', podIdentityAgent: 'v1.3.10-eksbuild.3', ebsCsiDriver: 'v1.66.0-eksbuild.1' },
  1.35: {
    vpcCni: 'v1.22.4-eksbuild.3',
    coreDns: 'v1.14.3-eksbuild.3',
    kubeProxy: 'v1.35.3-eksbuild.13',
    podIdentityAgent: 'v1.3.10-eksbuild.3',
    ebsCsiDriver: 'v1.66.0-eksbuild.1',
  },
  1.36: {
    vpcCni: 'v1.22.4-eksbuild.3',
    coreDns: 'v1.14.3-eksbuild.3',
    kubeProxy: 'v1.36.0-eksbuild.14',
    podIdentityAgent: 'v1.3.10-eksbuild.3',
    ebsCsiDriver: 'v1.66.0-eksbuild.1',
  },
};

/**
 * The pins never observed on their Kubernetes version: taken from a neighbouring version because
 * these add-ons publish one build for every supported Kubernetes version, but unverified (the
 * README lists them). Check them with `describe-addon-versions` before a production deploy on
 * these versions, or pass `addonVersions`.
 */
export const UNVERIFIED_ADDON_PINS: Readonly<Record<string, ReadonlyArray<keyof AddonVersions>>> = {
  1.32: ['vpcCni', 'podIdentityAgent', 'ebsCsiDriver'],
  1.33: ['podIdentityAgent', 'ebsCsiDriver'],
  1.34: ['vpcCni'],
};

const CONSTRUCT = 'MlopsEksCluster';

/**
 * The add-on versions to install: each given one, else the one pinned for the Kubernetes version.
 * A version without a pinned row (or a token) needs every add-on's version given; the error names
 * the add-ons that lack one and the versions that have pins.
 */
export function addonVersionsFor(kubernetesVersion: eks.KubernetesVersion, given: AddonVersions): ResolvedAddonVersions {
  const version = kubernetesVersion.version;
  const pinned = Token.isUnresolved(version) ? undefined : PINNED_ADDON_VERSIONS[version];
  const resolved = { ...pinned, ...definedOnly(given) };
  const missing = (Object.keys(ADDON_NAMES) as Array<keyof AddonVersions>).filter((key) => resolved[key] === undefined);
  if (missing.length > 0) {
    const shown = Token.isUnresolved(version) ? '(a token)' : version;
    throw new PropValidationError(CONSTRUCT, 'addonVersions',
      `no tested ${missing.map((key) => ADDON_NAMES[key]).join(', ')} version for kubernetesVersion ${shown} ` +
      `(pinned versions exist for ${Object.keys(PINNED_ADDON_VERSIONS).join(', ')}): pass ` +
      `${missing.map((key) => `addonVersions.${key}`).join(', ')}, e.g. the default that ` +
      '`aws eks describe-addon-versions --kubernetes-version <version> --addon-name <name>` reports');
  }
  return resolved as ResolvedAddonVersions;
}

/** The given versions without the keys set to undefined, so they do not hide a pin. */
function definedOnly(given: AddonVersions): AddonVersions {
  return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
}
