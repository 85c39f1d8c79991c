#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-fastrpc.sh [accel|legacy]: cross-builds Qualcomm's FastRPC library
# for arm64 from its unmodified tarball, the way its own CI builds it, and
# installs it with DESTDIR into a cache directory.
#
# Variant (first argument, else $QDA_FASTRPC_VARIANT, else accel):
#   accel   configure --enable-accel-driver: the QDA backend (/dev/accel/accelN)
#   legacy  configure without it: the backend of drivers/misc/fastrpc.c
#           (/dev/fastrpc-<dsp>[-secure], include/uapi/misc/fastrpc.h)
# Each variant has its own cache key (the configure flags are part of it).
# The library and its prebuilt Hexagon SDK examples are a test fixture:
# they are never copied into this repository.
#
# Tarball: $QDA_FASTRPC_TARBALL, else the single *.tar.xz in
# $QDA_ROOT/../shared/fastrpc/. $QDA_FASTRPC_SRC may instead name an
# unpacked checkout (then the cache key is its file list and contents).
# QDA_FASTRPC_TARBALL=none leaves the library out on purpose.
#
# Also caches busybox (busybox-static:arm64, a shell for the guest) and a
# stand-in DSP shell image (see make_shell_standins below).
#
# On stdout: the cache directory, holding root/ (the DESTDIR tree, with the
# public headers in root/usr/include/fastrpc) and busybox; nothing when no library source is available (the guest then
# reports the library cases as skipped). Progress goes to stderr.
# Idempotent: a second run with the same tarball and flags reuses the cache.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
exec 3>&1 1>&2

VARIANT=${1:-${QDA_FASTRPC_VARIANT:-accel}}
case "$VARIANT" in
    accel)  CONFIGURE_FLAGS=(--host=aarch64-linux-gnu --prefix=/usr --enable-accel-driver) ;;
    legacy) CONFIGURE_FLAGS=(--host=aarch64-linux-gnu --prefix=/usr) ;;
    *) die "unknown FastRPC library variant '$VARIANT' (accel or legacy)" ;;
esac

src=${QDA_FASTRPC_SRC:-}
tarball=${QDA_FASTRPC_TARBALL:-}
if [ "$tarball" = none ]; then
    info "QDA_FASTRPC_TARBALL=none: library tests will be skipped"
    exit 0
fi
if [ -z "$src" ] && [ -z "$tarball" ]; then
    shopt -s nullglob
    cands=("$QDA_ROOT"/../shared/fastrpc/*.tar.xz)
    shopt -u nullglob
    if [ ${#cands[@]} = 1 ]; then
        tarball=${cands[0]}
    elif [ ${#cands[@]} -gt 1 ]; then
        die "several tarballs in $QDA_ROOT/../shared/fastrpc/; set QDA_FASTRPC_TARBALL"
    fi
fi
if [ -z "$src" ] && [ -z "$tarball" ]; then
    info "no FastRPC library source (QDA_FASTRPC_TARBALL / QDA_FASTRPC_SRC unset, no ../shared/fastrpc/*.tar.xz): library tests will be skipped"
    exit 0
fi

if [ -n "$src" ]; then
    [ -d "$src" ] || die "QDA_FASTRPC_SRC=$src is not a directory"
    srckey=$(cd "$src" && find . -type f -not -path './.git/*' -print0 | LC_ALL=C sort -z |
             xargs -0 sha256sum | sha256sum | cut -c1-64)
else
    [ -f "$tarball" ] || die "QDA_FASTRPC_TARBALL=$tarball does not exist"
    srckey=$(sha256sum "$tarball" | cut -c1-64)
fi
# Bump when what the cache holds changes.
CACHE_LAYOUT=1
key=$(printf '%s\n' "$srckey" "${CONFIGURE_FLAGS[*]}" "$CACHE_LAYOUT" |
      sha256sum | cut -c1-16)
CACHE="$QDA_CACHE/fastrpc-$key"

# A Hexagon ELF header standing in for the DSP shell. On boards the library
# reads fastrpc_shell_[unsigned_]<domain> from /usr/lib/dsp and hands it to
# INIT_CREATE as the process image; we have no Hexagon shell, so this is a
# 4 KiB file that is a valid 32-bit little-endian ELF header for EM_QDSP6
# (164), type ET_DYN, no program headers, zero padded. It is a stand-in,
# not a shell: the simulated DSP can check its header and nothing else.
make_shell_standins() {
    local dir=$1/usr/lib/dsp d kind
    mkdir -p "$dir"
    python3 - "$dir/stand-in-shell.elf" <<'PY'
import struct, sys
ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)   # ELFCLASS32, LSB, EV_CURRENT
hdr = ident + struct.pack("<HHIIIIIHHHHHH",
    3,      # e_type ET_DYN
    164,    # e_machine EM_QDSP6
    1,      # e_version
    0, 0, 0,  # e_entry, e_phoff, e_shoff
    0x68,   # e_flags: Hexagon v68
    52, 32, 0, 40, 0, 0)  # ehsize, phentsize, phnum, shentsize, shnum, shstrndx
open(sys.argv[1], "wb").write(hdr.ljust(4096, b"\0"))
PY
    for d in 0 3; do
        for kind in fastrpc_shell_ fastrpc_shell_unsigned_; do
            cp "$dir/stand-in-shell.elf" "$dir/$kind$d"
        done
    done
    rm "$dir/stand-in-shell.elf"
}

fetch_busybox() {
    local tmp
    tmp=$(mktemp -d)
    chmod 777 "$tmp"    # apt downloads as its sandbox user _apt
    (cd "$tmp" && apt-get download -q busybox-static:arm64 >/dev/null) ||
        { rm -rf "$tmp"; die "apt-get download busybox-static:arm64 failed"; }
    dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/x"
    cp "$tmp/x/bin/busybox" "$1/busybox"
    rm -rf "$tmp"
}

if [ -f "$CACHE/done" ]; then
    info "FastRPC library ($VARIANT): cached in $CACHE"
    echo "$CACHE" >&3
    exit 0
fi

step "building Qualcomm's FastRPC library for arm64, $VARIANT backend (${CONFIGURE_FLAGS[*]}); ~1-3 min"
rm -rf "$CACHE"
mkdir -p "$CACHE/build"
if [ -n "$src" ]; then
    cp -a "$src/." "$CACHE/build/"
else
    tar -xJf "$tarball" -C "$CACHE/build" --strip-components=1
fi
log="$CACHE/build.log"
(
    cd "$CACHE/build"
    export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
    autoreconf -is
    ./configure "${CONFIGURE_FLAGS[@]}"
    make -j"$(nproc)"
    make install DESTDIR="$CACHE/root"
) > "$log" 2>&1 || { tail -30 "$log"; die "FastRPC library build failed (log: $log)"; }
make_shell_standins "$CACHE/root"
step "fetching busybox-static:arm64 (guest shell)"
fetch_busybox "$CACHE"
rm -rf "$CACHE/build"
touch "$CACHE/done"
info "FastRPC library ($VARIANT) installed in $CACHE/root"
echo "$CACHE" >&3
