#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build the lab's TEST-DOUBLE Debian packages with dpkg-deb.
#
#   lab/doubles/build.sh [OUTDIR]        (default OUTDIR: lab/build/debs)
#
# Every directory lab/doubles/<name>/ holding DEBIAN/control is a package
# root in dpkg-deb layout (DEBIAN/ plus the file-system tree). Directories
# whose name starts with "_" or "." are skipped. Regular files at the top of
# <name>/ are metadata and are not packaged:
#   VERSIONS   optional; one Debian version per line (# comments allowed).
#              One .deb is built per line. Without it, the Version field of
#              DEBIAN/control is used as is.
# In every text file of the staged tree these placeholders are replaced:
#   @VERSION@ 12.1.0-1125   @UPSTREAM_VERSION@ 12.1.0   @BUILD@ 1125
#   @VERSION_DOTTED@ 12.1.0.1125   @VERSION_MAJOR@ 12   @VERSION_MINOR@ 1
# build.sh also writes DEBIAN/md5sums and Installed-Size, and normalises
# permissions (executable in git -> 0755, else 0644), so the source trees
# need no special modes apart from +x on programs and maintainer scripts.
# See lab/doubles/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
outdir=${1:-"$here/../build/debs"}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
stage_root=$(mktemp -d "${TMPDIR:-/tmp}/phaseout-doubles.XXXXXX")
trap 'rm -rf "$stage_root"' EXIT

# Fixed timestamps keep rebuilt packages byte-identical when sources are.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600}   # 2026-01-01

die() { echo "build.sh: $*" >&2; exit 1; }

substitute() { # stage_dir version
    local dir=$1 version=$2
    local upstream=${version%-*} build=${version##*-}
    [[ $version == *-* ]] || build=0
    local dotted="$upstream.$build" major=${upstream%%.*} minor
    minor=$(echo "$upstream" | cut -d. -f2)
    # Only text files (grep -I skips binaries); -Z/-0 for odd names.
    grep -rlIZ '@[A-Z_]*@' "$dir" 2>/dev/null | xargs -0 -r sed -i \
        -e "s/@VERSION@/$version/g" \
        -e "s/@UPSTREAM_VERSION@/$upstream/g" \
        -e "s/@BUILD@/$build/g" \
        -e "s/@VERSION_DOTTED@/$dotted/g" \
        -e "s/@VERSION_MAJOR@/$major/g" \
        -e "s/@VERSION_MINOR@/${minor:-0}/g"
}

build_one() { # srcdir version(or empty)
    local src=$1 version=$2 name stage
    name=$(basename "$src")
    stage="$stage_root/$name-${version:-default}"
    mkdir -p "$stage"
    # Copy subdirectories only: top-level files are metadata (VERSIONS, README).
    local entry
    for entry in "$src"/*; do
        [[ -d $entry && ! -L $entry ]] || continue
        cp -a "$entry" "$stage/"
    done
    [[ -f $stage/DEBIAN/control ]] || die "$name: DEBIAN/control missing"

    if [[ -n $version ]]; then
        sed -i "s/^Version:.*/Version: $version/" "$stage/DEBIAN/control"
    else
        version=$(sed -n 's/^Version:[[:space:]]*//p' "$stage/DEBIAN/control")
        [[ -n $version && $version != *@* ]] || die "$name: no Version (add a VERSIONS file or a literal Version)"
    fi
    substitute "$stage" "$version"

    # Permissions: dirs 0755; files 0755 if executable in the source, else 0644.
    find "$stage" -type d -exec chmod 0755 {} +
    find "$stage" -type f -perm /111 -exec chmod 0755 {} +
    find "$stage" -type f ! -perm /111 -exec chmod 0644 {} +
    local script
    for script in preinst postinst prerm postrm config; do
        [[ -f $stage/DEBIAN/$script ]] && chmod 0755 "$stage/DEBIAN/$script"
    done

    # md5sums over the payload, as debhelper's dh_md5sums writes it.
    (cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print0 | LC_ALL=C sort -z \
        | xargs -0 -r md5sum | sed 's#  \./#  #' > DEBIAN/md5sums)
    [[ -s $stage/DEBIAN/md5sums ]] || rm -f "$stage/DEBIAN/md5sums"
    if ! grep -q '^Installed-Size:' "$stage/DEBIAN/control"; then
        local size
        size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
        sed -i "/^Architecture:/a Installed-Size: $size" "$stage/DEBIAN/control"
    fi
    find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

    dpkg-deb --root-owner-group -Zxz --build "$stage" "$outdir/" >/dev/null
    local pkg arch
    pkg=$(sed -n 's/^Package:[[:space:]]*//p' "$stage/DEBIAN/control")
    arch=$(sed -n 's/^Architecture:[[:space:]]*//p' "$stage/DEBIAN/control")
    echo "built $outdir/${pkg}_${version#*:}_${arch}.deb"
}

command -v dpkg-deb >/dev/null || die "dpkg-deb not found (apt-get install dpkg)"
rm -f "$outdir"/*.deb
count=0
for src in "$here"/*/; do
    src=${src%/}
    base=$(basename "$src")
    [[ $base == _* || $base == .* ]] && continue
    if [[ ! -f $src/DEBIAN/control ]]; then
        echo "build.sh: skipping $base (no DEBIAN/control)" >&2
        continue
    fi
    if [[ -f $src/VERSIONS ]]; then
        while read -r version _; do
            [[ -z $version || $version == \#* ]] && continue
            build_one "$src" "$version"
            count=$((count + 1))
        done < "$src/VERSIONS"
    else
        build_one "$src" ""
        count=$((count + 1))
    fi
done
[[ $count -gt 0 ]] || die "no package sources under $here"
