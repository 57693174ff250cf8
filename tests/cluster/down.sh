#!/usr/bin/env bash
# down.sh DIR: stop the cluster up.sh started in DIR (by the PIDs it recorded: SIGTERM,
# then SIGKILL after a grace period) and remove DIR and etcd's data dir. Idempotent: a
# missing DIR, a half-started or already stopped cluster are all fine.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/cluster.sh"

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
[ -d "$dir" ] || exit 0
# rm -rf on a mistyped argument must not cost anyone their home directory.
if [ ! -e "$dir/.carrier-lock-cluster" ] && [ -n "$(ls -A "$dir")" ]; then
	echo "down.sh: $dir is not a cluster directory made by up.sh; not touching it" >&2
	exit 1
fi

# The API server first, so it does not spend its shutdown complaining about etcd.
cluster_stop "$dir" kube-apiserver
cluster_stop "$dir" etcd

# Only ever remove a data dir up.sh made: ours under /dev/shm, or DIR/etcd-data.
etcd_data=$(cat "$dir/etcd-data-dir" 2>/dev/null || true)
case $etcd_data in
/dev/shm/carrier-lock-etcd.* | "$dir/etcd-data") rm -rf -- "$etcd_data" ;;
esac
rm -rf -- "$dir"
