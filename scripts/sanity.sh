#!/usr/bin/env bash
# ansible-test sanity for the phaseout.antivirus collection, without containers
# and without network access; then tests/sanity (no deprecation warnings).
#
#   scripts/sanity.sh setup              fill the wheelhouse from PyPI (`make setup`)
#   scripts/sanity.sh                    every sanity test, then tests/sanity
#   scripts/sanity.sh --test pep8 ...    only these ansible-test sanity tests
#
# How (see ansible-test's own code: ansible_test/_internal/python_requirements.py,
# _util/target/setup/requirements.py, _internal/commands/sanity/__init__.py):
# - ansible-test tests only a tree .../ansible_collections/NAMESPACE/NAME, and the
#   checkout's collections/ symlink is not one. The collection is built with
#   ansible-galaxy (galaxy.yml's build_ignore applies, as for users) and unpacked
#   in a temporary tree.
# - Each sanity test with requirements runs in a virtualenv of its own, created
#   without pip. ansible-test puts pip into it by running get-pip.py, which it
#   downloads on first use and caches as ~/.ansible/test/cache/get_pip_X_Y.py,
#   then pip-installs the test's pinned requirements
#   (ansible_test/_data/requirements/sanity.TEST.txt).
#   Here HOME is .cache/sanity; its cached get_pip_X_Y.py is a stand-in written
#   below that runs pip from the pip wheel of .cache/sanity/wheels, and its
#   pip.conf makes pip install only from that wheelhouse (no-index, find-links;
#   ansible-test passes pip no PIP_* variable, only HOME and PATH). `setup`
#   fills the wheelhouse with exactly the pins of the installed ansible-test
#   (ansible-core==2.19.14 in requirements.txt), so the two cannot drift apart.
#   The virtualenvs stay in .cache/sanity: later runs reuse them.
# - pwsh (PowerShell) cannot be installed on Debian 12 here. Without it
#   ansible-test skips pslint itself, and validate-modules, which needs pwsh to
#   read a .ps1 module's argument spec, would crash: it then runs in a second
#   pass without the .ps1 files (their .py documentation twins are validated),
#   and tests/sanity/test_powershell_modules.py runs its checks that need no
#   pwsh on them. With pwsh on PATH one pass covers everything.
# - shellcheck is required (scripts/setup-system.sh installs it): ansible-test
#   would silently skip its shellcheck test without it.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-.venv}
PY=$ROOT/$VENV/bin/python
CACHE=$ROOT/.cache/sanity
WHEELS=$CACHE/wheels

die() { echo "sanity: $*" >&2; exit 1; }

[ -x "$PY" ] || die "no virtualenv at $VENV: run make venv"

# The requirements ansible-test installs into its sanity virtualenvs, one per
# line: pip==X (what get-pip.py would install) and every sanity.*.txt pin.
pins() {
  "$PY" - <<'EOF'
import glob
import os
import sys
import types

import ansible_test
from ansible_test._internal.python_requirements import get_venv_packages

python = types.SimpleNamespace(version='%d.%d' % sys.version_info[:2])
pins = {'%s==%s' % item for item in get_venv_packages(python).items()}
root = os.path.join(os.path.dirname(ansible_test.__file__), '_data', 'requirements')
for path in glob.glob(os.path.join(root, 'sanity.*.txt')):
    with open(path, encoding='utf-8') as handle:
        pins.update(line.split('#')[0].strip() for line in handle)
pins.discard('')
print('\n'.join(sorted(pins, key=str.lower)))
EOF
}

wheelhouse_current() {
  [ -f "$WHEELS/pins.txt" ] && [ "$(cat "$WHEELS/pins.txt")" = "$(pins)" ]
}

setup() {
  if wheelhouse_current; then
    return 0
  fi
  echo "sanity: downloading the wheels of ansible-test's sanity requirements into .cache/sanity/wheels"
  mkdir -p "$CACHE"
  local new
  new=$(mktemp -d "$CACHE/wheels.XXXXXX")
  pins >"$new/requirements.txt"
  "$PY" -m pip download -q --disable-pip-version-check --only-binary=:all: \
    -d "$new" -r "$new/requirements.txt"
  mv "$new/requirements.txt" "$new/pins.txt"
  rm -rf "$WHEELS"
  mv "$new" "$WHEELS"
}

# HOME for ansible-test: pip installs only from the wheelhouse, and the stand-in
# for get-pip.py runs pip from the wheelhouse's pip wheel to install the pip
# version asked for (again from the wheelhouse), as get-pip.py does from the
# copy of pip it embeds.
seed_home() {
  local version wheel cache
  mkdir -p "$CACHE/.config/pip"
  printf '[global]\nno-index = true\nfind-links = %s\ndisable-pip-version-check = true\n' "$WHEELS" \
    >"$CACHE/.config/pip/pip.conf"
  version=$(sed -n 's/^pip==//p' "$WHEELS/pins.txt")
  wheel=$(ls "$WHEELS"/pip-"$version"-*.whl)
  cache=$CACHE/.ansible/test/cache
  mkdir -p "$cache"
  cat >"$cache/get_pip_${version//./_}.py" <<EOF
"""Offline stand-in for get-pip.py $version, written by scripts/sanity.sh."""
import sys
sys.path.insert(0, '$wheel')
from pip._internal.cli.main import main  # noqa: E402
ARGS = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
sys.exit(main(['install', '--upgrade', '--force-reinstall'] + ARGS))
EOF
}

if [ "${1:-}" = setup ]; then
  setup
  exit 0
fi

# --test NAME options pick tests; anything else goes to ansible-test as is.
picked=()
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --test) [ $# -ge 2 ] || die "--test needs a test name"; picked+=("$2"); shift 2 ;;
    --test=*) picked+=("${1#--test=}"); shift ;;
    *) passthrough+=("$1"); shift ;;
  esac
done

setup
seed_home
command -v shellcheck >/dev/null || die "shellcheck is missing (its sanity test would be skipped): run make system-deps"

start=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/phaseout-sanity.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
read -r namespace name < <("$PY" -c 'import yaml; g = yaml.safe_load(open("galaxy.yml")); print(g["namespace"], g["name"])')
"$ROOT/$VENV/bin/ansible-galaxy" collection build --output-path "$tmp" "$ROOT" >/dev/null
tree=$tmp/ansible_collections/$namespace/$name
mkdir -p "$tree"
tar -xzf "$tmp/$namespace-$name-"*.tar.gz -C "$tree"
echo "sanity: $namespace.$name built and unpacked in $(( SECONDS - start )) s"

pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ansible_test() {
  (cd "$tree" && env -u ANSIBLE_CONFIG -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_COLLECTIONS_PATHS \
    HOME="$CACHE" "$ROOT/$VENV/bin/ansible-test" sanity --local --python "$pyver" "$@" ${passthrough[@]+"${passthrough[@]}"})
}

# validate-modules apart when pwsh is missing (see the top of this file).
ps1_excludes=()
if ! command -v pwsh >/dev/null; then
  while IFS= read -r path; do
    ps1_excludes+=(--exclude "$path")
  done < <(cd "$tree" && find plugins/modules -name '*.ps1' | sort)
fi
# Two passes: the first runs the picked tests (all by default) except
# validate-modules when pwsh is missing; the second runs that one alone.
run_first=yes
first=()
second=()
for test in ${picked[@]+"${picked[@]}"}; do
  if [ "$test" = validate-modules ] && [ ${#ps1_excludes[@]} -gt 0 ]; then
    second=(--test validate-modules "${ps1_excludes[@]}")
  else
    first+=(--test "$test")
  fi
done
if [ ${#picked[@]} -eq 0 ] && [ ${#ps1_excludes[@]} -gt 0 ]; then
  first=(--skip-test validate-modules)
  second=(--test validate-modules "${ps1_excludes[@]}")
elif [ ${#picked[@]} -gt 0 ] && [ ${#first[@]} -eq 0 ]; then
  run_first=no
fi

rc=0
if [ $run_first = yes ]; then
  step=$SECONDS
  ansible_test ${first[@]+"${first[@]}"} || rc=1
  echo "sanity: ansible-test sanity ${first[*]-} took $(( SECONDS - step )) s"
fi
if [ ${#second[@]} -gt 0 ]; then
  step=$SECONDS
  ansible_test "${second[@]}" || rc=1
  echo "sanity: ansible-test sanity --test validate-modules without the .ps1 modules (no pwsh) took $(( SECONDS - step )) s"
fi
if [ ${#picked[@]} -eq 0 ]; then
  step=$SECONDS
  "$PY" -m pytest tests/sanity -q -p no:cacheprovider || rc=1
  echo "sanity: tests/sanity took $(( SECONDS - step )) s"
fi
echo "sanity: $( [ $rc -eq 0 ] && echo passed || echo FAILED ) in $(( SECONDS - start )) s"
exit $rc
