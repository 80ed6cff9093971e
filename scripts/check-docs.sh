#!/usr/bin/env bash
# Every module, every filter and every role of the collection renders with
# ansible-doc (Python and Windows modules; filters documented in the .py or an
# adjacent .yml; roles from meta/argument_specs.yml), and each comes from the
# expected copy of the collection.
#
#   scripts/check-docs.sh                 the checkout (through collections/)
#   scripts/check-docs.sh INSTALLED_DIR   an installed copy: INSTALLED_DIR is
#       .../ansible_collections/phaseout/antivirus; the caller points
#       ANSIBLE_COLLECTIONS_PATH at it (tests/install/run.sh does)
#
# One ansible-doc run per plugin type renders every name of that type.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin
root=${1:-$PWD/collections/ansible_collections/phaseout/antivirus}
root=$(cd "$root" && pwd)
[[ -d $root/plugins/modules ]] || { echo "check-docs: $root is not the phaseout.antivirus collection" >&2; exit 2; }
status=0

check() { # TYPE NAME... : render them in one ansible-doc run and check each one
  local type=$1 out name missing=0
  shift
  out=$(ANSIBLE_NOCOLOR=1 "$bin/ansible-doc" -t "$type" "${@/#/phaseout.antivirus.}" 2>&1) || {
    echo "ansible-doc -t $type failed:"; echo "$out"; status=1; return 0; }
  if grep -E '^(\[WARNING\]|\[ERROR\]|ERROR)' <<<"$out"; then
    echo "ansible-doc -t $type reported the problems above"; status=1
  fi
  for name in "$@"; do
    # header: "> MODULE phaseout.antivirus.NAME (PATH)"; roles: "> ROLE: phaseout.antivirus.NAME (PATH)"
    if ! grep -qE "^> ${type^^}:? \*?phaseout\.antivirus\.$name\*? \(${root//./\\.}(/|\))" <<<"$out"; then
      echo "ansible-doc -t $type phaseout.antivirus.$name did not render from $root"; missing=1
    fi
  done
  ((missing == 0)) || status=1
}

modules=()
for path in "$root"/plugins/modules/*.py; do
  name=${path##*/}
  modules+=("${name%.py}")
done
check module "${modules[@]}"

# The filter names come from each plugin file's FilterModule.filters().
mapfile -t filters < <("$bin/python" - "$root" <<'PY'
import importlib.util, pathlib, sys
root = pathlib.Path(sys.argv[1])
sys.path.insert(0, str(root.parents[2]))  # the directory holding ansible_collections/
for path in sorted((root / 'plugins' / 'filter').glob('*.py')):
    spec = importlib.util.spec_from_file_location('f_' + path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name in sorted(mod.FilterModule().filters()):
        print(name)
PY
)
check filter "${filters[@]}"

roles=()
for path in "$root"/roles/*/meta/argument_specs.yml; do
  path=${path%/meta/argument_specs.yml}
  roles+=("${path##*/}")
done
check role "${roles[@]}"

[ "$status" -eq 0 ] && echo "ansible-doc: ${#modules[@]} modules, ${#filters[@]} filters and ${#roles[@]} roles render from $root"
exit "$status"
