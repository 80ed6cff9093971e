#!/usr/bin/env bash
# phaseout's benchmark, every figure in one run: ping, discover, the naive
# detection, replace, its rerun (the fast path) and verify, at 10, 100 and 250
# lab hosts, side by side, with the controller's CPU and memory, the hosts' CPU
# (the lab containers' cgroups), task results and AWX job events per host, the
# unprotected window and the machine's load. It asserts nothing.
#   scripts/bench-scale.sh [SIZES] [bench/run.py options...]
#   scripts/bench-scale.sh 10,100,250
#   scripts/bench-scale.sh 10 --phases ping,discover --runs 5
#   scripts/bench-scale.sh 10,100,250 --phases-at 250=ping,discover,naive
# Take the big figures when the machine is quiet (uptime) and hold
# /tmp/phaseout-fullrun.lock meanwhile (BENCHMARKS.md, docs/scale.md).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-10,100,250}
shift || true
# shellcheck source=/dev/null
source lab/podman-env.sh
exec "${VENV:-.venv}/bin/python" bench/run.py --sizes "$sizes" "$@"
