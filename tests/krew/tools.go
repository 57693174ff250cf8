//go:build tools

// Package tools pins krew at the release whose validator tests/test_release.py runs on
// the release's manifest: validate-krew-manifest, and krew itself (kubectl-krew), which
// the validator calls to install each platform. go.sum covers both.
package tools

import (
	_ "sigs.k8s.io/krew/cmd/krew"
	_ "sigs.k8s.io/krew/cmd/validate-krew-manifest"
)
