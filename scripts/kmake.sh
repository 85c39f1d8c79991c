#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kmake.sh KDIR [make arguments...]
# Runs the kernel's make for qda's out-of-tree build (M=<this tree>) with
# the toolchain KDIR was built with, read from KDIR's .config:
#   - LLVM kernels: LLVM=-<major> (clang-<major> on PATH) or LLVM=1;
#   - GCC kernels: CROSS_COMPILE from the compiler that built KDIR
#     (CONFIG_CC_VERSION_TEXT), unless CROSS_COMPILE is set;
#   - rustc: $RUSTC (default: rustc on PATH) must print exactly
#     CONFIG_RUSTC_VERSION_TEXT: Rust modules link against the kernel
#     crate's metadata, which only the same compiler reads.
# Refuses in seconds, saying what is missing, a KDIR that cannot build
# qda: not a configured 7.3 tree, no CONFIG_RUST, or no Rust metadata
# (rust/libkernel.rmeta; headers-only trees such as Debian's
# linux-headers-* packages ship none).
set -euo pipefail
QDA_ROOT=$(cd "$(dirname "$0")/.." && pwd)
die() { printf 'qda: %s\n' "$*" >&2; exit 2; }

KDIR=${1:?usage: kmake.sh KDIR [make arguments]}
shift
[ -d "$KDIR" ] || die "KDIR=$KDIR does not exist"
KDIR=$(cd "$KDIR" && pwd)
CONFIG=$KDIR/.config
[ -f "$CONFIG" ] || die "KDIR=$KDIR has no .config: point KDIR at the build tree of a configured and built Linux 7.3 kernel (its O= directory)"
cfg() { sed -n "s/^$1=//p" "$CONFIG" | sed 's/^"\(.*\)"$/\1/'; }

[ "$(cfg CONFIG_RUST)" = y ] || die "KDIR=$KDIR was configured without CONFIG_RUST=y; qda is a Rust module (see kernel/board.config)"
[ -f "$KDIR/rust/libkernel.rmeta" ] || die "KDIR=$KDIR has no rust/libkernel.rmeta (the kernel crate's metadata). A headers-only tree (such as Debian's linux-headers-* packages) cannot build Rust modules: build against the kernel's full build tree (make O=<dir> with CONFIG_RUST=y, then point KDIR at <dir>)"
release=$(cat "$KDIR/include/config/kernel.release" 2>/dev/null || true)
case "$release" in
    7.3|7.3.*|7.3-*|7.3+*) ;;
    *) die "KDIR=$KDIR is Linux ${release:-of unknown version (no include/config/kernel.release)}; qda supports Linux 7.3" ;;
esac
[ -f "$KDIR/Module.symvers" ] || die "KDIR=$KDIR has no Module.symvers: build the kernel (make Image modules) before building qda against it"

arch=""
[ "$(cfg CONFIG_ARM64)" = y ] && arch=arm64
[ -n "$arch" ] || die "KDIR=$KDIR is not an arm64 kernel; qda drives Qualcomm arm64 SoCs"

tool=()
if [ "$(cfg CONFIG_CC_IS_CLANG)" = y ]; then
    major=$(( $(cfg CONFIG_CLANG_VERSION) / 10000 ))
    if command -v "clang-$major" >/dev/null; then
        tool=(LLVM="-$major")
    elif clang --version 2>/dev/null | grep -q "clang version $major\."; then
        tool=(LLVM=1)
    else
        die "KDIR was built with $(cfg CONFIG_CC_VERSION_TEXT); neither clang-$major nor a clang $major is on PATH"
    fi
elif [ "$(cfg CONFIG_CC_IS_GCC)" = y ]; then
    cc=$(cfg CONFIG_CC_VERSION_TEXT | awk '{print $1}')
    cross=${CROSS_COMPILE-${cc%gcc}}
    command -v "${cross}gcc" >/dev/null ||
        die "KDIR was built with $(cfg CONFIG_CC_VERSION_TEXT); ${cross}gcc is not on PATH (set CROSS_COMPILE)"
    tool=(CROSS_COMPILE="$cross")
else
    die "KDIR's .config names neither GCC nor clang as its compiler"
fi

rustc=${RUSTC:-rustc}
want=$(cfg CONFIG_RUSTC_VERSION_TEXT)
have=$("$rustc" --version 2>/dev/null || echo "no $rustc")
[ "$have" = "$want" ] || die "KDIR was built with '$want' but $rustc is '$have': Rust modules must be built by the kernel's own rustc (set RUSTC=<that rustc>)"

exec make -C "$KDIR" ARCH="$arch" "${tool[@]}" RUSTC="$rustc" M="$QDA_ROOT" "$@"
