#!/usr/bin/env bash
# Builds kube-bench at a pinned version into DEST/bin, with its benchmark definitions in
# DEST/share/kube-bench/cfg (kube-bench reads them at run time; cfg/cis-1.9 is Kubernetes 1.30's)
# and, in DEST/share/kube-bench/bin, the jq its policy checks call (kube-bench's own image ships
# jq; gojq is a jq in Go that the module proxy serves).
# `go install kube-bench@version` is refused here (the proxy refuses the module's version list,
# which go install reads for deprecations), so the module's own source builds as the main module.
# Usage: install-kube-bench.sh VERSION GOJQ_VERSION DEST
set -euo pipefail

version=$1 gojq_version=$2 dest=$3
module=github.com/aquasecurity/kube-bench
# The checksum database does not know this version (it answers 404); the proxy serves it.
export GONOSUMDB=github.com/aquasecurity/kube-bench

command -v go >/dev/null || {
  echo "install-kube-bench: 'go' is not on PATH; install Go 1.22 or newer to build kube-bench" >&2
  exit 1
}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
source_dir=$(cd "$scratch" && GOFLAGS=-mod=mod go mod download -json "${module}@${version}" |
  sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$source_dir" ] || { echo "install-kube-bench: ${module}@${version} was not downloaded" >&2; exit 1; }
cp -r "$source_dir" "$scratch/src"
chmod -R u+w "$scratch/src"
mkdir -p "$dest/bin" "$dest/share/kube-bench/bin"
dest=$(cd "$dest" && pwd)
(cd "$scratch/src" && CGO_ENABLED=0 GOFLAGS="-mod=mod -trimpath" go build \
  -ldflags "-s -w -X ${module}/cmd.KubeBenchVersion=${version}" -o "$dest/bin/kube-bench" .)
GOBIN="$dest/share/kube-bench/bin" CGO_ENABLED=0 GOFLAGS=-mod=mod \
  go install -trimpath -ldflags "-s -w" "github.com/itchyny/gojq/cmd/gojq@${gojq_version}"
mv "$dest/share/kube-bench/bin/gojq" "$dest/share/kube-bench/bin/jq"
rm -rf "$dest/share/kube-bench/cfg"
cp -r "$scratch/src/cfg" "$dest/share/kube-bench/cfg"
echo "install-kube-bench: kube-bench ${version} in $dest/bin, its cfg in $dest/share/kube-bench" >&2
