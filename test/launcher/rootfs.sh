#!/usr/bin/env bash
# The launcher (processor/launcher/) in root filesystems it was not built in (SPEC §14, issue 24):
# a Debian minbase made by debootstrap from Debian's packages, and a musl root holding only musl's
# dynamic loader and a program linked against it (no glibc, no shell). In each root, as the pod
# does it: `mlops-launcher install` copies the launcher into a directory that is then bind-mounted
# read-only at /mlops/bin; the launcher runs inside `chroot` as uid 1000 with the handoff
# directory and the scratch volume bind-mounted; test/launcher/driver.mjs plays the runtime from
# outside. Needs root (mount, chroot); a stage of .ci/run, not of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=test/launcher
CACHE=.cache/launcher
[ "$(id -u)" = 0 ] || { echo "test/launcher/rootfs.sh needs root (mount, chroot)" >&2; exit 1; }

missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v musl-gcc >/dev/null || missing+=(musl-tools)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || { echo "test/launcher/rootfs.sh needs Go (1.26) to build the launcher" >&2; exit 1; }

WORK=$(mktemp -d)
chmod 0755 "$WORK" # the driver plays the runtime as uid 1000
MOUNTS=()
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

bind() { # bind <source> <target> [ro]
  mount --bind "$1" "$2"
  MOUNTS+=("$2")
  if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$2"; fi
}

echo "building the launcher (CGO_ENABLED=0) with $(go version | cut -d' ' -f3)"
(cd processor/launcher && CGO_ENABLED=0 go build -trimpath -o "$WORK/mlops-launcher" .)

# The mirror and suite apt uses on this machine (deb822 .sources or a one-line sources.list).
apt_mirror() {
  local uri
  uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)
  [ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)
  [ -n "$uri" ] || { echo "no Debian mirror in /etc/apt/sources.list(.d)" >&2; return 1; }
  echo "$uri"
}
SUITE=$(. /etc/os-release && echo "$VERSION_CODENAME")
CHROOT=$(command -v chroot)

# A Debian minbase root, cached as a tarball (the first run downloads ~40 MB of packages).
debian_root() {
  local root=$1 tarball=$CACHE/debian-$SUITE-minbase.tar.gz
  if [ ! -s "$tarball" ]; then
    local mirror
    mirror=$(apt_mirror)
    echo "debootstrap --variant=minbase $SUITE from $mirror"
    mkdir -p "$CACHE" "$WORK/debootstrap"
    debootstrap --variant=minbase "$SUITE" "$WORK/debootstrap" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
      || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
    tar -C "$WORK/debootstrap" --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' -czf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$WORK/debootstrap"
  fi
  mkdir -p "$root"
  tar -C "$root" -xzf "$tarball"
  install -m 0755 "$HERE/transform.sh" "$root/usr/local/bin/transform"
}

# A musl root: musl's loader (which is its libc) and one program, nothing else.
musl_root() {
  local root=$1 loader
  loader=$(readlink -f /lib/ld-musl-x86_64.so.1)
  mkdir -p "$root/lib" "$root/usr/bin"
  cp "$loader" "$root/lib/ld-musl-x86_64.so.1"
  musl-gcc -O2 -o "$root/usr/bin/transform" "$HERE/transform.c"
  readelf -l "$root/usr/bin/transform" | grep -q 'interpreter: /lib/ld-musl-x86_64.so.1' \
    || { echo "the musl program is not linked against musl's loader" >&2; exit 1; }
  if [ -e "$root/bin/sh" ] || find "$root" -name 'libc.so.6' | grep -q .; then
    echo "the musl root holds a shell or glibc" >&2; exit 1
  fi
}

# Runs the launcher in <root> for one scenario of driver.mjs, and checks its exit code is the one
# shutdown.json gave.
run_in_root() { # run_in_root <name> <root> <scenario> <shutdown code> <command...>
  local name=$1 root=$2 scenario=$3 code=$4
  shift 4
  local bin=$WORK/$name-bin handoff=$WORK/$name-handoff scratch=$WORK/$name-scratch log=$WORK/$name.log
  mkdir -p "$bin" "$handoff" "$scratch" "$root/mlops/bin" "$root/mlops/handoff" "$root/opt/ml/processing/data" "$root/dev"
  "$WORK/mlops-launcher" install "$bin/mlops-launcher"
  chown 1000:1000 "$handoff" "$scratch"
  bind "$bin" "$root/mlops/bin" ro
  bind "$handoff" "$root/mlops/handoff"
  bind "$scratch" "$root/opt/ml/processing/data"
  [ -e "$root/dev/null" ] || touch "$root/dev/null"
  bind /dev/null "$root/dev/null"
  # The launcher's directory is read-only even for root outside.
  if touch "$root/mlops/bin/probe" 2>/dev/null; then echo "$name: /mlops/bin is writable" >&2; exit 1; fi

  env -i PATH=/usr/local/bin:/usr/bin:/bin MLOPS_HANDOFF_DIR=/mlops/handoff \
    "$CHROOT" --userspec=1000:1000 "$root" /mlops/bin/mlops-launcher run -- "$@" >"$log" 2>&1 &
  local launcher=$!
  local driver=0
  node "$HERE/driver.mjs" "$handoff" "$scratch" "$log" "$scenario" "$code" "$launcher" || { driver=$?; kill "$launcher" 2>/dev/null || true; }
  local exit=0
  wait "$launcher" || exit=$?
  if [ "$driver" != 0 ] || [ "$exit" != "$code" ]; then
    echo "$name ($scenario): driver $driver, launcher exit $exit (want $code); launcher log:" >&2
    cat "$log" >&2
    exit 1
  fi
  echo "$name ($scenario): launcher exited $exit as shutdown.json said"
  for ((; ${#MOUNTS[@]} > 0; )); do umount "${MOUNTS[-1]}"; unset 'MOUNTS[-1]'; done
  rm -rf "$handoff" "$scratch" "$root/mlops/bin/"* 2>/dev/null || true
}

debian_root "$WORK/debian"
run_in_root debian "$WORK/debian" program 0 transform
run_in_root debian "$WORK/debian" missing 1 /usr/bin/no-such-transform

musl_root "$WORK/musl"
run_in_root musl "$WORK/musl" program 0 /usr/bin/transform
run_in_root musl "$WORK/musl" missing 1 /usr/bin/no-such-transform
echo "the launcher ran in a Debian minbase root and a musl root"
