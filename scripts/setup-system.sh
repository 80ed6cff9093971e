#!/usr/bin/env bash
# Install the system packages phaseout's lab and tests need (Debian/Ubuntu).
# Fast no-op when everything is present. Needs root (CI runs as root).
set -euo pipefail

packages=(podman runc debootstrap python3-venv openssh-client ca-certificates)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "phaseout setup: missing system packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "phaseout setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
