#!/usr/bin/env bash
# Installs checkov at a pinned version into its own venv DEST/checkov and links
# DEST/bin/checkov to it. Its own venv because checkov pins dozens of packages
# (boto3, networkx, pydantic, ...) exactly and would clash with the project venv.
# Usage: install-checkov.sh PYTHON CHECKOV_VERSION DEST
set -euo pipefail

python=$1 version=$2 dest=$3

venv="$dest/checkov"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==${version}"
mkdir -p "$dest/bin"
ln -sf "$(cd "$venv/bin" && pwd)/checkov" "$dest/bin/checkov"
echo "install-checkov: checkov $("$dest/bin/checkov" --version) in $venv" >&2
