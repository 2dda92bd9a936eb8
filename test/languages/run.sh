#!/usr/bin/env bash
# The Python, Java and Go packages in dist/ (npx projen package:python|java|go), each used from its
# own language: `npx projen test:languages [python] [java] [go]` (all three by default). Every stage
# runs even when one fails; the last line is the summary: "languages: N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(python java go)
passed=0
failed=()
for stage in "${stages[@]}"; do
  [ -f "$here/$stage/run.sh" ] || { echo "languages: no stage '$stage' (python, java, go)" >&2; exit 2; }
  echo "==> languages: $stage"
  start=$SECONDS
  if bash "$here/$stage/run.sh"; then
    passed=$((passed + 1))
    # A line of its own: Maven may leave a colour reset without a newline.
    printf '\nlanguages: %s passed in %d s\n' "$stage" $((SECONDS - start))
  else
    failed+=("$stage")
    printf '\nlanguages: %s FAILED after %d s\n' "$stage" $((SECONDS - start))
  fi
done
echo "languages: $passed passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
