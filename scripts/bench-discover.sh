#!/usr/bin/env bash
# Benchmark of the discover phase: `ansible -m ping` (the floor: one round trip
# per host), phaseout's discover playbook and a naive detection playbook
# (bench/naive-discover.yml) on a lab of N hosts, with the CPU split
# (scripts/bench-scale.sh runs every phase). Prints figures; asserts nothing.
#   scripts/bench-discover.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/bench-scale.sh "${1:-20}" --phases ping,discover,naive --runs "${2:-3}" --prefix benchd --port-base 4301
