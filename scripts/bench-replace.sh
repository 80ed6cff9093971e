#!/usr/bin/env bash
# Benchmark of the replace phase: replace, its rerun (the fast path) and verify
# on a lab of N hosts in the default mix, with a provider (clamav, or mdatp: the
# lab's TEST DOUBLE, served by lab/mdatp-repo.yml), the per-host unprotected
# window and the CPU split (scripts/bench-scale.sh runs every phase). Prints
# figures; asserts nothing.
#   scripts/bench-replace.sh [N] [PROVIDER] [bench/run.py options...]
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-10}
provider=${2:-clamav}
shift 2 || shift $# || true
exec scripts/bench-scale.sh "$hosts" --phases replace,rerun,verify --provider "$provider" --prefix benchr \
  --port-base 4601 "$@"
