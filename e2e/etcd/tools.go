//go:build tools

// Package tools keeps etcdctl's dependency graph in go.sum so the harness can build it.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3/ctlv2"
	_ "go.etcd.io/etcd/etcdctl/v3/ctlv3"
)
