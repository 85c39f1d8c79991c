#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-library.sh OUT: the FastRPC-library part of the test initramfs.
# Builds (or reuses) Qualcomm's library via build-fastrpc.sh, cross-builds
# the test programs of tests/library against it into OUT/library, and
# prints gen_init_cpio lines for:
#   - the library's install tree (libs, fastrpc_test, the examples' arm64
#     stubs and Hexagon skels, the stand-in DSP shells in /usr/lib/dsp),
#   - the glibc runtime of the cross toolchain and the arm64 multiarch
#     libyaml/libbsd/libmd the library links, all in /lib,
#   - busybox as /bin/busybox and /bin/sh,
#   - tests/library's programs in /usr/libexec/qda,
#   - the library built a second time with its legacy backend
#     (build-fastrpc.sh legacy: /dev/fastrpc-<dsp>[-secure]), its install
#     tree under /opt/fastrpc-legacy (same sonames as the accel build's:
#     its programs run with LD_LIBRARY_PATH=/opt/fastrpc-legacy/usr/lib:...,
#     see userspace/qda-tests/src/suites/legacy_library/cases.rs).
# Prints nothing when no library source is available; the guest then
# reports the library cases as skipped. Progress goes to stderr.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OUT=$1
exec 3>&1 1>&2

CACHE=$(bash "$QDA_ROOT/scripts/build-fastrpc.sh" accel)
[ -n "$CACHE" ] || exit 0
ROOT=$CACHE/root
LEGACY=$(bash "$QDA_ROOT/scripts/build-fastrpc.sh" legacy)
[ -n "$LEGACY" ] || die "the accel build of the FastRPC library exists but not the legacy one"
LEGACY_PREFIX=/opt/fastrpc-legacy

step "building tests/library (arm64, against the FastRPC library)"
mkdir -p "$OUT/library"
CC=aarch64-linux-gnu-gcc
CFLAGS=(-O2 -g -Wall -Wextra -Werror)
$CC "${CFLAGS[@]}" -shared -fPIC -o "$OUT/library/linebuf.so" "$QDA_ROOT/tests/library/linebuf.c"
$CC "${CFLAGS[@]}" -I"$ROOT/usr/include/fastrpc" -o "$OUT/library/qda_libtest" \
    "$QDA_ROOT/tests/library/qda_libtest.c" \
    -L"$ROOT/usr/lib/fastrpc_test" -L"$ROOT/usr/lib" -lcalculator -lcdsprpc -lpthread \
    -Wl,-rpath,/usr/lib/fastrpc_test \
    -Wl,-rpath-link,"$ROOT/usr/lib:/usr/lib/aarch64-linux-gnu"

# Directories the base list already declares.
declared=" / /dev /proc /sys /tmp /bin /lib /lib/modules "
emit_dir() {
    case "$declared" in *" $1 "*) return ;; esac
    declared="$declared$1 "
    echo "dir $1 0755 0 0" >&3
}
emit_file() { # guest-path host-path mode
    local d=${1%/*}
    local parts="" p
    IFS=/ read -r -a comps <<< "${d#/}"
    for p in "${comps[@]}"; do
        parts="$parts/$p"
        emit_dir "$parts"
    done
    echo "file $1 $(readlink -f "$2") $3 0 0" >&3
}

# An install tree (libraries, programs, examples, stand-in shells) at
# guest prefix $2 ("" for /). Symlinks become copies; libtool archives,
# headers and systemd units are not needed at run time.
emit_tree() { # host-root guest-prefix
    local f rel mode
    while IFS= read -r -d '' f; do
        rel=${f#"$1"}
        case "$rel" in *.la|/usr/include/*|/lib/systemd/*) continue ;; esac
        mode=0644
        [ -x "$f" ] && mode=0755
        emit_file "$2$rel" "$f" "$mode"
    done < <(find "$1" \( -type f -o -type l \) -print0 | LC_ALL=C sort -z)
}
emit_tree "$ROOT" ""
emit_tree "$LEGACY/root" "$LEGACY_PREFIX"

TC=/usr/aarch64-linux-gnu/lib
for l in ld-linux-aarch64.so.1 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 \
         libgcc_s.so.1 libstdc++.so.6; do
    [ -e "$TC/$l" ] || die "$TC/$l missing (gcc-aarch64-linux-gnu / libc6-dev-arm64-cross)"
    emit_file "/lib/$l" "$TC/$l" 0755
done
MA=/usr/lib/aarch64-linux-gnu
for l in libyaml-0.so.2 libbsd.so.0 libmd.so.0; do
    [ -e "$MA/$l" ] || die "$MA/$l missing (libyaml-dev:arm64 / libbsd-dev:arm64)"
    emit_file "/lib/$l" "$MA/$l" 0755
done

emit_file /bin/busybox "$CACHE/busybox" 0755
echo "slink /bin/sh busybox 0777 0 0" >&3
emit_file /usr/libexec/qda/qda_libtest "$OUT/library/qda_libtest" 0755
emit_file /usr/libexec/qda/linebuf.so "$OUT/library/linebuf.so" 0755
