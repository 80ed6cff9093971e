#!/usr/bin/env bash
# Benchmark of the discover phase (issue 2): start a lab of N hosts and time, in
# one run, `ansible -m ping` (the floor: one round trip per host), phaseout's
# discover playbook, and a naive detection playbook (bench/naive-discover.yml).
# Prints the figures and ratios; nothing here asserts a time.
#   scripts/bench-discover.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-20}
runs=${2:-3}
bin=${VENV:-.venv}/bin
prefix=bench
inventory=lab/.state/bench-inventory.yml
export ANSIBLE_CONFIG=$PWD/ansible.cfg
PHASEOUT_ARTIFACTS_DIR_BENCH=$(mktemp -d)
export PHASEOUT_ARTIFACTS_DIR_BENCH

cleanup() { lab/lab.sh down --prefix "$prefix" >/dev/null 2>&1 || true; rm -rf "$PHASEOUT_ARTIFACTS_DIR_BENCH"; }
trap cleanup EXIT

lab/lab.sh up --hosts "$hosts" --prefix "$prefix" --port-base 2401 --inventory "$inventory" >/dev/null

time_it() {  # median wall time of $runs runs of "$@", in seconds
  local samples=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "command failed: $*" >&2; "$@" | tail -20 >&2; exit 1; }
    end=$(date +%s.%N)
    samples+=("$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')")
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

# warm up SSH control sockets the same way for all three
"$bin/ansible" -i "$inventory" all -m ansible.builtin.ping >/dev/null

ping=$(time_it "$bin/ansible" -i "$inventory" all -m ansible.builtin.ping)
discover=$(time_it "$bin/ansible-playbook" -i "$inventory" playbooks/discover.yml \
  -e "phaseout_artifacts_dir=$PHASEOUT_ARTIFACTS_DIR_BENCH" -e discover_print_summary=false)
naive=$(time_it "$bin/ansible-playbook" -i "$inventory" bench/naive-discover.yml)

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r), $(podman --version)"
echo "lab: $hosts hosts, median of $runs runs, forks $(grep -E '^forks' ansible.cfg | awk '{print $3}')"
printf '%-28s %8.2f s\n' "ansible -m ping" "$ping" "discover playbook" "$discover" "naive detection playbook" "$naive"
printf '%-28s %8.2f   (target <= 1.30)\n' "discover / ping" "$(awk -v a="$discover" -v b="$ping" 'BEGIN {print a / b}')"
printf '%-28s %8.2f   (target >= 3.00)\n' "naive / discover" "$(awk -v a="$naive" -v b="$discover" 'BEGIN {print a / b}')"
