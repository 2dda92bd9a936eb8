#!/usr/bin/env bash
# The kubectl layer packages of package.json (dependencies and devDependencies), one a line: the
# library's own and those that the examples use for other Kubernetes versions.
set -euo pipefail
cd "$(dirname "$0")/../.."
node -e "const p = require('./package.json');
console.log(Object.keys({ ...p.dependencies, ...p.devDependencies }).filter((n) => n.startsWith('@aws-cdk/lambda-layer-kubectl-v')).sort().join('\n'))"
