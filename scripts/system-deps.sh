#!/usr/bin/env bash
# Installs the Debian packages listed in the given files (one per line, '#'
# comments allowed) when any is missing. A no-op when all are present, so every
# make target can depend on it. Versions come from Debian stable (bookworm).
set -euo pipefail

mapfile -t wanted < <(cat "$@" /dev/null | sed -e 's/#.*//' -e 's/[[:space:]]//g' | grep -v '^$' | sort -u)
[ "${#wanted[@]}" -gt 0 ] || exit 0

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ "${#missing[@]}" -gt 0 ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing Debian packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
