#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh [test|bench|board]
# Builds an arm64 kernel (Image + modules) from Debian's linux-source-7.3
# into a cache outside the repository. Three flavours, each cached on its own:
#   test   kernel/qda.config + kernel/debug.config (KASAN, UBSAN, ...),
#          LLVM: make check and make demo
#   bench  kernel/qda.config only, LLVM: make bench
#   board  kernel/board-qemu.config + kernel/board.config, GCC, DRM=m:
#          the board-like kernel make check installs qda into
#   $QDA_CACHE/linux-<srcver>/             unpacked, unmodified source
#   $QDA_CACHE/build-<flavour>-<key>/      O= build directory
# key = hash(config fragments, source version, toolchain versions). An
# existing build with the same key is reused as it is; a build of the same
# flavour with another key is removed (the other flavour is kept).
# Records the build directory in $QDA_CACHE/kbuild-dir-<flavour>.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FLAVOUR=${1:-test}
case "$FLAVOUR" in
    test) FRAGS=("$QDA_ROOT/kernel/qda.config" "$QDA_ROOT/kernel/debug.config") ;;
    bench) FRAGS=("$QDA_ROOT/kernel/qda.config") ;;
    board) FRAGS=("$QDA_ROOT/kernel/board-qemu.config" "$QDA_ROOT/kernel/board.config")
           KMAKE=("${KMAKE_GCC[@]}") ;;
    *) die "unknown kernel flavour '$FLAVOUR' (test, bench or board)" ;;
esac
FRAG="$QDA_CACHE/fragment-$FLAVOUR.config"
TARBALL=$(ls /usr/src/linux-source-7.3.tar.* 2>/dev/null | head -n1)
[ -n "$TARBALL" ] || die "linux-source-7.3 is not installed: run scripts/setup.sh"
SRCVER=$(dpkg-query -W -f='${Version}' linux-source-7.3)
key=$( { cat "${FRAGS[@]}"; echo "$SRCVER"; rustc --version; clang-19 --version | head -n1;
         bindgen --version;
         [ "$FLAVOUR" != board ] || { echo "${KMAKE[*]}"; aarch64-linux-gnu-gcc --version | head -n1; }; } | sha256sum | cut -c1-16)
SRC="$QDA_CACHE/linux-$SRCVER"
OUT="$QDA_CACHE/build-$FLAVOUR-$key"
mkdir -p "$QDA_CACHE"
cat "${FRAGS[@]}" > "$FRAG"

if [ -f "$OUT/.qda-stamp" ] && [ "$(cat "$OUT/.qda-stamp")" = "$key" ]; then
    info "kernel cache hit: $OUT (key $key)"
    echo "$OUT" > "$QDA_CACHE/kbuild-dir-$FLAVOUR"
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

# One build directory per flavour is kept: remove its builds with a stale
# key, and builds of the layout before flavours (build-<16 hex digits>;
# a plain build-[0-9a-f]* would also match build-bench-*).
for old in "$QDA_CACHE"/build-*; do
    [ -d "$old" ] && [ "$old" != "$OUT" ] || continue
    suffix=${old##*/build-}
    case "$suffix" in
        "$FLAVOUR"-*) ;;
        ????????????????) [[ "$suffix" =~ ^[0-9a-f]{16}$ ]] || continue ;;
        *) continue ;;
    esac
    info "removing stale build $old"
    rm -rf "$old"
done
mkdir -p "$OUT"
K=("${KMAKE[@]}" -C "$SRC" O="$OUT")

step "checking the Rust toolchain (make rustavailable)"
"${K[@]}" -s rustavailable >/dev/null || die "the kernel does not accept this Rust toolchain"

step "configuring ($FLAVOUR): allnoconfig + ${FRAGS[*]##*/}"
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
    die "${#dropped[@]} option(s) of ${FRAGS[*]##*/} did not survive olddefconfig (missing dependencies?)"
fi
info "all $(grep -c '^CONFIG_' "$FRAG") options of the fragment are set"

step "building the $FLAVOUR kernel: Image and modules (make -j$(nproc)); this takes ~10 min cold"
t=$(date +%s)
"${K[@]}" -s -j"$(nproc)" Image modules
info "kernel built in $(( $(date +%s) - t ))s"
echo "$key" > "$OUT/.qda-stamp"
echo "$OUT" > "$QDA_CACHE/kbuild-dir-$FLAVOUR"
