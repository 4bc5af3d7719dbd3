#!/usr/bin/env bash
# Extracts the strict JSON schemas of one Kubernetes minor version into
# DEST/k8s-schemas/vX.Y.Z-standalone-strict/, the layout kubeconform's
# -kubernetes-version/-strict defaults expect. Source: the kubernetes-validate
# wheel, which bundles OpenAPI-derived schemas per version (the usual GitHub
# schema repositories are not reachable here). The wheel is only unpacked, never
# installed: its dependency pins would clash with the project venv.
# Each schema has an "$id" under https://kubernetes.io/api/ and references a shared
# _definitions.json by "/api/_definitions.json", resolved against that "$id". A
# file loader (kubeconform's) cannot follow that, so the "$id"s are dropped and
# the references made relative: then they resolve to the file next to each schema.
# Usage: install-k8s-schemas.sh PYTHON KUBERNETES_VALIDATE_VERSION K8S_VERSION DEST
set -euo pipefail

python=$1 kv_version=$2 k8s_version=$3 dest=$4

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" -m pip download --quiet --disable-pip-version-check --no-deps \
  -d "$work" "kubernetes-validate==${kv_version}" || {
  echo "install-k8s-schemas: could not download kubernetes-validate==${kv_version}" >&2
  exit 1
}
src="kubernetes_validate/kubernetes-json-schema/v${k8s_version}-local-strict"
(cd "$work" && unzip -q -o ./*.whl "${src}/*")
[ -f "$work/$src/deployment-apps-v1.json" ] || {
  echo "install-k8s-schemas: kubernetes-validate==${kv_version} has no schemas for Kubernetes ${k8s_version}" >&2
  exit 1
}

out="$dest/k8s-schemas/v${k8s_version}-standalone-strict"
rm -rf "$out"
mkdir -p "$out"
"$python" - "$work/$src" "$out" <<'PY'
import json
import pathlib
import sys

src, out = (pathlib.Path(a) for a in sys.argv[1:3])
for path in sorted(src.glob("*.json")):
    text = path.read_text(encoding="utf-8").replace('"/api/_definitions.json#', '"_definitions.json#')
    schema = json.loads(text)
    schema.pop("$id", None)
    (out / path.name).write_text(json.dumps(schema), encoding="utf-8")
PY
echo "install-k8s-schemas: $(find "$out" -name '*.json' | wc -l) schemas for Kubernetes ${k8s_version} in $out" >&2
