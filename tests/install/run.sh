#!/usr/bin/env bash
# The collection as users install it (make install-test, part of make test):
#  1. build the tarball with ansible-galaxy collection build;
#  2. install it with ansible-galaxy collection install into a temporary
#     collections path (--no-deps: its dependencies are the collections the
#     pinned ansible package bundles, as on any controller with `ansible`);
#  3. from a temporary directory OUTSIDE the checkout (no ansible.cfg of the
#     project, ANSIBLE_COLLECTIONS_PATH = the install dir, the checkout's
#     collections/ symlink nowhere on the path), run the discover phase against
#     lab hosts, twice: a playbook of the user's own that calls the role and the
#     module by FQCN, and the collection's own playbook phaseout.antivirus.discover;
#     check the verdict of every host in the report;
#  4. ansible-doc renders every module, filter and role from the installed copy
#     (scripts/check-docs.sh INSTALLED_DIR), and the installed copy holds every
#     module, filter file and role of the checkout.
# Lab hosts: prefix "inst", ports picked by podman, removed on exit; one run at
# a time on a machine (the host names are machine-wide).
set -euo pipefail
exec {lock_fd}>"${TMPDIR:-/tmp}/phaseout-install-test.lock"
flock "$lock_fd"
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=$repo/${VENV:-.venv}/bin
work=$(mktemp -d /tmp/phaseout-install-test.XXXXXX)
prefix=inst
t0=$SECONDS

cleanup() {
  "$repo/lab/lab.sh" down --prefix "$prefix" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf 'install-test: %-60s (%3d s)\n' "$*" $((SECONDS - t0)); }
fail() { echo "install-test: FAILED: $*" >&2; exit 1; }

# Nothing of the checkout's Ansible configuration may leak into the user's side.
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS ANSIBLE_ROLES_PATH ANSIBLE_INVENTORY
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0

step "build the collection tarball"
(cd "$repo" && "$bin/ansible-galaxy" collection build --force --output-path "$work/dist" >/dev/null)
tarball=$(ls "$work"/dist/phaseout-antivirus-*.tar.gz)

# The user's side: a directory outside the checkout, the install dir only.
user=$work/user
mkdir -p "$user"
cd "$user"
export ANSIBLE_COLLECTIONS_PATH=$work/collections
[[ ! -e ansible.cfg ]] || fail "an ansible.cfg in $user"

step "install $(basename "$tarball") into a temporary collections path"
"$bin/ansible-galaxy" collection install --no-deps -p "$work/collections" "$tarball" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "ansible-galaxy collection install"; }
installed=$work/collections/ansible_collections/phaseout/antivirus
[[ -f $installed/MANIFEST.json && ! -L $installed ]] || { cat "$work/install.log"; fail "no installed copy at $installed"; }
resolved=$("$bin/ansible-galaxy" collection list phaseout.antivirus 2>/dev/null | sed -n 's/^# //p' | head -n 1)
[[ $resolved == "$work/collections/ansible_collections" ]] ||
  fail "phaseout.antivirus resolves to '$resolved', not the install dir"

step "the installed copy holds every module, filter and role of the checkout"
for dir in plugins/modules plugins/filter plugins/module_utils plugins/action roles; do
  want=$(cd "$repo/$dir" && find . -name '*.py' -o -name '*.ps1' -o -name '*.psm1' -o -name '*.yml' | grep -v __pycache__ | sort)
  have=$(cd "$installed/$dir" && find . -name '*.py' -o -name '*.ps1' -o -name '*.psm1' -o -name '*.yml' | grep -v __pycache__ | sort)
  [[ $want == "$have" ]] || fail "$dir differs between the checkout and the installed copy: $(diff <(echo "$want") <(echo "$have") | tr '\n' ' ')"
done

step "ansible-doc renders every module, filter and role from the installed copy"
VENV=$bin/.. "$repo/scripts/check-docs.sh" "$installed"

step "start 3 lab hosts (kesl12_agent, half_removed, clean)"
printf 'inst-kesl kesl12_agent -\ninst-residue half_removed -\ninst-clean clean -\n' >"$work/spec"
"$repo/lab/lab.sh" up --prefix "$prefix" --spec "$work/spec" --port-base auto \
  --inventory "$work/lab-hosts.yml" >"$work/lab.log" 2>&1 || { tail -n 30 "$work/lab.log"; fail "lab/lab.sh up"; }
# Only what a user's own inventory would hold: addresses and credentials.
"$bin/python" - "$work/lab-hosts.yml" "$user/hosts.yml" <<'PY'
import sys, yaml
lab = yaml.safe_load(open(sys.argv[1]))['all']['children']['lab']
hosts = {name: {'ansible_host': h['ansible_host'], 'ansible_port': h['ansible_port']} for name, h in lab['hosts'].items()}
yaml.safe_dump({'all': {'hosts': hosts, 'vars': lab['vars']}}, open(sys.argv[2], 'w'))
PY

cat >"$user/discover-mine.yml" <<'YAML'
---
- name: Discover Kaspersky with the installed collection
  hosts: all
  gather_facts: false
  tasks:
    - name: Read the host with the module
      phaseout.antivirus.kaspersky_info:
      register: mine

    - name: Run the discover role
      ansible.builtin.include_role:
        name: phaseout.antivirus.discover

    - name: Check the module and the role agree
      ansible.builtin.assert:
        that:
          - mine.verdict == discover_result.verdict
          - mine.installed == discover_result.installed
YAML

check_report() { # ARTIFACTS_DIR LABEL
  "$bin/python" - "$1/discover/summary.json" "$2" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
got = {h['host']: h['verdict'] for h in report['hosts']}
want = {'inst-kesl': 'installed', 'inst-residue': 'residue', 'inst-clean': 'clean'}
if got != want:
    sys.exit('install-test: FAILED: %s: verdicts %s, expected %s' % (sys.argv[2], got, want))
print('install-test:   %s: verdicts %s' % (sys.argv[2], ', '.join('%s=%s' % kv for kv in sorted(got.items()))))
PY
}

step "run a playbook of the user's own (role and module by FQCN)"
"$bin/ansible-playbook" -i hosts.yml discover-mine.yml -e "phaseout_artifacts_dir=$work/artifacts-mine" >"$work/mine.log" 2>&1 ||
  { tail -n 40 "$work/mine.log"; fail "the user's playbook"; }
check_report "$work/artifacts-mine" "user playbook"

step "run the collection's playbook phaseout.antivirus.discover"
"$bin/ansible-playbook" -i hosts.yml phaseout.antivirus.discover -e "phaseout_artifacts_dir=$work/artifacts-pb" >"$work/pb.log" 2>&1 ||
  { tail -n 40 "$work/pb.log"; fail "ansible-playbook phaseout.antivirus.discover"; }
check_report "$work/artifacts-pb" "phaseout.antivirus.discover"

step "passed"
