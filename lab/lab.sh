#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# lab/lab.sh -- the phaseout lab: a fleet of Debian 12 containers (systemd as
# PID 1, sshd on 127.0.0.1 only) in the states Kaspersky removal must handle.
# See lab/README.md and inventories/lab/README.md.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$LAB_DIR")
STATE_DIR=$LAB_DIR/.state
BUILD_DIR=$LAB_DIR/build
KEY=$STATE_DIR/id_ed25519
DEFAULT_INVENTORY=$REPO_DIR/inventories/lab/hosts.yml
LABEL=phaseout.lab

usage() {
    cat <<'EOF'
Usage: lab/lab.sh <command> [options]

  image [--rebuild] [--rebuild-base]
        Build localhost/phaseout-debian12-base (debootstrap + podman import;
        kept unless --rebuild-base) and localhost/phaseout-lab:latest (podman
        build of lab/Containerfile with the test-double .debs). The Debian
        mirror, its keyring and the proxy are this machine's own apt settings
        (lab/lib/aptsources.py; PHASEOUT_LAB_MIRROR overrides the mirror). A
        no-op when the image's hash label matches lab/Containerfile,
        lab/image, lab/doubles and the apt sources; --rebuild forces it
        (without podman's layer cache, so the Debian packages are fetched
        fresh).
  debs  Build the test-double packages into lab/build/debs only.
  up [--hosts N] [--states s1,s2,...] [--spec FILE] [--prefix NAME]
     [--port-base P|auto] [--inventory PATH] [--jobs J] [--keep-on-failure]
        Start N hosts (default and state mix: lab/manifest.yml), each in its
        state, and write the inventory (default inventories/lab/hosts.yml for
        the default prefix, lab/.state/<prefix>-hosts.yml otherwise).
        --spec FILE names the hosts instead: one "NAME STATE [CAP,CAP|-]"
        line each (containers get the host's name; capabilities default to
        SYS_ADMIN,NET_ADMIN; - for none). --port-base auto lets podman pick
        free ports. Containers of the same prefix or name are removed first.
  down [--prefix NAME | --all]
        Remove the lab containers of one prefix (default: the default lab's)
        and the inventories they were written to; --all: of every prefix
        (Molecule scenarios, tests and benchmarks start labs of their own).
  status [--prefix NAME] [--detect]
        List lab containers; --detect asks each host which state it is in.
  state HOST STATE [--prefix NAME]
        Put one running host into another state and update the inventory.
  ssh HOST [COMMAND...] [--prefix NAME]
        Open an SSH session (or run COMMAND) on a lab host as root.
  states
        List the state names.

States: clean kesl12_agent kesl11 agent_only stopped half_removed kav4fs
        clamav kesl12_gui (see lab/image/phaseout-lab-state).
EOF
}

say() { echo "lab.sh: $*" >&2; }
die() {
    say "ERROR: $*"
    exit 1
}

# --- python with PyYAML (the project venv) ----------------------------------
PY=""
find_python() {
    local candidate
    for candidate in "$REPO_DIR/.venv/bin/python" python3; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import yaml' 2>/dev/null; then
            PY=$candidate
            return 0
        fi
    done
    die "no python with PyYAML found: create the venv (.venv) or apt-get install python3-yaml"
}
labctl() { "$PY" "$LAB_DIR/lib/labctl.py" "$@"; }
aptsources() { "$PY" "$LAB_DIR/lib/aptsources.py" "$@"; }

# apt's proxy settings (Acquire::http(s)::Proxy) for debootstrap and for the
# apt runs of `podman build` (podman passes http_proxy/https_proxy through).
export_apt_proxy() {
    local line
    while IFS= read -r line; do
        if [[ -n $line ]]; then export "${line?}"; fi
    done < <(aptsources proxy)
}

# --- podman -------------------------------------------------------------------
# shellcheck source=podman-env.sh
PHASEOUT_LAB_DIR=$LAB_DIR . "$LAB_DIR/podman-env.sh"
command -v podman >/dev/null || die "podman not found (apt-get install podman runc)"

image_label() { # IMAGE LABEL -> value or empty
    podman image inspect --format "{{ index .Labels \"$2\" }}" "$1" 2>/dev/null | sed 's/^<no value>$//' || true
}

source_hash() { # hash of everything that goes into the lab image
    local base_id=$1 apt_dir=$2
    (
        echo "base=$base_id"
        cd "$apt_dir"
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
        cd "$LAB_DIR"
        find Containerfile image doubles \( -type f -o -type l \) ! -path '*/__pycache__/*' -print0 |
            LC_ALL=C sort -z | while IFS= read -r -d '' f; do
                if [[ -L $f ]]; then
                    echo "L $f $(readlink "$f")"
                else
                    echo "F $f $([[ -x $f ]] && echo x) $(sha256sum <"$f" | cut -d' ' -f1)"
                fi
            done
    ) | sha256sum | cut -c1-16
}

build_base() {
    local base=$1 mirror keyring rootfs opts=()
    command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"
    mirror=$(aptsources mirror) || die "no Debian mirror for debootstrap (see above)"
    keyring=$(aptsources keyring)
    [[ -n $keyring ]] && opts+=(--keyring="$keyring")
    rootfs=$(mktemp -d /var/tmp/phaseout-lab-rootfs.XXXXXX)
    say "debootstrap --variant=minbase bookworm ($mirror, from this machine's apt sources) ..."
    if ! debootstrap --variant=minbase "${opts[@]}" bookworm "$rootfs" "$mirror" >"$STATE_DIR/debootstrap.log" 2>&1; then
        rm -rf "$rootfs"
        tail -n 20 "$STATE_DIR/debootstrap.log" >&2
        die "debootstrap failed (log: $STATE_DIR/debootstrap.log)"
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    say "podman import -> $base"
    if ! tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$base" >>"$STATE_DIR/debootstrap.log" 2>&1; then
        rm -rf "$rootfs"
        die "podman import failed"
    fi
    rm -rf "$rootfs"
}

cmd_debs() {
    bash "$LAB_DIR/doubles/build.sh" "$BUILD_DIR/debs"
}

cmd_image() {
    local rebuild=no rebuild_base=no
    while (($#)); do
        case $1 in
            --rebuild) rebuild=yes ;;
            --rebuild-base) rebuild=yes rebuild_base=yes ;;
            *) die "image: unknown option $1" ;;
        esac
        shift
    done
    # One build at a time on this machine (the image name is machine-wide, and
    # parallel runs share lab/build): a second caller waits, then finds the
    # image up to date. The lock is let go as soon as the image is there.
    local lock_fd
    exec {lock_fd}>"${TMPDIR:-/tmp}/phaseout-lab-image.lock"
    flock "$lock_fd"
    image_up_to_date "$rebuild" "$rebuild_base"
    exec {lock_fd}>&-
}

image_up_to_date() { # REBUILD REBUILD_BASE (yes|no)
    local rebuild=$1 rebuild_base=$2
    local base image base_id hash old_id apt_dir=$BUILD_DIR/apt src name
    base=$(labctl get base_image)
    image=$(labctl get image)
    mkdir -p "$STATE_DIR"
    export_apt_proxy
    if [[ $rebuild_base == yes ]] || ! podman image exists "$base"; then
        build_base "$base"
    fi
    base_id=$(podman image inspect --format '{{.Id}}' "$base")
    # The image's apt sources: this machine's Debian mirror (and the keyrings
    # of a mirror not signed by Debian), never an address of our own.
    rm -rf "$apt_dir"
    mkdir -p "$apt_dir/keyrings"
    aptsources sources-list >"$apt_dir/sources.list" || die "no Debian mirror for the lab image (see above)"
    while read -r src name; do
        if [[ -n $src ]]; then cp "$src" "$apt_dir/keyrings/$name"; fi
    done < <(aptsources keyrings)
    hash=$(source_hash "$base_id" "$apt_dir")
    if [[ $rebuild == no ]] && podman image exists "$image" && [[ $(image_label "$image" "$LABEL.hash") == "$hash" ]]; then
        say "image $image is up to date (hash $hash)"
        return 0
    fi
    old_id=$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
    say "building $image (hash $hash) ..."
    aptsources describe | sed 's/^/lab.sh:   /' >&2
    cmd_debs >/dev/null
    local context=$BUILD_DIR/context
    rm -rf "$context"
    mkdir -p "$context/debs"
    cp "$LAB_DIR/Containerfile" "$LAB_DIR"/image/* "$context/"
    cp -r "$apt_dir/sources.list" "$apt_dir/keyrings" "$context/"
    cp "$BUILD_DIR"/debs/*.deb "$context/debs/"
    local cache=()
    [[ $rebuild == yes ]] && cache=(--no-cache)
    podman build --pull=never "${cache[@]}" -f "$context/Containerfile" \
        --build-arg "BASE_IMAGE=$base" \
        --label "$LABEL.hash=$hash" --label "$LABEL.base=$base_id" \
        -t "$image" "$context" >"$STATE_DIR/image-build.log" 2>&1 ||
        { tail -n 30 "$STATE_DIR/image-build.log" >&2; die "podman build failed (log: $STATE_DIR/image-build.log)"; }
    if [[ -n $old_id && $old_id != "$(podman image inspect --format '{{.Id}}' "$image")" ]]; then
        podman rmi "$old_id" >/dev/null 2>&1 || true # still used by containers: keep
    fi
    say "built $image"
}

# Every systemd container takes ~7 inotify instances from root's shared
# fs.inotify.max_user_instances (often 128: about 18 containers machine-wide);
# past it, systemd in new containers hangs in "initializing". Raise the
# limit when we can (root, writable /proc/sys), else stop with the command.
ensure_inotify() { # NEW_CONTAINERS
    local file=/proc/sys/fs/inotify/max_user_instances limit running need
    [[ -r $file ]] || return 0
    limit=$(cat "$file")
    running=$(podman ps -q | wc -l)
    need=$(((running + $1) * 8 + 128))
    ((limit >= need)) && return 0
    local want=$((need > 1024 ? need : 1024))
    if [[ ${PHASEOUT_LAB_NO_SYSCTL:-} != 1 && -w $file ]] && echo "$want" >"$file" 2>/dev/null; then
        say "raised fs.inotify.max_user_instances from $limit to $want ($running running + $1 new systemd containers need ~$need)"
        return 0
    fi
    die "fs.inotify.max_user_instances is $limit; $running running + $1 new systemd containers need ~$need. Run: sysctl -w fs.inotify.max_user_instances=$want"
}

ensure_key() {
    mkdir -p "$STATE_DIR"
    chmod 700 "$STATE_DIR"
    if [[ ! -f $KEY ]]; then
        ssh-keygen -q -t ed25519 -N '' -C phaseout-lab -f "$KEY"
    fi
}

ssh_opts() { # PORT
    echo "-i $KEY -p $1 -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=5"
}

# --- up -------------------------------------------------------------------------
# One host: create, inject the key, start, wait for systemd and sshd, apply
# the state. Runs in parallel (xargs -P); logs to lab/.state/logs/<prefix>-<host>.log.
provision_steps() { # NAME CONTAINER PORT STATE CAPS
    local name=$1 container=$2 port=$3 state=$4 caps=${5:-SYS_ADMIN,NET_ADMIN} i st="" cap_args=() cap
    echo "== $name ($container) port $port state $state capabilities $caps"
    if [[ $caps != - ]]; then
        for cap in ${caps//,/ }; do cap_args+=(--cap-add "$cap"); done
    fi
    # port "auto": podman picks a free port at create time and keeps it across restarts
    [[ $port == auto ]] && port=""
    podman create --name "$container" --hostname "$name" \
        --label "$LABEL=true" --label "$LABEL.prefix=$PHASEOUT_LAB_PREFIX" \
        --label "$LABEL.host=$name" --label "$LABEL.state=$state" \
        --label "$LABEL.inventory=$PHASEOUT_LAB_INVENTORY" \
        --systemd=always "${cap_args[@]}" \
        --publish "127.0.0.1:$port:22" \
        "$PHASEOUT_LAB_IMAGE" /lib/systemd/systemd || return 1
    port=$(container_port "$container") || return 1
    podman cp "$STATE_DIR/authorized_keys" "$container:/root/.ssh/authorized_keys" || return 1
    podman start "$container" || return 1
    # `is-system-running --wait` blocks until the boot is over: one podman exec
    # (each costs a runc start) instead of one every half second; retried while
    # systemd does not answer yet (its socket appears a moment after start)
    for ((i = 0; i < 240; i++)); do
        st=$(podman exec "$container" timeout 120 systemctl is-system-running --wait 2>/dev/null || true)
        [[ $st == running || $st == degraded ]] && break
        sleep 0.5
    done
    echo "systemd: $st after $i polls"
    if [[ $st == degraded ]]; then
        podman exec "$container" systemctl --failed --no-legend || true
    elif [[ $st != running ]]; then
        echo "systemd did not come up; container log:"
        podman logs --tail 20 "$container" 2>&1 || true
        return 1
    fi
    for ((i = 0; i < 60; i++)); do
        # shellcheck disable=SC2046
        ssh $(ssh_opts "$port") root@127.0.0.1 true && break
        sleep 0.5
    done
    if ((i == 60)); then
        echo "sshd on 127.0.0.1:$port does not accept the lab key"
        return 1
    fi
    podman exec "$container" /usr/local/sbin/phaseout-lab-state "$state" || return 1
}

container_port() { # CONTAINER -> the host port published for its sshd
    podman inspect --format '{{ (index (index .HostConfig.PortBindings "22/tcp") 0).HostPort }}' "$1"
}

cmd__provision() {
    local name=$1 start=$SECONDS log=$STATE_DIR/logs/$PHASEOUT_LAB_PREFIX-$1.log
    if ! provision_steps "$@" >"$log" 2>&1; then
        echo "FAILED $name ($4) after $((SECONDS - start)) s; log: $log" >&2
        tail -n 15 "$log" | sed 's/^/    /' >&2
        return 1
    fi
    printf '  %-8s %-14s 127.0.0.1:%-6s ready in %3d s\n' "$name" "$4" "$(container_port "$2")" $((SECONDS - start))
}

lab_containers() { # [PREFIX] -> container IDs
    if [[ -n ${1:-} ]]; then
        podman ps -a -q --filter "label=$LABEL=true" --filter "label=$LABEL.prefix=$1"
    else
        podman ps -a -q --filter "label=$LABEL=true"
    fi
}

remove_containers() { # IDs or names...
    (($#)) || return 0
    podman rm --force --ignore --time 0 "$@" >/dev/null 2>&1 || true
}

cmd_up() {
    local hosts="" states="" spec="" prefix="" port_base="" inventory="" jobs="" keep=no
    while (($#)); do
        case $1 in
            --hosts) hosts=${2:?}; shift ;;
            --states) states=${2:?}; shift ;;
            --spec) spec=${2:?}; shift ;;
            --prefix) prefix=${2:?}; shift ;;
            --port-base) port_base=${2:?}; shift ;;
            --inventory) inventory=${2:?}; shift ;;
            --jobs) jobs=${2:?}; shift ;;
            --keep-on-failure) keep=yes ;;
            *) die "up: unknown option $1 (see lab/lab.sh --help)" ;;
        esac
        shift
    done
    local t0=$SECONDS default_prefix
    default_prefix=$(labctl get prefix)
    prefix=${prefix:-$default_prefix}
    if [[ -z $inventory ]]; then
        if [[ $prefix == "$default_prefix" ]]; then inventory=$DEFAULT_INVENTORY; else inventory=$STATE_DIR/$prefix-hosts.yml; fi
    fi
    mkdir -p "$(dirname "$inventory")"
    inventory=$(cd "$(dirname "$inventory")" && pwd)/$(basename "$inventory")
    # Starting hosts mostly waits (podman, systemd boot, dpkg): 4 per core, 4..8.
    local cores
    cores=$(nproc)
    jobs=${jobs:-$((cores * 4 < 4 ? 4 : (cores * 4 > 8 ? 8 : cores * 4)))}

    local plan=$STATE_DIR/$prefix.plan args=()
    mkdir -p "$STATE_DIR/logs"
    [[ -n $hosts ]] && args+=(--hosts "$hosts")
    [[ -n $states ]] && args+=(--states "$states")
    [[ -n $port_base ]] && args+=(--port-base "$port_base")
    [[ -n $spec ]] && args+=(--spec "$spec")
    labctl plan --prefix "$prefix" "${args[@]}" >"$plan"

    cmd_image
    ensure_key
    cp "$KEY.pub" "$STATE_DIR/authorized_keys"
    chmod 600 "$STATE_DIR/authorized_keys"

    local names=()
    mapfile -t names < <(awk '{print $2}' "$plan")
    # shellcheck disable=SC2046
    remove_containers $(lab_containers "$prefix") "${names[@]}"
    rm -f "$inventory"

    local count
    count=$(wc -l <"$plan")
    ensure_inotify "$count"
    say "starting $count host(s), prefix '$prefix', $jobs in parallel ..."
    export PHASEOUT_LAB_PREFIX=$prefix PHASEOUT_LAB_INVENTORY=$inventory
    PHASEOUT_LAB_IMAGE=$(labctl get image)
    export PHASEOUT_LAB_IMAGE
    local ok=yes
    # shellcheck disable=SC2016
    # The slowest state (clamav: an apt install) starts first.
    { grep ' clamav ' "$plan" || true; grep -v ' clamav ' "$plan" || true; } |
        xargs -P "$jobs" -L 1 "$LAB_DIR/lab.sh" _provision || ok=no
    if [[ $ok == no ]]; then
        if [[ $keep == yes ]]; then
            say "some hosts failed; containers kept (--keep-on-failure); logs in $STATE_DIR/logs"
        else
            say "some hosts failed; removing the lab (use --keep-on-failure to keep it); logs in $STATE_DIR/logs"
            # shellcheck disable=SC2046
            remove_containers $(lab_containers "$prefix")
        fi
        exit 1
    fi
    # the ports podman picked (--port-base auto) go into the plan, then the inventory
    local row=() resolved=$plan.ports
    : >"$resolved"
    while read -r -a row; do
        row[2]=$(container_port "${row[1]}") || die "cannot read the sshd port of ${row[1]}"
        echo "${row[*]}" >>"$resolved"
    done <"$plan"
    mv "$resolved" "$plan"
    labctl inventory "$plan" "$inventory" "$KEY"
    say "lab '$prefix' up: $count host(s) in $((SECONDS - t0)) s; inventory: $inventory"
    say "try: .venv/bin/ansible -i ${inventory#"$REPO_DIR"/} lab -m ping"
}

cmd_down() {
    local prefix="" all=no
    while (($#)); do
        case $1 in
            --prefix) prefix=${2:?}; shift ;;
            --all) all=yes ;;
            *) die "down: unknown option $1" ;;
        esac
        shift
    done
    local ids inventories inv default_prefix
    default_prefix=$(labctl get prefix)
    [[ $all == yes && -n $prefix ]] && die "down: --prefix and --all exclude each other"
    # Without --all, one prefix only: other labs (a Molecule scenario's, a
    # test's) may be in use by someone else.
    [[ $all == no && -z $prefix ]] && prefix=$default_prefix
    ids=$(lab_containers "$prefix")
    inventories=""
    if [[ -n $ids ]]; then
        # shellcheck disable=SC2086
        inventories=$(podman inspect --format "{{ index .Config.Labels \"$LABEL.inventory\" }}" $ids 2>/dev/null | sort -u)
    fi
    if [[ -z $prefix || $prefix == "$default_prefix" ]]; then
        inventories+=$'\n'"$DEFAULT_INVENTORY"
    fi
    # shellcheck disable=SC2086
    remove_containers $ids
    local n
    n=$(echo "$ids" | grep -c . || true)
    while IFS= read -r inv; do
        [[ -n $inv && -f $inv ]] || continue
        if head -n 1 "$inv" | grep -q '^# Generated by lab/lab.sh'; then
            rm -f "$inv"
            say "removed inventory $inv"
        fi
    done <<<"$inventories"
    say "removed $n lab container(s)${prefix:+ with prefix \"$prefix\"}"
}

cmd_status() {
    local prefix="" detect=no
    while (($#)); do
        case $1 in
            --prefix) prefix=${2:?}; shift ;;
            --detect) detect=yes ;;
            *) die "status: unknown option $1" ;;
        esac
        shift
    done
    local image
    image=$(labctl get image)
    if podman image exists "$image"; then
        echo "image: $image (hash $(image_label "$image" "$LABEL.hash"))"
    else
        echo "image: $image (not built)"
    fi
    local ids
    ids=$(lab_containers "$prefix")
    if [[ -z $ids ]]; then
        echo "no lab containers${prefix:+ with prefix \"$prefix\"}"
        return 0
    fi
    printf '%-10s %-20s %-10s %-16s %-14s %s\n' HOST CONTAINER STATUS SSH STATE_AT_UP "${detect/yes/DETECTED_NOW}"
    local id host container status port state detected
    # shellcheck disable=SC2086
    while IFS='|' read -r id host container status port state; do
        detected=""
        if [[ $detect == yes ]]; then
            if [[ $status == running ]]; then
                detected=$(podman exec "$id" /usr/local/sbin/phaseout-lab-state --detect 2>/dev/null || echo '?')
            else
                detected=-
            fi
        fi
        printf '%-10s %-20s %-10s %-16s %-14s %s\n' "$host" "$container" "$status" "127.0.0.1:$port" "$state" "$detected"
    done < <(podman inspect --format "{{.Id}}|{{ index .Config.Labels \"$LABEL.host\" }}|{{.Name}}|{{.State.Status}}|{{ (index (index .HostConfig.PortBindings \"22/tcp\") 0).HostPort }}|{{ index .Config.Labels \"$LABEL.state\" }}" $ids | sort -t'|' -k2)
}

find_host() { # HOST [PREFIX] -> container ID of a lab host
    local filter=(--filter "label=$LABEL=true" --filter "label=$LABEL.host=$1")
    [[ -n ${2:-} ]] && filter+=(--filter "label=$LABEL.prefix=$2")
    local ids
    ids=$(podman ps -q "${filter[@]}")
    [[ -n $ids ]] || die "no running lab host '$1'${2:+ with prefix \"$2\"}"
    [[ $(wc -l <<<"$ids") -eq 1 ]] || die "several lab hosts are called '$1': give --prefix"
    echo "$ids"
}

cmd_state() {
    local prefix="" positional=()
    while (($#)); do
        case $1 in
            --prefix) prefix=${2:?}; shift ;;
            *) positional+=("$1") ;;
        esac
        shift
    done
    ((${#positional[@]} == 2)) || die "usage: lab.sh state HOST STATE [--prefix NAME]"
    local host=${positional[0]} state=${positional[1]} id inv
    id=$(find_host "$host" "$prefix")
    podman exec "$id" /usr/local/sbin/phaseout-lab-state "$state"
    inv=$(podman inspect --format "{{ index .Config.Labels \"$LABEL.inventory\" }}" "$id")
    if [[ -f $inv ]]; then
        labctl set-state "$inv" "$host" "$state"
    fi
}

cmd_ssh() {
    local prefix="" positional=()
    while (($#)); do
        case $1 in
            --prefix) prefix=${2:?}; shift ;;
            *) positional+=("$1") ;;
        esac
        shift
    done
    ((${#positional[@]} >= 1)) || die "usage: lab.sh ssh HOST [COMMAND...] [--prefix NAME]"
    local id port
    id=$(find_host "${positional[0]}" "$prefix")
    port=$(container_port "$id")
    # shellcheck disable=SC2046
    exec ssh $(ssh_opts "$port") root@127.0.0.1 "${positional[@]:1}"
}

main() {
    (($#)) || { usage; exit 2; }
    local command=$1
    shift
    find_python
    case $command in
        image) cmd_image "$@" ;;
        debs) cmd_debs "$@" ;;
        up) cmd_up "$@" ;;
        down) cmd_down "$@" ;;
        status) cmd_status "$@" ;;
        state) cmd_state "$@" ;;
        ssh) cmd_ssh "$@" ;;
        states) sed -n 's/^STATES=(\(.*\))$/\1/p' "$LAB_DIR/image/phaseout-lab-state" | tr ' ' '\n' ;;
        _provision) cmd__provision "$@" ;;
        -h | --help | help) usage ;;
        *) usage; exit 2 ;;
    esac
}

main "$@"
