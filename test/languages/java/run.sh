#!/usr/bin/env bash
# mvn test (JUnit 5) on the package from dist/java (npx projen package:java): the Maven repository that
# jsii-pacmak writes there, and the local bindings of test/languages/bindings.sh (dependencies that
# Maven Central does not serve at npm's versions), are offered as file repositories beside Central.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
[ -d "$root/dist/java" ] || { echo "languages/java: no dist/java; run 'npx projen package:java' first" >&2; exit 2; }
(cd "$root" && bash test/languages/bindings.sh java)

version_of() { node -p "require('$root/node_modules/$1/package.json').version"; }
# Maven builds in a copy, so that no target/ is left in the repository.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/pom.xml" "$here/src" "$work/"
settings=$work/settings.xml
{
  echo '<settings><profiles><profile><id>local-jsii</id><repositories>'
  for repo in "$root/dist/java" "$root"/node_modules/*/dist/java "$root"/node_modules/@*/*/dist/java; do
    [ -d "$repo" ] || continue
    repo=$(cd "$repo" && pwd -P)
    echo "<repository><id>${repo//[\/:]/_}</id><url>file://$repo</url></repository>"
  done
  echo '</repositories></profile></profiles><activeProfiles><activeProfile>local-jsii</activeProfile></activeProfiles>'
  [ -n "${MAVEN_REPO_LOCAL:-}" ] && echo "<localRepository>$MAVEN_REPO_LOCAL</localRepository>"
  echo '</settings>'
} >"$settings"

cd "$work"
mvn --batch-mode --no-transfer-progress -Dstyle.color=never --settings "$settings" \
  -Dlibrary.version="$(node -p "require('$root/package.json').version")" -Dcdk.version="$(version_of aws-cdk-lib)" -Dconstructs.version="$(version_of constructs)" \
  test
