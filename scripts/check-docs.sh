#!/usr/bin/env bash
# Every module of the collection renders with ansible-doc (Python and Windows ones).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin
status=0
for doc in plugins/modules/*.py; do
  name=$(basename "$doc" .py)
  if ! out=$("$bin/ansible-doc" "phaseout.antivirus.$name" 2>&1); then
    echo "ansible-doc phaseout.antivirus.$name failed:"; echo "$out"; status=1
  elif grep -q 'ERROR' <<<"$out"; then
    echo "ansible-doc phaseout.antivirus.$name reported an error:"; echo "$out"; status=1
  fi
done
[ "$status" -eq 0 ] && echo "ansible-doc: $(ls plugins/modules/*.py | wc -l) modules render"
exit "$status"
