//go:build tools

// Package tools pins Argo CD's one command, so `go mod tidy` keeps its whole dependency graph
// in go.sum.
package tools

import (
	_ "github.com/argoproj/argo-cd/v3/cmd"
)
