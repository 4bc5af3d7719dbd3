//go:build tools

// Package tools keeps kube-vip's dependency graph in go.sum so the testbed can build it.
package tools

import (
	_ "github.com/kube-vip/kube-vip"
)
