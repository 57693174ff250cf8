//go:build tools

// Package tools pins the etcd server the test cluster runs, so that go.sum covers it.
package tools

import _ "go.etcd.io/etcd/server/v3"
