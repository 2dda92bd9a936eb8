#!/usr/bin/env bash
# go test on the module from dist/go (npx projen package:go). go.mod points the library's module at
# dist/go; the local bindings of test/languages/bindings.sh (dependencies the Go module proxy does not
# serve) are added as replaces in a temporary copy of it, as jsii-pacmak does when it builds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
[ -f "$root/dist/go/cdkmlopseks/go.mod" ] || { echo "languages/go: no dist/go; run 'npx projen package:go' first" >&2; exit 2; }
(cd "$root" && bash test/languages/bindings.sh go)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/go.mod" "$work/local.go.mod"
for module_dir in "$root"/node_modules/*/dist/go/* "$root"/node_modules/@*/*/dist/go/*; do
  [ -f "$module_dir/go.mod" ] || continue
  module=$(sed -n 's/^module //p' "$module_dir/go.mod")
  go mod edit -replace "$module=$(cd "$module_dir" && pwd -P)" "$work/local.go.mod"
done
cd "$here"
# The awscdk packages are large: two compile jobs keep the machine usable (its CPUs are shared).
export GOFLAGS="${GOFLAGS:-} -p=2"
go mod tidy -modfile="$work/local.go.mod"
go test -modfile="$work/local.go.mod" -count=1 -v ./...
