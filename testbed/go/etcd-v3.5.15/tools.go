//go:build tools

// Package tools keeps etcdctl's and etcdutl's dependency graphs in go.sum so the testbed can
// build them (the etcd image carries both: status and the backup script use them).
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3/ctlv2"
	_ "go.etcd.io/etcd/etcdctl/v3/ctlv3"
	_ "go.etcd.io/etcd/etcdutl/v3/etcdutl"
)
