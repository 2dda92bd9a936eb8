import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DockerImageAsset } from 'aws-cdk-lib/aws-ecr-assets';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { MlopsEksCluster, PodIdentityPreprocessing } from '../../src';
import { PROCESSOR_DIRECTORY } from '../../src/preprocessing/processor-image';

const ROOT = path.join(__dirname, '..', '..');

/** The files `npm pack` would publish, as paths relative to the package root. */
function packedFiles(): string[] {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(output)[0].files.map((f: { path: string }) => f.path);
}

/** The sources that processor/Dockerfile copies into the image build. */
function dockerfileSources(): string[] {
  const dockerfile = fs.readFileSync(path.join(PROCESSOR_DIRECTORY, 'Dockerfile'), 'utf8');
  return dockerfile.split('\n')
    .filter((line) => /^COPY\s/i.test(line) && !/--from=/i.test(line))
    .flatMap((line) => line.trim().split(/\s+/).slice(1, -1).filter((arg) => !arg.startsWith('--')));
}

function imageAssetHash(): string {
  const stack = new Stack(new App(), 'Hash');
  const cluster = new MlopsEksCluster(stack, 'Eks', {
    vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }), kubernetesVersion: eks.KubernetesVersion.V1_36,
  });
  new PodIdentityPreprocessing(stack, 'Preprocessing', { cluster: cluster.cluster, applyManifests: false });
  const asset = stack.node.findAll().find((c): c is DockerImageAsset => c instanceof DockerImageAsset);
  return asset!.assetHash;
}

describe('the npm package', () => {
  let files: string[];
  beforeAll(() => {
    files = packedFiles();
  });

  test('ships the docs and everything the processor image build copies', () => {
    // lib/ and .jsii exist only after `npx projen compile`; scripts/pack-smoke.sh checks the built package.
    expect(files).toEqual(expect.arrayContaining(['README.md', 'API.md', 'package.json', 'LICENSE', 'processor/Dockerfile']));
    const sources = dockerfileSources();
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      // A COPY source may be a glob (`launcher/*.go`): `*` matches within one path segment.
      const pattern = new RegExp(`^processor/${source.replace(/\/$/, '').replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`);
      const shipped = files.some((file) => pattern.test(file));
      expect({ source, shipped }).toEqual({ source, shipped: true });
    }
  });

  test('ships no tests, local data, build tools or processor build output', () => {
    const unwanted = files.filter((file) => /^(test|examples|scripts|data|out|cdk\.out|\.bench|\.ci|\.scratch|coverage)\//.test(file)
      || /^processor\/(lib|node_modules|tools)\//.test(file)
      || /^src\/.*\.ts$/.test(file));
    expect(unwanted).toEqual([]);
  });
});

describe('the processor image asset', () => {
  test('its hash ignores build output in processor/ and is the same for every synth', () => {
    const before = imageAssetHash();
    const scratch = path.join(PROCESSOR_DIRECTORY, 'lib', 'hash-probe.txt');
    fs.mkdirSync(path.dirname(scratch), { recursive: true });
    fs.writeFileSync(scratch, String(Date.now()));
    try {
      expect(imageAssetHash()).toBe(before);
    } finally {
      fs.rmSync(scratch);
    }
  });
});
