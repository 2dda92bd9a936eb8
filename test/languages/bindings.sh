#!/usr/bin/env bash
# Local jsii bindings for the dependencies that a language's registry does not serve at the version
# that npm installed (the version the TypeScript side is tested with).
#
#   bash test/languages/bindings.sh python|java|go
#
# The registries these machines reach lag npm (seen here: PyPI has no aws-cdk-lib 2.276.0, Maven
# Central stops at aws-cdk-lib 2.263.0 and has no kubectl-v33+ layer, the Go proxy has no
# awscdk-kubectl-go). For each such package this script builds the binding from node_modules with
# jsii-pacmak (the tool that builds the published ones), keeps it in a cache keyed by name and version
# ($LANGUAGES_CACHE, default ~/.cache/cdk-mlops-eks/languages), and links it as
# node_modules/<package>/dist/<target>: where jsii-pacmak looks for local dependencies when it packages
# this library (a Maven repository for java, a `replace` for go). The language tests read the same
# links (python: pip --find-links; java: file repositories in its pom; go: go.mod replaces).
# It prints one line per package: "<target> <package>@<version>: registry|built|cached".
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
target=${1:?usage: bindings.sh python|java|go}
cache=${LANGUAGES_CACHE:-$HOME/.cache/cdk-mlops-eks/languages}

# This library's jsii dependencies and theirs, each after its own (pacmak builds a binding against
# its dependencies); python also gets the kubectl layers that examples/python/app.py may use (every
# @aws-cdk/lambda-layer-kubectl-v* of package.json, as examples/app.ts).
roots=(cdk-mlops-eks)
[ "$target" = python ] && mapfile -t -O 1 roots < <(bash "$root/test/languages/kubectl-layers.sh")
mapfile -t packages < <(node - "${roots[@]}" <<'JS'
const path = require('path');
const order = [];
const manifest = (name) => {
  try { return require(name === 'cdk-mlops-eks' ? path.resolve('package.json') : `${name}/package.json`); } catch { return {}; }
};
const visit = (name) => {
  const pkg = manifest(name);
  const bundled = pkg.bundledDependencies ?? pkg.bundleDependencies ?? [];
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }).filter((d) => !bundled.includes(d))) {
    if (!order.includes(dep) && manifest(dep).jsii) { visit(dep); }
  }
  if (name !== 'cdk-mlops-eks' && !order.includes(name)) { order.push(name); }
};
process.argv.slice(2).forEach(visit);
console.log(order.join('\n'));
JS
)

npm_field() { node -p "const j = require('$1/package.json'); $2"; }

# Exit 0 when the registry serves the binding of package $1 at version $2.
in_registry() {
  local package=$1 version=$2
  case "$target" in
    python)
      local dist
      dist=$(npm_field "$package" 'j.jsii.targets.python.distName')
      python3 -m pip index versions "$dist" 2>/dev/null | grep -q "^Available versions:.* $version\(,\|$\)" ;;
    java)
      local group artifact
      group=$(npm_field "$package" 'j.jsii.targets.java.maven.groupId')
      artifact=$(npm_field "$package" 'j.jsii.targets.java.maven.artifactId')
      curl -sfI -o /dev/null "${MAVEN_CENTRAL:-https://repo.maven.apache.org/maven2}/${group//.//}/$artifact/$version/$artifact-$version.pom" ;;
    go)
      local module
      # As jsii-pacmak names it: <moduleName>/<packageName, else the npm name's letters>[/vN].
      module=$(npm_field "$package" "const g = j.jsii.targets.go, major = Number(j.version.split('.')[0]);
        [g.moduleName, g.packageName ?? j.name.replace(/[^a-z0-9.]/gi, '').toLowerCase()].join('/') + (major > 1 ? '/v' + major : '')")
      local probe status=0
      probe=$(mktemp -d)
      (cd "$probe" && go mod init probe >/dev/null 2>&1 && go list -m "$module@v$version" >/dev/null 2>&1) || status=$?
      rm -rf "$probe"
      return $status ;;
    *) echo "bindings.sh: unknown target '$target'" >&2; exit 2 ;;
  esac
}

mkdir -p "$cache/$target"
if [ "$target" = java ]; then
  # One Maven repository for every build (pacmak's default is a new empty one each time), and no
  # javadoc or source jars for bindings that only this machine uses.
  export JSII_PACMAK_MAVEN_LOCAL_REPOSITORY=${JSII_PACMAK_MAVEN_LOCAL_REPOSITORY:-${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}}
  export MAVEN_OPTS="${MAVEN_OPTS:-} -Dmaven.javadoc.skip=true -Dmaven.source.skip=true"
fi
for package in "${packages[@]}"; do
  version=$(npm_field "$package" 'j.version')
  link=node_modules/$package/dist/$target
  built=$cache/$target/${package//\//+}@$version
  # A published version stays published: each registry answer is kept beside the built bindings.
  if [ -f "$built.registry" ] || { [ ! -f "$built/.done" ] && in_registry "$package" "$version"; }; then
    touch "$built.registry"
    rm -rf "$link"
    echo "$target $package@$version: registry"
    continue
  fi
  if [ -f "$built/.done" ]; then
    state=cached
  else
    rm -rf "$built" "$built.tmp"
    # Each binding is built against the others (pacmak finds them through the links made so far).
    npx jsii-pacmak "node_modules/$package" --target "$target" --outdir "$built.tmp" >"$cache/$target.log" 2>&1 \
      || { tail -n 40 "$cache/$target.log" >&2; echo "bindings.sh: jsii-pacmak failed for $package" >&2; exit 1; }
    mv "$built.tmp" "$built"
    touch "$built/.done"
    state=built
  fi
  mkdir -p "$(dirname "$link")"
  rm -rf "$link"
  ln -s "$built/$target" "$link"
  echo "$target $package@$version: $state"
done
