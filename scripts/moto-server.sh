#!/usr/bin/env bash
# Runs a command beside moto's server mode (PyPI `moto[server]`, pinned in
# test/processor/moto/requirements.txt) on 127.0.0.1, in a virtualenv of its own under .scratch/
# (gitignored): an S3 that keeps object versions (s3rver keeps none) and CloudWatch. The command
# gets the server's address in MOTO_S3_ENDPOINT and MOTO_CLOUDWATCH_ENDPOINT; the server is
# stopped by its PID when the command ends, whether it passed or failed.
# MOTO_PYTHON names the venv's python (with pandas). Used by .ci/run: `bash scripts/moto-server.sh npx projen test:moto`.
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=test/processor/moto/requirements.txt
MOTO_VERSION=$(sed -n 's/^moto\[server\]==//p' "$requirements")
dir=.scratch/moto
venv=$dir/venv

if ! "$venv/bin/python" -m pip show moto 2>/dev/null | grep -qx "Version: $MOTO_VERSION" \
  || ! "$venv/bin/python" -c 'import pandas' 2>/dev/null; then
  mkdir -p "$dir"
  if ! /usr/bin/python3 -m venv "$venv" 2>/dev/null; then
    # Debian splits venv (ensurepip) out of python3.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    /usr/bin/python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
fi

port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "moto-server: moto_server exited; its log:" >&2
    cat "$dir/server.log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "moto-server: moto $MOTO_VERSION serving S3 and CloudWatch on 127.0.0.1:$port (pid $server_pid)"
# MOTO_PYTHON: the venv's python, which has pandas (requirements.txt), for the command-transform test.
MOTO_S3_ENDPOINT="http://127.0.0.1:$port" MOTO_CLOUDWATCH_ENDPOINT="http://127.0.0.1:$port" MOTO_PYTHON="$PWD/$venv/bin/python" "$@"
