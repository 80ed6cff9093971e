#!/usr/bin/env bash
# Every module and every filter of the collection renders with ansible-doc
# (Python and Windows modules; filters documented in the .py or an adjacent .yml).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin
status=0

check() { # TYPE NAME
  local out
  if ! out=$("$bin/ansible-doc" -t "$1" "phaseout.antivirus.$2" 2>&1); then
    echo "ansible-doc -t $1 phaseout.antivirus.$2 failed:"; echo "$out"; status=1
  elif grep -q 'ERROR' <<<"$out"; then
    echo "ansible-doc -t $1 phaseout.antivirus.$2 reported an error:"; echo "$out"; status=1
  fi
}

modules=0
for doc in plugins/modules/*.py; do
  check module "$(basename "$doc" .py)"; modules=$((modules + 1))
done

# The filter names come from each plugin file's FilterModule.filters().
filters=0
for name in $("$bin/python" - <<'PY'
import importlib.util, pathlib, sys
sys.path.insert(0, 'collections')
for path in sorted(pathlib.Path('plugins/filter').glob('*.py')):
    spec = importlib.util.spec_from_file_location('f_' + path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name in sorted(mod.FilterModule().filters()):
        print(name)
PY
); do
  check filter "$name"; filters=$((filters + 1))
done

[ "$status" -eq 0 ] && echo "ansible-doc: $modules modules and $filters filters render"
exit "$status"
