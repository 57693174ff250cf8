#!/usr/bin/env bash
# Builds the test cluster's binaries (kube-apiserver, kubectl, etcd) from the Go module
# proxy at the versions pinned in tests/cluster/go/*/go.mod and go.sum, into
# tests/cluster/bin (git-ignored). A binary is rebuilt only when its version stamp differs
# from the pin, so a warm run costs nothing. GOMODCACHE and GOCACHE stay at Go's defaults
# (under $HOME), where the next run on this machine finds them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin="$here/bin"
mkdir -p "$bin"

KUBE_VERSION=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3}' "$here/go/kube/go.mod")
ETCD_VERSION=$(awk '$1 == "require" && $2 == "go.etcd.io/etcd/server/v3" {print $3}' "$here/go/etcd/go.mod")

command -v go >/dev/null || { echo "build.sh: go is not installed (needs Go >= 1.26)" >&2; exit 1; }

# build NAME VERSION MODDIR PKG: go build PKG from MODDIR unless bin/NAME.version says VERSION.
build() {
	local name=$1 version=$2 moddir=$3 pkg=$4
	local stamp="$bin/$name.version"
	if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
		echo "cluster: $name $version already built"
		return
	fi
	echo "cluster: building $name $version (the first build takes minutes on 2 cores) ..."
	local t0=$SECONDS
	(cd "$moddir" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags=-s -o "$bin/$name.tmp" "$pkg")
	mv "$bin/$name.tmp" "$bin/$name"
	echo "$version" > "$stamp"
	echo "cluster: built $name in $((SECONDS - t0))s"
}

build etcd "$ETCD_VERSION" "$here/go/etcd" go.etcd.io/etcd/server/v3
build kube-apiserver "$KUBE_VERSION" "$here/go/kube" k8s.io/kubernetes/cmd/kube-apiserver
build kubectl "$KUBE_VERSION" "$here/go/kube" k8s.io/kubernetes/cmd/kubectl
