#!/bin/sh
# The Debian minbase root's transform program (test/launcher/rootfs.sh), run by that root's own
# /bin/sh (dash) and coreutils: it reports what the launcher gave it.
set -u
if grep -q '^bad' "$MLOPS_INPUT_FILE"; then
  echo "bad input: $(head -n 1 "$MLOPS_INPUT_FILE")" >&2
  exit 2
fi
# The launcher's directory must be read-only for the program.
# (A subshell: a failed redirection of a special builtin ends a POSIX shell.)
if (: > /mlops/bin/probe) 2>/dev/null || (: >> /mlops/bin/mlops-launcher) 2>/dev/null; then
  launcher_dir=writable
else
  launcher_dir=read-only
fi
{
  echo "uid=$(id -u)"
  echo "run=$MLOPS_RUN_ID"
  echo "input=$MLOPS_INPUT_FILE"
  echo "bytes=$(wc -c < "$MLOPS_INPUT_FILE")"
  echo "launcher-dir=$launcher_dir"
} > "$MLOPS_OUTPUT_DIR/report.txt"
echo "transformed $MLOPS_RUN_ID"
