#!/usr/bin/env bash
# Builds one Go command at a pinned version into DEST/bin with the Go module proxy
# (`go install module/cmd@version`): kubeconform and kube-score ship no other
# registry-served binary.
# Usage: install-go-tool.sh PACKAGE VERSION DEST
set -euo pipefail

package=$1 version=$2 dest=$3

command -v go >/dev/null || {
  echo "install-go-tool: 'go' is not on PATH; install Go 1.22 or newer to build ${package}" >&2
  exit 1
}
mkdir -p "$dest/bin"
GOBIN=$(cd "$dest/bin" && pwd) GOFLAGS=-mod=mod go install "${package}@${version}"
echo "install-go-tool: ${package##*/} ${version} in $dest/bin" >&2
