//go:build tools

// Package tools keeps the dependency graphs of the binaries in Cilium's agent and operator
// images in go.sum, so the testbed can build them.
package tools

import (
	_ "github.com/cilium/cilium/bugtool"
	_ "github.com/cilium/cilium/cilium-dbg"
	_ "github.com/cilium/cilium/cilium-health"
	_ "github.com/cilium/cilium/cilium-health/responder"
	_ "github.com/cilium/cilium/daemon"
	_ "github.com/cilium/cilium/operator"
	_ "github.com/cilium/cilium/plugins/cilium-cni"
	_ "github.com/cilium/cilium/tools/mount"
	_ "github.com/cilium/cilium/tools/sysctlfix"
)
