#!/usr/bin/env bash
# Install the system packages phaseout's lab and tests need (Debian/Ubuntu).
# gpg signs the lab's local apt repository of the mdatp test double; chromium
# (headless) opens the fleet dashboard in tests/browser; shellcheck runs in
# ansible-test sanity (make sanity).
# Fast no-op when everything is present. Needs root (CI runs as root).
set -euo pipefail

packages=(podman runc debootstrap python3-venv openssh-client ca-certificates gpg chromium shellcheck)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
# Every systemd container holds 8 inotify instances of root (measured on a
# replaced lab host: systemd, journald, logind, sshd, clamd, clamonacc); the
# kernel default (128) fits about 15 lab or Molecule hosts machine-wide. A lab
# of 250 hosts plus ~40 Molecule and test containers beside it needs
# 290 * 8 + 128 = 2448: 4096 leaves room (about 490 containers). Watches are
# not the limit: 28 per container, 7,000 for 250 hosts, under the kernel's
# smallest fs.inotify.max_user_watches (8192).
inotify_instances=4096
raise_inotify() {
  local current
  current=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)
  if [ "$current" -lt "$inotify_instances" ]; then
    if [ "$(id -u)" -eq 0 ] && sysctl -q -w fs.inotify.max_user_instances=$inotify_instances 2>/dev/null; then
      echo "phaseout setup: raised fs.inotify.max_user_instances from $current to $inotify_instances (until reboot)"
    else
      echo "phaseout setup: fs.inotify.max_user_instances is $current; the lab needs $inotify_instances:" \
           "sysctl -w fs.inotify.max_user_instances=$inotify_instances" >&2
    fi
  fi
}
raise_inotify

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
