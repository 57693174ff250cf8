#!/usr/bin/env bash
# demo.sh: builds carrier-lock, starts a real local cluster (kube-apiserver + etcd), and
# runs the main job as a test script would: acquire, query, a second client that gives
# up, release, query. Stops the cluster at the end.
set -euo pipefail
cd "$(dirname "$0")"

./build.sh
dir=$(mktemp -d /tmp/carrier-lock-demo.XXXXXX)
rmdir "$dir"
trap 'tests/cluster/down.sh "$dir" >/dev/null 2>&1 || true' EXIT
tests/cluster/up.sh "$dir"
kc=$dir/admin.kubeconfig

# show CMD...: prints the command as typed, runs it, and prints its exit status.
show() {
	local rc=0
	printf '\n$ %s\n' "$*" | sed "s|$PWD/||g; s|$dir|\$CLUSTER|g"
	"$@" || rc=$?
	echo "[exit $rc]"
}

echo
echo "=== carrier-lock demo: one cluster, one lock (ConfigMap default/carrier-lock) ==="
show ./carrier-lock --kubeconfig "$kc" --max-wait-time 120m --action acquire
show ./carrier-lock --kubeconfig "$kc" --action query
echo
echo "# Another test host tries while the lock is held; it waits 3s, then gives up (exit 3):"
show ./carrier-lock --kubeconfig "$kc" --max-wait-time 3s --action acquire --host perf-client-02 --pid 4711
echo
echo "# It may not release a lock it does not hold (exit 4):"
show ./carrier-lock --kubeconfig "$kc" --action release --host perf-client-02 --pid 4711
show ./carrier-lock --kubeconfig "$kc" --action release
show ./carrier-lock --kubeconfig "$kc" --action query
echo
echo "# Or hold it around one command, released however the command ends:"
show ./carrier-lock --kubeconfig "$kc" run -- sh -c 'echo "perf test running with fencing token $CARRIER_LOCK_TOKEN"'
echo
echo "# What kubectl sees:"
show "$dir/kubectl" --kubeconfig "$kc" get configmap carrier-lock -o jsonpath='{.data}{"\n"}'
