# shellcheck shell=bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Source me (bash):   . lab/podman-env.sh
#
# Exports CONTAINERS_CONF=<repo>/lab/containers.conf ONLY on machines where
# podman cannot run the lab's containers with its stock settings (crun
# refusing a hybrid cgroup layout, rlimits that root without
# CAP_SYS_RESOURCE may not raise: see lab/containers.conf). Elsewhere it
# changes nothing. Used by lab/lab.sh and by the Molecule scenarios.
#
# How it decides: it runs `podman run --rm <image> true` with the stock
# settings on a local image (the lab base image if present); if that fails
# and the same run with lab/containers.conf works, the file is needed. With
# no local image yet it guesses from the capabilities (no CAP_SYS_RESOURCE ->
# needed) and does not cache the guess. A real probe is cached in
# lab/.state/podman-env, keyed by podman version, kernel, capabilities and
# uid; delete that file to probe again.
#
# Overrides:
#   CONTAINERS_CONF already set        respected, nothing is changed
#   PHASEOUT_LAB_PODMAN_CONF=always    always use lab/containers.conf
#   PHASEOUT_LAB_PODMAN_CONF=never     never use it
#   PHASEOUT_LAB_DIR=<dir>             where lab/ is (default: this file's dir)

_phaseout_lab_podman_env() {
    local dir conf cache key need probe_image line candidate
    dir=${PHASEOUT_LAB_DIR:-}
    if [ -z "$dir" ]; then
        if [ -n "${BASH_SOURCE[0]:-}" ]; then
            dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
        else
            dir=$(pwd)/lab
        fi
    fi
    conf=$dir/containers.conf
    [ -n "${CONTAINERS_CONF:-}" ] && return 0
    case ${PHASEOUT_LAB_PODMAN_CONF:-auto} in
        always) export CONTAINERS_CONF=$conf; return 0 ;;
        never) return 0 ;;
    esac
    command -v podman >/dev/null 2>&1 || return 0

    cache=$dir/.state/podman-env
    key="$(podman --version 2>/dev/null)|$(uname -r)|$(awk '/^CapEff/ {print $2}' /proc/self/status)|$(id -u)"
    if [ -f "$cache" ]; then
        line=$(cat "$cache")
        if [ "${line#*;}" = "$key" ]; then
            [ "${line%%;*}" = need=1 ] && export CONTAINERS_CONF=$conf
            return 0
        fi
    fi

    probe_image=""
    for candidate in localhost/phaseout-debian12-base:latest localhost/phaseout-lab:latest; do
        if podman image exists "$candidate" 2>/dev/null; then
            probe_image=$candidate
            break
        fi
    done
    [ -n "$probe_image" ] || probe_image=$(podman images -q 2>/dev/null | head -n 1)

    if [ -z "$probe_image" ]; then
        # No image to try yet: guess from the capabilities, do not cache.
        local capeff
        capeff=$(awk '/^CapEff/ {print $2}' /proc/self/status)
        if [ -n "$capeff" ] && [ $(((16#$capeff >> 24) & 1)) -eq 0 ]; then
            export CONTAINERS_CONF=$conf
        fi
        return 0
    fi

    need=0
    if ! podman run --rm --network none "$probe_image" true >/dev/null 2>&1; then
        need=1
        if ! CONTAINERS_CONF=$conf podman run --rm --network none "$probe_image" true >/dev/null 2>&1; then
            echo "podman-env.sh: WARNING: podman cannot run $probe_image with or without $conf" >&2
        fi
    fi
    mkdir -p "$dir/.state"
    echo "need=$need;$key" >"$cache"
    [ $need -eq 1 ] && export CONTAINERS_CONF=$conf
    return 0
}

_phaseout_lab_podman_env
unset -f _phaseout_lab_podman_env
