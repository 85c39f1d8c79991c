#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-build.sh KDIR ROOT
# Builds and installs qda with Debian's dkms (dkms add, build, install) as a
# distribution would, against the kernel build tree KDIR (given to dkms as
# the kernel source dir), into ROOT/lib/modules/<release>/updates/dkms/qda.ko,
# then runs depmod -b ROOT. dkms works in private trees under
# $QDA_CACHE/dkms (its module tree and the staged sources), so nothing is
# written to the host's /var/lib/dkms, /usr/src or /lib/modules.
# Re-runnable: a previous add of the same version is removed first.
#
# Signing: when KDIR has CONFIG_MODULE_SIG=y, the module is signed with
# QDA_SIGN_KEY / QDA_SIGN_CERT if given, else with the kernel's own
# certs/signing_key.pem and certs/signing_key.x509 if KDIR has them;
# otherwise it is left unsigned.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: dkms-build.sh KDIR ROOT"
[ -d "$1" ] || die "KDIR=$1 does not exist"
KDIR=$(cd "$1" && pwd)
mkdir -p "$2"
ROOT=$(cd "$2" && pwd)
release=$(cat "$KDIR/include/config/kernel.release" 2>/dev/null) ||
    die "KDIR=$KDIR has no include/config/kernel.release (not a configured kernel build tree)"

if ! command -v dkms >/dev/null; then
    step "installing dkms (apt-get)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get install -y -qq --no-install-recommends dkms >/dev/null
fi

name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$QDA_ROOT/dkms.conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$QDA_ROOT/dkms.conf")
[ -n "$name" ] && [ -n "$version" ] || die "dkms.conf names no PACKAGE_NAME / PACKAGE_VERSION"

work=$QDA_CACHE/dkms
dkms_tree=$work/tree
source_tree=$work/src
install_tree=$ROOT/lib/modules
mkdir -p "$dkms_tree" "$source_tree" "$install_tree/$release"
dkms_args=(--dkmstree "$dkms_tree" --sourcetree "$source_tree"
           --installtree "$install_tree" --no-depmod)
arch=$(sed -n 's/^CONFIG_ARM64=y$/aarch64/p' "$KDIR/.config")
[ -n "$arch" ] || die "KDIR=$KDIR is not an arm64 kernel"

# Signing (dkms reads sign_file, mok_signing_key and mok_certificate from
# its environment). Without a key, point sign_file nowhere so that dkms
# neither signs nor generates a key of its own under /var/lib/dkms.
export sign_file="$work/no-signing" mok_signing_key="" mok_certificate=""
if grep -q '^CONFIG_MODULE_SIG=y' "$KDIR/.config"; then
    key=${QDA_SIGN_KEY:-$KDIR/certs/signing_key.pem}
    cert=${QDA_SIGN_CERT:-$KDIR/certs/signing_key.x509}
    if [ -f "$key" ] && [ -f "$cert" ] && [ -x "$KDIR/scripts/sign-file" ]; then
        sign_file=$KDIR/scripts/sign-file mok_signing_key=$key mok_certificate=$cert
        info "signing with $key"
    else
        info "CONFIG_MODULE_SIG=y but no key (QDA_SIGN_KEY/QDA_SIGN_CERT) or no $KDIR/scripts/sign-file: module left unsigned"
    fi
fi

if dkms status "${dkms_args[@]}" -m "$name" -v "$version" 2>/dev/null | grep -q .; then
    step "dkms remove $name/$version (previous run)"
    dkms remove "${dkms_args[@]}" -m "$name" -v "$version" --all >/dev/null ||
        rm -rf "${dkms_tree:?}/$name/$version"
fi

step "staging the module sources in $source_tree/$name-$version"
src=$source_tree/$name-$version
rm -rf "$src"
mkdir -p "$src"
# Only what the module build needs: no userspace/, the other tests/ or
# build outputs. tests/kunit/ is part of qda.ko (its KUnit suites, built
# when the kernel has CONFIG_KUNIT).
(cd "$QDA_ROOT" &&
    git ls-files -co --exclude-standard -- Kbuild Makefile dkms.conf src include tests/kunit \
        packaging/install.mk scripts/kmake.sh scripts/kdir.sh scripts/lib.sh |
    while read -r f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
    xargs -0 cp --parents -t "$src")
info "$(find "$src" -type f | wc -l) files"

step "dkms add / build / install $name/$version for $release ($arch)"
dkms add "${dkms_args[@]}" -m "$name" -v "$version"
if ! dkms build "${dkms_args[@]}" -m "$name" -v "$version" -k "$release" -a "$arch" \
        --kernelsourcedir "$KDIR"; then
    log=$(ls "$dkms_tree/$name/$version/build/make.log" 2>/dev/null || true)
    [ -z "$log" ] || tail -n 30 "$log" >&2
    die "dkms build failed${log:+ (log: $log)}"
fi
dkms install "${dkms_args[@]}" -m "$name" -v "$version" -k "$release" -a "$arch" \
    --kernelsourcedir "$KDIR"

ko=$install_tree/$release/updates/dkms/$name.ko
[ -f "$ko" ] || die "dkms install left no $ko"
step "depmod -b $ROOT $release"
depmod -b "$ROOT" "$release"
dkms status "${dkms_args[@]}" -m "$name" -v "$version"
info "installed $ko"
