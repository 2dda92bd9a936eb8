import { Template } from 'aws-cdk-lib/assertions';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { objectOfKind, podSpecOf, synth } from './helpers';
import { ProcessorImage } from '../../src';

function nodeSelectorOf(image: ProcessorImage): Record<string, string> | undefined {
  const { preprocessing } = synth({ image, applyManifests: false });
  return podSpecOf(objectOfKind(preprocessing.manifests, 'CronJob')).nodeSelector;
}

describe('ProcessorImage placement', () => {
  test('the bundled image is built for linux/amd64 and its pods go to amd64 nodes', () => {
    const { preprocessing, stack } = synth({ image: ProcessorImage.bundled() });
    expect(podSpecOf(objectOfKind(preprocessing.manifests, 'CronJob')).nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    const assets = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(assets).toContain('cdk-hnb659fds-container-assets');
  });

  test('built for linux/arm64, its pods go to arm64 (Graviton) nodes', () => {
    expect(nodeSelectorOf(ProcessorImage.bundled({ platform: Platform.LINUX_ARM64 }))).toEqual({ 'kubernetes.io/arch': 'arm64' });
  });

  test('a user image says its platform, or runs anywhere', () => {
    const uri = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/preprocess:2.0.0';
    expect(nodeSelectorOf(ProcessorImage.fromImageUri(uri, { platform: Platform.LINUX_ARM64 }))).toEqual({ 'kubernetes.io/arch': 'arm64' });
    expect(nodeSelectorOf(ProcessorImage.fromImageUri(uri))).toBeUndefined();
  });

  test('another platform is refused, naming the prop', () => {
    expect(() => ProcessorImage.bundled({ platform: Platform.custom('linux/s390x') })).toThrow(/ProcessorImage: invalid 'platform': 'linux\/s390x' is not supported/);
  });
});
