#!/usr/bin/env bash
# up.sh DIR: start a local test cluster (etcd + kube-apiserver on 127.0.0.1, free ports
# chosen now, so several clusters can run side by side) and write into DIR everything a
# test needs to reach it: kubeconfigs, DIR/env, DIR/kubectl, restart scripts. See
# tests/cluster/README.md for the list. Stop it with down.sh DIR.
#
# For tests of this harness: CLUSTER_EXTRA_ETCD_FLAGS and CLUSTER_EXTRA_APISERVER_FLAGS
# are appended (word-split) to the components' command lines; CLUSTER_READY_TIMEOUT
# (seconds, default 60) bounds each wait.
#
# If anything fails, up.sh prints the tail of the failing component's log, stops what it
# started, removes the etcd data dir and exits non-zero. DIR itself is kept, with the
# logs; down.sh DIR removes it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib/cluster.sh"

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
mkdir -p "$1"
dir=$(cd "$1" && pwd)
# down.sh removes DIR whole, so DIR must hold nothing but the cluster.
if [ -n "$(ls -A "$dir")" ]; then
	echo "up.sh: $dir is not empty (a cluster already? run down.sh $dir first)" >&2
	exit 1
fi
# Tells down.sh this directory is ours to remove.
touch "$dir/.carrier-lock-cluster"

"$here/build.sh" >&2
etcd_bin=$here/bin/etcd
apiserver_bin=$here/bin/kube-apiserver
kubectl_bin=$here/bin/kubectl

t0=$(date +%s%N)

# From here on, any failure tears down what was started. `stage` names the component to
# blame, so the right log is shown.
stage=setup
etcd_data=
# fd 9 is stderr as up.sh got it: a signal's trap runs inside whatever command was
# running, and a probe's "2>/dev/null" would otherwise swallow the teardown's messages.
exec 9>&2
teardown() {
	local rc=$1
	cluster_log "startup failed during: $stage"
	case $stage in
	pki) tail -n 20 "$dir/pki/openssl.log" >&2 2>/dev/null || true ;;
	etcd | kube-apiserver) cluster_log_tail "$dir" "$stage" ;;
	configure) cluster_log_tail "$dir" kube-apiserver ;;
	esac
	cluster_stop "$dir" kube-apiserver
	cluster_stop "$dir" etcd
	[ -n "$etcd_data" ] && rm -rf "$etcd_data"
	rm -f "$dir/env"
	exit $rc
} 2>&9
on_exit() {
	local rc=$?
	[ $rc -eq 0 ] && return
	teardown $rc
}
trap on_exit EXIT
# bash skips the EXIT trap when a signal kills it, and an "exit" from a signal trap did
# not always reach it either (seen: SIGTERM right after kube-apiserver started): tear
# down from the signal traps themselves.
trap 'trap - EXIT; teardown 130' INT
trap 'trap - EXIT; teardown 143' TERM

# --- ports ------------------------------------------------------------------------------
# Ask the kernel for three free ports by binding to port 0, all held open together so they
# differ. They are released before etcd and kube-apiserver bind them: a small race with
# other programs, acceptable on a test machine (a lost race fails loudly, in the log).
read -r etcd_client_port etcd_peer_port apiserver_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
echo "$apiserver_port" >"$dir/port"
echo "http://127.0.0.1:$etcd_client_port" >"$dir/etcd-url"
server=https://127.0.0.1:$apiserver_port

# --- PKI --------------------------------------------------------------------------------
# Keys in the formats kubeadm and kind write (PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE
# KEY"), since those are what a real kubeconfig hands the client.
stage=pki
pki=$dir/pki
mkdir -p "$pki"
(
	cd "$pki"
	exec 2>openssl.log # openssl is chatty on stderr; keep it for a failure report only

	openssl genrsa -traditional -out ca.key 2048
	openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=carrier-lock-test-ca" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt

	# sign NAME SUBJECT EXTENSIONS: NAME.csr -> NAME.crt, signed by the CA.
	sign() {
		printf '%s\n' "basicConstraints=critical,CA:FALSE" \
			"subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" "$3" >"$1.ext"
		openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
		openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 3650 -extfile "$1.ext" -out "$1.crt"
		rm -f "$1.csr" "$1.ext"
	}
	openssl genrsa -traditional -out server.key 2048
	# carrier-lock-proxied.test: a name no resolver knows; only the proxies of
	# tests/test_proxy.py map it to 127.0.0.1 (clients never proxy loopback addresses).
	sign server "/CN=kube-apiserver" "$(printf '%s\n' \
		"keyUsage=critical,digitalSignature,keyEncipherment" \
		"extendedKeyUsage=serverAuth" \
		"subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:carrier-lock-proxied.test")"

	client_ext=$(printf '%s\n' "keyUsage=critical,digitalSignature,keyEncipherment" \
		"extendedKeyUsage=clientAuth")
	openssl genrsa -traditional -out admin.key 2048
	sign admin "/O=system:masters/CN=carrier-admin" "$client_ext"
	openssl ecparam -name prime256v1 -genkey -noout -out admin-ec.key
	sign admin-ec "/O=system:masters/CN=carrier-admin-ec" \
		"$(printf '%s\n' "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth")"

	# Service-account token signing: kube-apiserver refuses to start without it.
	openssl genrsa -traditional -out sa.key 2048
	openssl rsa -in sa.key -pubout -out sa.pub
)

# Static bearer tokens (token,user,uid,"groups"). The limited user has no group, so RBAC
# gives it only what deploy/rbac.yaml grants.
admin_token=$(openssl rand -hex 24)
limited_token=$(openssl rand -hex 24)
printf '%s\n' "$admin_token,carrier-admin-token,uid-admin-token,\"system:masters\"" \
	"$limited_token,carrier-limited,uid-limited" >"$pki/tokens.csv"
chmod 600 "$pki"/*.key "$pki/tokens.csv"

# --- etcd -------------------------------------------------------------------------------
# Data on tmpfs, and no fsync either way: the cluster is disposable, and fsync latency on
# a shared disk would show up as lock latency in tests and benchmarks.
stage=etcd
if [ -w /dev/shm ]; then
	etcd_data=$(mktemp -d /dev/shm/carrier-lock-etcd.XXXXXX)
else
	etcd_data=$dir/etcd-data
	mkdir -p "$etcd_data"
fi
echo "$etcd_data" >"$dir/etcd-data-dir"
# shellcheck disable=SC2086 # the extra flags are meant to be word-split
etcd_cmd=(
	"$etcd_bin"
	--name=default
	--data-dir="$etcd_data"
	--listen-client-urls="http://127.0.0.1:$etcd_client_port"
	--advertise-client-urls="http://127.0.0.1:$etcd_client_port"
	--listen-peer-urls="http://127.0.0.1:$etcd_peer_port"
	--initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port"
	--initial-cluster="default=http://127.0.0.1:$etcd_peer_port"
	--unsafe-no-fsync
	--log-level=warn
	${CLUSTER_EXTRA_ETCD_FLAGS:-}
)
# write_run NAME CMD...: DIR/run-NAME.sh, the exact command line, quoted.
write_run() {
	local name=$1
	shift
	{
		echo '#!/usr/bin/env bash'
		echo "# Written by up.sh: the exact command line of this cluster's $name."
		printf 'exec'
		printf ' %q' "$@"
		echo
	} >"$dir/run-$name.sh"
	chmod +x "$dir/run-$name.sh"
}
write_run etcd "${etcd_cmd[@]}"
cluster_start "$dir" etcd
cluster_wait "$dir" etcd cluster_etcd_health "$dir"

# --- kube-apiserver ---------------------------------------------------------------------
stage=kube-apiserver
# shellcheck disable=SC2086
apiserver_cmd=(
	"$apiserver_bin"
	--bind-address=127.0.0.1
	--secure-port="$apiserver_port"
	# Nothing in this cluster reads the default/kubernetes Endpoints (no pods), and the
	# reconciler that writes them refuses a loopback address; without this flag the
	# advertised address would be whatever interface the host has, and none may exist.
	--advertise-address=127.0.0.1
	--endpoint-reconciler-type=none
	--etcd-servers="http://127.0.0.1:$etcd_client_port"
	--tls-cert-file="$pki/server.crt"
	--tls-private-key-file="$pki/server.key"
	--client-ca-file="$pki/ca.crt"
	--token-auth-file="$pki/tokens.csv"
	--authorization-mode=RBAC
	--service-account-issuer=https://kubernetes.default.svc
	--service-account-key-file="$pki/sa.pub"
	--service-account-signing-key-file="$pki/sa.key"
	--service-cluster-ip-range=10.96.0.0/16
	--v=1
	${CLUSTER_EXTRA_APISERVER_FLAGS:-}
)
write_run kube-apiserver "${apiserver_cmd[@]}"
if ! cluster_apiserver_start "$dir"; then
	stage=reported # cluster_apiserver_start has shown the log already
	exit 1
fi

# --- kubeconfigs ------------------------------------------------------------------------
stage=configure
b64() { base64 -w0 <"$1"; }

# kubeconfig NAME SERVER NAMESPACE CLUSTER-LINES USER-LINES: DIR/NAME.kubeconfig, whose
# cluster, user and context are all called NAME (so a KUBECONFIG list of several of these
# files merges without clashes).
kubeconfig() {
	cat >"$dir/$1.kubeconfig" <<-EOF
		apiVersion: v1
		kind: Config
		clusters:
		- name: $1
		  cluster:
		    server: $2
		$4
		users:
		- name: $1
		  user:
		$5
		contexts:
		- name: $1
		  context:
		    cluster: $1
		    user: $1
		    namespace: $3
		current-context: $1
		preferences: {}
	EOF
	chmod 600 "$dir/$1.kubeconfig"
}
ca_inline="    certificate-authority-data: $(b64 "$pki/ca.crt")"
admin_inline="    client-certificate-data: $(b64 "$pki/admin.crt")
    client-key-data: $(b64 "$pki/admin.key")"
kubeconfig admin "$server" default "$ca_inline" "$admin_inline"
kubeconfig admin-dns "https://localhost:$apiserver_port" default "$ca_inline" "$admin_inline"
# Relative paths resolve against the kubeconfig's own directory (kubectl's rule).
kubeconfig admin-files "$server" default "    certificate-authority: pki/ca.crt" \
	"    client-certificate: pki/admin.crt
    client-key: pki/admin.key"
kubeconfig ec "$server" default "$ca_inline" \
	"    client-certificate-data: $(b64 "$pki/admin-ec.crt")
    client-key-data: $(b64 "$pki/admin-ec.key")"
kubeconfig token "$server" default "$ca_inline" "    token: $admin_token"
kubeconfig limited "$server" locks "$ca_inline" "    token: $limited_token"

# DIR/kubectl: the built kubectl, as admin unless the caller names a kubeconfig.
{
	echo '#!/usr/bin/env bash'
	echo "# Written by up.sh: kubectl for the cluster in this directory."
	echo 'for a in "$@"; do case $a in --kubeconfig | --kubeconfig=*) exec '"$(printf %q "$kubectl_bin")"' "$@" ;; esac; done'
	echo "exec $(printf %q "$kubectl_bin") --kubeconfig=$(printf %q "$dir/admin.kubeconfig")"' "$@"'
} >"$dir/kubectl"
chmod +x "$dir/kubectl"

# Per-cluster control scripts. Tests stop and restart the API server while a client waits
# on a lock; the command line in run-kube-apiserver.sh keeps the same flags and port.
for action in start stop restart; do
	{
		echo '#!/usr/bin/env bash'
		echo "# Written by up.sh: $action this cluster's kube-apiserver (start/restart wait for /readyz)."
		echo 'set -euo pipefail'
		echo ". $(printf %q "$here/lib/cluster.sh")"
		case $action in
		start) echo "cluster_apiserver_start $(printf %q "$dir")" ;;
		stop) echo "cluster_stop $(printf %q "$dir") kube-apiserver" ;;
		restart)
			echo "cluster_stop $(printf %q "$dir") kube-apiserver"
			echo "cluster_apiserver_start $(printf %q "$dir")"
			;;
		esac
	} >"$dir/$action-apiserver.sh"
	chmod +x "$dir/$action-apiserver.sh"
done

# --- namespace and RBAC -----------------------------------------------------------------
# The Role is the repository's deploy/rbac.yaml, so the tests exercise what users deploy.
"$dir/kubectl" create namespace locks >/dev/null
"$dir/kubectl" apply -f "$repo/deploy/rbac.yaml" >/dev/null
"$dir/kubectl" -n locks create rolebinding carrier-lock \
	--role=carrier-lock --user=carrier-limited >/dev/null

# --- env --------------------------------------------------------------------------------
# Written last: its presence means the cluster is complete.
q() { printf %q "$1"; }
cat >"$dir/env" <<EOF
# Written by up.sh; source it. CLUSTER_APISERVER_PID is updated by restart-apiserver.sh.
export CLUSTER_DIR=$(q "$dir")
export KUBECONFIG=$(q "$dir/admin.kubeconfig")
export CLUSTER_SERVER=$server
export CLUSTER_PORT=$apiserver_port
export CLUSTER_ETCD_URL=http://127.0.0.1:$etcd_client_port
export CLUSTER_KUBECTL=$(q "$dir/kubectl")
export CLUSTER_ETCD_PID=$(cat "$dir/etcd.pid")
export CLUSTER_APISERVER_PID=$(cat "$dir/kube-apiserver.pid")
export CLUSTER_LOCK_NAMESPACE=locks
export KUBE_APISERVER_BIN=$(q "$apiserver_bin")
export ETCD_BIN=$(q "$etcd_bin")
export KUBECTL_BIN=$(q "$kubectl_bin")
EOF

stage=done
cluster_log "up at $server in $((($(date +%s%N) - t0) / 1000000)) ms; source $dir/env"
