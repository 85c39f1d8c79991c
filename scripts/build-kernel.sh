#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the arm64 test kernel (Image + modules) from Debian's
# linux-source-7.3 into a cache outside the repository:
#   $QDA_CACHE/linux-<srcver>/       unpacked, unmodified source
#   $QDA_CACHE/build-<key>/          O= build directory
# key = hash(config fragment, source version, toolchain versions). An
# existing build with the same key is reused as it is.
# Records the build directory in $QDA_CACHE/kbuild-dir.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FRAG="$QDA_ROOT/kernel/qda.config"
TARBALL=$(ls /usr/src/linux-source-7.3.tar.* 2>/dev/null | head -n1)
[ -n "$TARBALL" ] || die "linux-source-7.3 is not installed: run scripts/setup.sh"
SRCVER=$(dpkg-query -W -f='${Version}' linux-source-7.3)
key=$( { cat "$FRAG"; echo "$SRCVER"; rustc --version; clang-19 --version | head -n1;
         bindgen --version; } | sha256sum | cut -c1-16)
SRC="$QDA_CACHE/linux-$SRCVER"
OUT="$QDA_CACHE/build-$key"
mkdir -p "$QDA_CACHE"

if [ -f "$OUT/.qda-stamp" ] && [ "$(cat "$OUT/.qda-stamp")" = "$key" ]; then
    info "kernel cache hit: $OUT (key $key)"
    echo "$OUT" > "$QDA_CACHE/kbuild-dir"
    exit 0
fi

if [ ! -f "$SRC/.qda-unpacked" ]; then
    step "unpacking $TARBALL into $SRC"
    rm -rf "$SRC" "$SRC.tmp"
    mkdir -p "$SRC.tmp"
    tar -xf "$TARBALL" -C "$SRC.tmp" --strip-components=1
    mv "$SRC.tmp" "$SRC"
    touch "$SRC/.qda-unpacked"
fi

# Only one build directory is kept: remove builds with a stale key.
for old in "$QDA_CACHE"/build-*; do
    [ -d "$old" ] && [ "$old" != "$OUT" ] && { info "removing stale build $old"; rm -rf "$old"; }
done
mkdir -p "$OUT"
K=("${KMAKE[@]}" -C "$SRC" O="$OUT")

step "checking the Rust toolchain (make rustavailable)"
"${K[@]}" -s rustavailable >/dev/null || die "the kernel does not accept this Rust toolchain"

step "configuring: allnoconfig + kernel/qda.config"
"${K[@]}" -s allnoconfig
(cd "$OUT" && ARCH=arm64 "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "$FRAG" >/dev/null)
"${K[@]}" -s olddefconfig

dropped=()
while IFS= read -r line; do
    case "$line" in
        CONFIG_*=*) grep -qxF "$line" "$OUT/.config" || dropped+=("$line (have: $(grep -E "^(# )?${line%%=*}[= ]" "$OUT/.config" || echo unset))") ;;
    esac
done < "$FRAG"
if [ ${#dropped[@]} -gt 0 ]; then
    printf '  dropped: %s\n' "${dropped[@]}" >&2
    die "${#dropped[@]} option(s) of kernel/qda.config did not survive olddefconfig (missing dependencies?)"
fi
info "all $(grep -c '^CONFIG_' "$FRAG") options of the fragment are set"

step "building Image and modules (make -j$(nproc)); this takes ~10 min cold"
t=$(date +%s)
"${K[@]}" -s -j"$(nproc)" Image modules
info "kernel built in $(( $(date +%s) - t ))s"
echo "$key" > "$OUT/.qda-stamp"
echo "$OUT" > "$QDA_CACHE/kbuild-dir"
