#!/usr/bin/env bash
# Builds the control plane's components from their published Go modules (go/*/go.mod pin the
# versions) into .cache/control-plane/bin. Go's build cache makes a warm run a quick link check;
# a binary newer than its go.mod and go.sum is reused as is.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${CONTROL_PLANE_CACHE:-$root/.cache/control-plane}/bin"
mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:--p=2}" CGO_ENABLED=0
# A module whose go line is newer than the installed Go (KEDA 2.21: go 1.27.4) gets that toolchain
# from the Go module proxy.
export GOTOOLCHAIN=auto

# k8s.io/kubernetes's Makefile stamps the version the same way; the apiserver reports it.
k8s_version="$(awk '$1 == "k8s.io/kubernetes" { print $2 }' "$here/go/kubernetes/go.mod")"
minor="$(echo "$k8s_version" | cut -d. -f2)"
version_flags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"

# build <module dir> <binary name> <package> [ldflags]
build() {
  local module="$here/go/$1" out="$bin/$2"
  if [[ -x "$out" && "$out" -nt "$module/go.mod" && "$out" -nt "$module/go.sum" ]]; then return; fi
  echo "building $2 ($3)" >&2
  (cd "$module" && go build -trimpath -ldflags "${4:--s -w}" -o "$out.tmp" "$3")
  mv "$out.tmp" "$out"
}

# KEDA's operator (its scalers' SDKs: the longest build) beside the rest: on a shared machine two
# builds get more of it; the Kubernetes binaries share most packages, so they go one after another.
# The background build runs in a process group of its own (setsid), so that a failed foreground
# build (set -e ends the script) stops it and the go and compile processes under it too.
export -f build
export here bin
setsid bash -c 'build keda keda-operator github.com/kedacore/keda/v2/cmd/operator' &
keda_build=$!
trap 'kill -- -"$keda_build" 2>/dev/null || true' EXIT
build etcd etcd go.etcd.io/etcd/server/v3
build kubernetes kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$version_flags"
build kubernetes kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$version_flags"
build kubernetes kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$version_flags"
build kubernetes kwok sigs.k8s.io/kwok/cmd/kwok
wait "$keda_build"
