#!/usr/bin/env bash
# Installs the packed library (dist/js/*.tgz, from `npx projen package:js`) into a fresh CDK app
# outside the repo, compiles a TypeScript app that uses all three constructs with default props,
# synthesizes it without an AWS account, and checks that the processor image asset is staged with its Dockerfile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tarball=$(ls -t "$root"/dist/js/cdk-mlops-eks@*.tgz 2>/dev/null | head -n 1 || true)
if [ -z "$tarball" ]; then
  echo "pack-smoke: no dist/js/cdk-mlops-eks@*.tgz; run 'npx projen compile && npx projen package:js' first" >&2
  exit 2
fi
cdk_version=$(node -p "require('$root/node_modules/aws-cdk-lib/package.json').version")
constructs_version=$(node -p "require('$root/node_modules/constructs/package.json').version")

app_dir=$(mktemp -d)
trap 'rm -rf "$app_dir"' EXIT
cd "$app_dir"
npm init -y >/dev/null
echo "pack-smoke: installing $(basename "$tarball") with aws-cdk-lib@$cdk_version into a fresh app"
npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "$tarball" "aws-cdk-lib@$cdk_version" "constructs@$constructs_version" >/dev/null

cat > app.ts <<'APP'
import { App, Stack } from 'aws-cdk-lib';
import { KubernetesVersion } from 'aws-cdk-lib/aws-eks-v2';
import { MlopsEksCluster, MlopsNetwork, PodIdentityPreprocessing } from 'cdk-mlops-eks';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'SmokeStack');
const network = new MlopsNetwork(stack, 'Network');
const eks = new MlopsEksCluster(stack, 'Eks', { vpc: network.vpc, kubernetesVersion: KubernetesVersion.V1_36 });
new PodIdentityPreprocessing(stack, 'Preprocessing', { cluster: eks.cluster });
app.synth();
APP
# Compile against the installed package's type declarations, as a TypeScript user would.
node "$root/node_modules/typescript/bin/tsc" --strict --module commonjs --target es2022 --skipLibCheck --types node \
  --typeRoots "$root/node_modules/@types" app.ts
node app.js

template=cdk.out/SmokeStack.template.json
for type in AWS::EC2::VPC AWS::EKS::Cluster AWS::EKS::Nodegroup AWS::EKS::PodIdentityAssociation Custom::AWSCDK-EKS-KubernetesResource; do
  grep -q "\"$type\"" "$template" || { echo "pack-smoke: $type missing from $template" >&2; exit 1; }
done
image_assets=$(node -p "Object.keys(require('./cdk.out/SmokeStack.assets.json').dockerImages || {}).length")
[ "$image_assets" = "1" ] || { echo "pack-smoke: expected 1 image asset, found $image_assets" >&2; exit 1; }
dockerfile=$(ls cdk.out/asset.*/Dockerfile 2>/dev/null | head -n 1 || true)
[ -n "$dockerfile" ] || { echo "pack-smoke: no staged asset has a Dockerfile" >&2; exit 1; }
asset_dir=$(dirname "$dockerfile")
for needed in package.json package-lock.json tsconfig.json src/runtime/cli.ts; do
  [ -e "$asset_dir/$needed" ] || { echo "pack-smoke: $needed missing from the staged image asset" >&2; exit 1; }
done
echo "pack-smoke: ok: synthesized the three constructs from the tarball; image asset $(basename "$asset_dir") has its Dockerfile"
