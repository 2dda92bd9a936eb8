#!/usr/bin/env bash
# The Python package as a user installs it: a fresh venv with the wheel from dist/python (npx projen
# package:python) and, from PyPI, the aws-cdk-lib, constructs and kubectl layer versions that npm
# installed (or their local bindings, test/languages/bindings.sh); then pytest runs test_twin.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
wheel=$(ls -t dist/python/cdk_mlops_eks-*.whl 2>/dev/null | head -n 1 || true)
[ -n "$wheel" ] || { echo "languages/python: no dist/python/*.whl; run 'npx projen package:python' first" >&2; exit 2; }
bash test/languages/bindings.sh python

version_of() { node -p "require('$1/package.json').version"; }
requirements=(
  "$wheel"
  "aws-cdk-lib==$(version_of aws-cdk-lib)"
  "constructs==$(version_of constructs)"
  "pytest==9.0.3"
)
# The kubectl layers of package.json (the library's and the examples'), by their PyPI names.
while read -r layer; do
  requirements+=("aws-cdk.${layer#@aws-cdk/}==$(version_of "$layer")")
done < <(bash test/languages/kubectl-layers.sh)
# Local bindings (linked under node_modules/*/dist/python) are offered to pip beside PyPI.
find_links=()
for dir in node_modules/*/dist/python node_modules/@*/*/dist/python; do
  [ -d "$dir" ] && find_links+=(--find-links "$(cd "$dir" && pwd -P)")
done

venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --no-compile "${find_links[@]}" "${requirements[@]}"
# cdk runs examples/python/cdk.json's `python3 app.py`: the venv's python3.
PYTHONDONTWRITEBYTECODE=1 PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -p no:cacheprovider -q test/languages/python
