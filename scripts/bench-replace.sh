#!/usr/bin/env bash
# Benchmark of the replace phase (issue 3): start a lab of N hosts running
# Kaspersky, run the replace phase with a provider, and print the per-host
# unprotected window (median, max) and the phase time. Prints figures only.
#   scripts/bench-replace.sh [N] [PROVIDER]      (default: 10 clamav; or mdatp, the lab's
#   test double of Defender for Endpoint, served by lab/mdatp-repo.yml)
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-10}
provider=${2:-clamav}
bin=${VENV:-.venv}/bin
prefix=benchr
inventory=lab/.state/bench-replace-inventory.yml
artifacts=$(mktemp -d)
export ANSIBLE_CONFIG=$PWD/ansible.cfg

cleanup() { lab/lab.sh down --prefix "$prefix" >/dev/null 2>&1 || true; rm -rf "$artifacts"; }
trap cleanup EXIT

lab/lab.sh up --hosts "$hosts" --prefix "$prefix" --port-base 2501 --inventory "$inventory" \
  --states kesl12_agent,kesl12_gui,kesl11,kav4fs,stopped >/dev/null
if [ "$provider" = mdatp ]; then
  # the mdatp TEST DOUBLE, from a signed local repository in each host
  "$bin/ansible-playbook" -i "$inventory" lab/mdatp-repo.yml >"$artifacts/repo.log" 2>&1 \
    || { tail -30 "$artifacts/repo.log"; exit 1; }
fi

start=$(date +%s.%N)
"$bin/ansible-playbook" -i "$inventory" -e @inventories/lab/group_vars/all.yml playbooks/replace.yml \
  -e "phaseout_artifacts_dir=$artifacts" -e "phaseout_provider=$provider" >"$artifacts/run.log" 2>&1 \
  || { tail -30 "$artifacts/run.log"; exit 1; }
end=$(date +%s.%N)

"$bin/python" - "$artifacts/replace/summary.json" "$start" "$end" "$hosts" "$provider" <<'PY'
import json, statistics, sys
report = json.load(open(sys.argv[1]))
start, end, hosts, provider = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
windows = [(h['host'], h.get('unprotected_window_s'), h.get('unprotected_window_clock')) for h in report['hosts']]
measured = [w for _h, w, _c in windows if w is not None]
print('replace phase, provider %s, %s lab hosts' % (provider, hosts))
print('  outcomes: %s' % report['summary'].get('outcome'))
print('  phase time: %.1f s' % (end - start))
for host, window, clock in sorted(windows):
    print('  %-10s window %s' % (host, '-' if window is None else '%.2f s (%s clock)' % (window, clock)))
if measured:
    print('  unprotected window: median %.2f s, max %.2f s over %d hosts (target: median <= 5 s)'
          % (statistics.median(measured), max(measured), len(measured)))
PY
