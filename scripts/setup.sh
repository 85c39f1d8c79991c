#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs everything the qda build and tests need on a Debian bookworm
# machine. Idempotent: each step checks first and says what it does.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

RUSTC_VER=$(rustc --version | awk '{print $2}')
BINDGEN_VER=0.72.1

PKGS=(clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc libelf-dev libssl-dev
      cpio device-tree-compiler gcc-aarch64-linux-gnu
      libc6-dev-arm64-cross python3 make xz-utils kmod dkms
      python3-venv python3-dev swig)

# trixie-backports carries linux-source-7.3 and a rust-src matching rustc;
# bookworm-backports carries a qemu-system-arm that matches the qemu-utils
# (10.x, ~bpo12) this machine image ships (bookworm's 7.2 conflicts with it).
# Backports have priority 100: nothing else gets upgraded.
for suite in trixie-backports bookworm-backports; do
    f=/etc/apt/sources.list.d/qda-$suite.sources
    [ -f "$f" ] && continue
    step "adding $suite apt source ($f)"
    $SUDO tee "$f" >/dev/null <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
done

# Qualcomm's FastRPC library (scripts/build-fastrpc.sh) is cross-built for
# arm64 against Debian's arm64 libyaml/libbsd, twice (accel and legacy
# backend, each cached on its own), by the first test boot
# (scripts/guest-library.sh); the guest also gets their shared objects.
FASTRPC_PKGS=(autoconf automake libtool pkg-config libyaml-dev:arm64 libbsd-dev:arm64)
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    step "dpkg --add-architecture arm64 (for the FastRPC library's dependencies)"
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update -qq || info "apt-get update reported errors (some source unreachable?); continuing"
fi

missing=()
for p in "${PKGS[@]}" "${FASTRPC_PKGS[@]}" linux-source-7.3 qemu-system-arm; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
have_src_ver=$(dpkg-query -W -f='${Version}' rust-src 2>/dev/null || true)
case "$have_src_ver" in
    "$RUSTC_VER"+*) ;;
    *) missing+=(rust-src) ;;
esac

if [ ${#missing[@]} -gt 0 ]; then
    step "apt-get update"
    $SUDO apt-get update -qq || info "apt-get update reported errors (some source unreachable?); continuing"
    pin=""
    if printf '%s\n' "${missing[@]}" | grep -qx rust-src; then
        pin=$(apt-cache madison rust-src | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
              grep -E "^${RUSTC_VER//./\\.}\+" | head -n1 || true)
        if [ -z "$pin" ]; then
            avail=$(apt-cache madison rust-src | awk -F'|' '{gsub(/ /,"",$2); print $2}' | tr '\n' ' ')
            die "rustc is $RUSTC_VER but no rust-src $RUSTC_VER+* package is available (have: ${avail:-none}). The kernel needs the matching std sources."
        fi
        missing=("${missing[@]/#rust-src/rust-src=$pin}")
    fi
    bpo12=()
    if printf '%s\n' "${missing[@]}" | grep -qx qemu-system-arm; then
        missing=("${missing[@]/qemu-system-arm}")
        bpo12=(-t bookworm-backports qemu-system-arm)
    fi
    step "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ${missing[@]} >/dev/null
    if [ ${#bpo12[@]} -gt 0 ]; then
        step "apt-get install ${bpo12[*]}"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${bpo12[@]}" >/dev/null
    fi
else
    info "Debian packages present (rust-src $have_src_ver matches rustc $RUSTC_VER)"
fi

RUST_LIB_SRC=/usr/src/rustc-$RUSTC_VER/library
[ -d "$RUST_LIB_SRC" ] || die "rust-src installed but $RUST_LIB_SRC is missing"

if ! command -v bindgen >/dev/null || [ "$(bindgen --version | awk '{print $2}')" != "$BINDGEN_VER" ]; then
    step "cargo install bindgen-cli $BINDGEN_VER"
    LIBCLANG_PATH=/usr/lib/llvm-19/lib cargo install -q bindgen-cli --version "$BINDGEN_VER" --locked
else
    info "bindgen $BINDGEN_VER present"
fi

# -Zbuild-std for the guest userspace looks for std's sources in the sysroot.
sysroot_src="$(rustc --print sysroot)/lib/rustlib/src/rust"
if [ ! -e "$sysroot_src/library/core" ]; then
    step "linking $sysroot_src -> /usr/src/rustc-$RUSTC_VER"
    mkdir -p "$(dirname "$sysroot_src")"
    rm -rf "$sysroot_src"
    ln -s "/usr/src/rustc-$RUSTC_VER" "$sysroot_src"
else
    info "rust-src present in the sysroot"
fi
# dt-schema for scripts/dt-schema.sh: a venv of its own (system python3,
# pinned requirements), named after the requirements' hash, so a changed
# pin makes a new venv and an unchanged one is reused as it is.
if [ -x "$DTS_VENV/bin/dt-validate" ] && [ -e "$DTS_VENV/.complete" ]; then
    info "dt-schema $("$DTS_VENV/bin/dt-validate" --version) present ($DTS_VENV)"
else
    step "installing dt-schema into $DTS_VENV (pip, $(grep -m1 '^dtschema==' "$DTS_REQ"))"
    rm -rf "$DTS_VENV"
    mkdir -p "$QDA_CACHE"
    /usr/bin/python3 -m venv "$DTS_VENV"
    "$DTS_VENV/bin/pip" install -q --disable-pip-version-check -r "$DTS_REQ" ||
        die "pip install of dt-schema failed"
    touch "$DTS_VENV/.complete"
fi
info "setup complete"
