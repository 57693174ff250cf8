#!/usr/bin/env bash
# Builds krew's own tools, at the release pinned in go.mod and go.sum here, from the Go
# module proxy into build/krew/ (git-ignored): validate-krew-manifest, which
# tests/test_release.py runs on the release's krew manifest, and krew itself as
# kubectl-krew, which the validator calls ("kubectl krew install") for each platform.
# Nothing is rebuilt while build/krew/stamp names the same sources and the same Go, so a
# warm run costs nothing; Go's caches stay at their defaults (under $HOME).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../.." && pwd)/build/krew

command -v go >/dev/null || { echo "tests/krew/build.sh: go is not installed (needs Go >= 1.26)" >&2; exit 1; }

stamp=$(cd "$here" && cat go.mod go.sum tools.go | sha256sum | cut -c1-16)-$(go env GOVERSION)
if [ -x "$out/validate-krew-manifest" ] && [ -x "$out/kubectl-krew" ] &&
    [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "krew: build/krew is up to date"
	exit 0
fi
version=$(awk '$1 == "require" && $2 == "sigs.k8s.io/krew" {print $3}' "$here/go.mod")
echo "krew: building validate-krew-manifest and kubectl-krew $version ..."
mkdir -p "$out"
rm -f "$out/stamp"
(cd "$here" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -trimpath -ldflags=-s -o "$out/validate-krew-manifest" sigs.k8s.io/krew/cmd/validate-krew-manifest &&
    CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -trimpath -ldflags=-s -o "$out/kubectl-krew" sigs.k8s.io/krew/cmd/krew) ||
	{ echo "tests/krew/build.sh: building krew $version failed" >&2; exit 1; }
echo "$stamp" > "$out/stamp"
