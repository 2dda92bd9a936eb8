import * as fs from 'fs';
import * as path from 'path';
import { KubectlV32Layer } from '@aws-cdk/lambda-layer-kubectl-v32';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AddonVersions, ClusterObservability, MlopsEksCluster, MlopsEksClusterProps, MlopsNetwork } from '../../src';
import { addonVersionsFor, OBSERVED_ADDON_VERSIONS, PINNED_ADDON_VERSIONS, UNVERIFIED_ADDON_PINS } from '../../src/cluster/addon-versions';

const ADDON_NAMES: Record<keyof AddonVersions, string> = {
  vpcCni: 'vpc-cni',
  coreDns: 'coredns',
  kubeProxy: 'kube-proxy',
  podIdentityAgent: 'eks-pod-identity-agent',
  ebsCsiDriver: 'aws-ebs-csi-driver',
};

function newStack(): Stack {
  return new Stack(new App(), 'EksClusterStack');
}

/** The AddonVersion of each add-on in the template, keyed by add-on name. */
/** The versions of the five core add-ons (the observability add-on has its own table: observability.test.ts). */
function installedVersions(template: Template): Record<string, string | undefined> {
  const core: string[] = Object.values(ADDON_NAMES);
  return Object.fromEntries(Object.values<any>(template.findResources('AWS::EKS::Addon'))
    .filter((addon) => core.includes(addon.Properties.AddonName))
    .map((addon) => [addon.Properties.AddonName, addon.Properties.AddonVersion]));
}

function expected(versions: AddonVersions): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(ADDON_NAMES).map(([key, name]) => [name, versions[key as keyof AddonVersions]]));
}

function synth(props: Partial<MlopsEksClusterProps>): Template {
  const stack = newStack();
  new MlopsEksCluster(stack, 'Eks', {
    vpc: new MlopsNetwork(stack, 'Network').vpc,
    kubernetesVersion: eks.KubernetesVersion.V1_36,
    ...props,
  });
  return Template.fromStack(stack);
}

describe('the add-on versions pinned per Kubernetes version', () => {
  test('every supported Kubernetes version, 1.32 to 1.36, pins all five add-ons as EKS add-on versions', () => {
    expect(Object.keys(PINNED_ADDON_VERSIONS)).toEqual(['1.32', '1.33', '1.34', '1.35', '1.36']);
    for (const versions of Object.values(PINNED_ADDON_VERSIONS)) {
      expect(Object.keys(versions).sort()).toEqual(Object.keys(ADDON_NAMES).sort());
      for (const version of Object.values(versions)) {
        expect(version).toMatch(/^v\d+\.\d+\.\d+-eksbuild\.\d+$/);
      }
    }
  });

  test('each pin is either a version observed on that Kubernetes version or marked unverified, never both', () => {
    for (const [kubernetes, versions] of Object.entries(PINNED_ADDON_VERSIONS)) {
      for (const [key, version] of Object.entries(versions) as Array<[keyof AddonVersions, string]>) {
        const observed = OBSERVED_ADDON_VERSIONS[kubernetes]?.[key] === version;
        const unverified = (UNVERIFIED_ADDON_PINS[kubernetes] ?? []).includes(key);
        expect([kubernetes, ADDON_NAMES[key], version, observed || unverified, observed && unverified])
          .toEqual([kubernetes, ADDON_NAMES[key], version, true, false]);
      }
    }
  });

  test('the vpc-cni, EBS CSI and Pod Identity agent pins never observed on 1.32, 1.33 (and vpc-cni on 1.34) are the unverified ones', () => {
    expect(UNVERIFIED_ADDON_PINS).toEqual({
      1.32: ['vpcCni', 'podIdentityAgent', 'ebsCsiDriver'],
      1.33: ['podIdentityAgent', 'ebsCsiDriver'],
      1.34: ['vpcCni'],
    });
  });

  test('the README lists exactly the unverified pins', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| unverified \| (1\.\d+) \| `([a-z-]+)` \| `(v[^`]+)` \|$/gm)].map((m) => [m[1], m[2], m[3]]);
    const expectedRows = Object.entries(UNVERIFIED_ADDON_PINS).flatMap(([kubernetes, keys]) =>
      keys.map((key) => [kubernetes, ADDON_NAMES[key], PINNED_ADDON_VERSIONS[kubernetes][key]]));
    expect(rows).toEqual(expectedRows);
  });

  test('synth installs, for every supported Kubernetes version, only the version strings its row lists', () => {
    const supported = [
      eks.KubernetesVersion.V1_32, eks.KubernetesVersion.V1_33, eks.KubernetesVersion.V1_34, eks.KubernetesVersion.V1_35, eks.KubernetesVersion.V1_36,
    ];
    for (const kubernetes of supported) {
      expect(addonVersionsFor(kubernetes, {})).toEqual(PINNED_ADDON_VERSIONS[kubernetes.version]);
    }
  });

  test('kube-proxy is of the cluster\'s own minor version (it must never be newer than the API server)', () => {
    for (const [kubernetes, versions] of Object.entries(PINNED_ADDON_VERSIONS)) {
      expect(versions.kubeProxy.startsWith(`v${kubernetes}.`)).toBe(true);
    }
  });

  test('CoreDNS never moves backwards from one Kubernetes version to the next', () => {
    const coreDns = Object.values(PINNED_ADDON_VERSIONS).map((v) => v.coreDns.replace(/^v/, '').split(/[.-]/).slice(0, 3).map(Number));
    for (let i = 1; i < coreDns.length; i++) {
      const [a, b] = [coreDns[i - 1], coreDns[i]];
      expect(b[0] * 1e6 + b[1] * 1e3 + b[2]).toBeGreaterThanOrEqual(a[0] * 1e6 + a[1] * 1e3 + a[2]);
    }
  });
});

describe('MlopsEksCluster installs the pinned add-on versions', () => {
  test('Kubernetes 1.36: each add-on at the version pinned for 1.36', () => {
    expect(installedVersions(synth({}))).toEqual(expected(PINNED_ADDON_VERSIONS['1.36']));
  });

  test('Kubernetes 1.32: each add-on at the version pinned for 1.32', () => {
    const stack = newStack();
    new MlopsEksCluster(stack, 'Eks', {
      vpc: new MlopsNetwork(stack, 'Network').vpc,
      kubernetesVersion: eks.KubernetesVersion.V1_32,
      kubectlLayer: new KubectlV32Layer(stack, 'Kubectl'),
    });
    expect(installedVersions(Template.fromStack(stack))).toEqual(expected(PINNED_ADDON_VERSIONS['1.32']));
  });

  test('addonVersions overrides only the add-ons it names', () => {
    const versions = installedVersions(synth({ addonVersions: { coreDns: 'v1.14.4-eksbuild.1', vpcCni: undefined } }));
    expect(versions).toEqual(expected({ ...PINNED_ADDON_VERSIONS['1.36'], coreDns: 'v1.14.4-eksbuild.1' }));
  });

  test('a Kubernetes version without pins fails at synth, naming the add-ons, the prop and the versions with pins', () => {
    const stack = newStack();
    const layer = lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', 'arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1');
    const props = {
      vpc: new MlopsNetwork(stack, 'Network').vpc,
      kubernetesVersion: eks.KubernetesVersion.V1_37,
      kubectlLayer: layer,
      clusterAutoscaler: false,
      observability: ClusterObservability.containerInsights({ addonVersion: 'v6.2.0-eksbuild.1' }),
    };
    expect(() => new MlopsEksCluster(stack, 'Eks', { ...props, addonVersions: { coreDns: 'v1.14.4-eksbuild.1' } })).toThrow(
      "MlopsEksCluster: invalid 'addonVersions': no tested vpc-cni, kube-proxy, eks-pod-identity-agent, aws-ebs-csi-driver version " +
      'for kubernetesVersion 1.37 (pinned versions exist for 1.32, 1.33, 1.34, 1.35, 1.36): pass addonVersions.vpcCni, ' +
      'addonVersions.kubeProxy, addonVersions.podIdentityAgent, addonVersions.ebsCsiDriver');
    const all: AddonVersions = {
      vpcCni: 'v1.22.4-eksbuild.3',
      coreDns: 'v1.14.4-eksbuild.1',
      kubeProxy: 'v1.37.0-eksbuild.1',
      podIdentityAgent: 'v1.3.10-eksbuild.3',
      ebsCsiDriver: 'v1.66.0-eksbuild.1',
    };
    new MlopsEksCluster(stack, 'Eks2', { ...props, addonVersions: all });
    expect(installedVersions(Template.fromStack(stack))).toEqual(expected(all));
  });
});
