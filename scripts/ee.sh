#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build phaseout's execution environment with ansible-builder and run the
# discover phase inside it (make ee). See docs/dashboard.md.
#
#   scripts/ee.sh [--base IMAGE] [--tag TAG] [--no-test]
#
# execution-environment.yml is the production definition (a registry base image,
# collections from Galaxy). Neither is reachable here, so this script derives a
# local definition from it: the base image given by --base (default: a Debian 12
# base built from ee/Containerfile.base on the lab's debootstrapped image), the
# Python of that base, apt-get as the package manager, and the collections from
# the pinned `ansible` package instead of Galaxy. Everything else (ansible-core,
# ansible-runner, pywinrm with Kerberos, the system packages through bindep) is
# built as in production.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
BASE=""
TAG=localhost/phaseout-ee:latest
TEST=1
while [ $# -gt 0 ]; do
    case $1 in
        --base) BASE=$2; shift 2 ;;
        --tag) TAG=$2; shift 2 ;;
        --no-test) TEST=0; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "ee.sh: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
done
say() { echo "ee.sh: $*" >&2; }
# shellcheck source=../lab/podman-env.sh
source lab/podman-env.sh
PY=$REPO/.venv/bin/python
BUILD=$REPO/.cache/ee
mkdir -p "$BUILD"

start=$(date +%s)
if [ -z "$BASE" ]; then
    BASE=localhost/phaseout-ee-base:latest
    lab_base=$("$PY" -c 'import yaml; print(yaml.safe_load(open("lab/manifest.yml"))["base_image"])')
    podman image exists "$lab_base" || lab/lab.sh image
    context=$BUILD/base
    mkdir -p "$context"
    cp ee/Containerfile.base "$context/Containerfile"
    # the machine's own trust store (a TLS-inspecting proxy's CA lives only there)
    if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
        cp /etc/ssl/certs/ca-certificates.crt "$context/host-ca-certificates.crt"
    else
        : >"$context/host-ca-certificates.crt"
    fi
    want=$(cat "$context/Containerfile" "$context/host-ca-certificates.crt" | sha1sum | cut -c1-12)
    have=$(podman image inspect --format '{{ index .Labels "phaseout.ee-base-hash" }}' "$BASE" 2>/dev/null || true)
    if [ "$want" != "$have" ]; then
        say "building the local base image $BASE from $lab_base"
        podman build -q --build-arg "PHASEOUT_BASE=$lab_base" --label "phaseout.ee-base-hash=$want" \
            -t "$BASE" "$context" >/dev/null
    fi
fi

# The local definition: execution-environment.yml with the local base and no Galaxy.
"$PY" - "$BASE" "$TAG" "$BUILD/execution-environment.local.yml" <<'PYEOF'
import sys, yaml
base, tag, out = sys.argv[1:]
with open('execution-environment.yml', encoding='utf-8') as handle:
    ee = yaml.safe_load(handle)
pins = {}
for line in open('requirements.txt', encoding='utf-8'):
    line = line.split('#', 1)[0].strip()
    if line.startswith('ansible=='):
        pins['ansible'] = line
ee['images']['base_image']['name'] = base
deps = ee['dependencies']
deps['python_interpreter'] = {'python_path': '/usr/bin/python3'}   # the base image's Python
deps.pop('galaxy', None)                                            # Galaxy is unreachable here:
deps['python'] = list(deps['python']) + [pins['ansible']]          # the collections of the ansible package
ee.setdefault('options', {})['package_manager_path'] = '/usr/bin/apt-get'
ee['options']['skip_pip_install'] = True   # Debian's pip comes with the base (no ensurepip there)
ee['options']['tags'] = [tag]
# apt-get has no `clean all`; the package lists stay in the local image
ee.setdefault('build_arg_defaults', {})['PKGMGR_PRESERVE_CACHE'] = 'always'
with open(out, 'w', encoding='utf-8') as handle:
    yaml.safe_dump(ee, handle, sort_keys=False)
PYEOF
# bindep reads execution-environment.yml's system list; requirements.yml is not needed
say "ansible-builder build on $BASE -> $TAG"
rm -rf "$BUILD/context"
if ! "$REPO/.venv/bin/ansible-builder" build -f "$BUILD/execution-environment.local.yml" -t "$TAG" \
        --container-runtime podman --context "$BUILD/context" -v 2 >"$BUILD/build.log" 2>&1; then
    tail -n 40 "$BUILD/build.log" >&2
    say "ERROR: the build failed (log: $BUILD/build.log)"
    exit 1
fi
built=$(date +%s)
say "built $TAG in $((built - start)) s ($(podman image inspect --format '{{ .Size }}' "$TAG" | numfmt --to=iec) )"
podman run --rm "$TAG" ansible --version | head -n 1 >&2
podman run --rm "$TAG" ansible-galaxy collection list ansible.posix 2>/dev/null | tail -n 1 >&2

if [ "$TEST" = 1 ]; then
    say "running the discover phase inside $TAG against a lab of its own"
    "$PY" -m pytest tests/ee -q -p no:cacheprovider
    say "EE test done in $(( $(date +%s) - built )) s"
fi
