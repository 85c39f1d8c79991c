#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# board.sh: qda on a board-like kernel, as an integrator meets it
# (make check runs it). Every step appends "pass<TAB>what" or
# "fail<TAB>what" to $QDA_OUT/board-results.txt; the guest's console goes
# to $QDA_OUT/console-board.log (its KTAP is counted by check.sh).
#   1. the board kernel: kernel/board-qemu.config + kernel/board.config,
#      built with GCC, CONFIG_DRM=m (cached, scripts/build-kernel.sh board);
#   2. Debian's 7.3 arm64 headers package (no Rust metadata) is refused at
#      once by `make modules`, saying why;
#   3. qda (and the simulated DSP) built from a clean copy of the sources
#      against the board kernel, warning-free, with its module aliases;
#   4. a guest root: the kernel's modules, qda by `make modules_install`
#      (updates/), qda once more by Debian's dkms (updates/dkms/ of a
#      second root), the shipped udev, modprobe.d and sysusers.d files,
#      udev and kmod from Debian's arm64 archive;
#   5. a QEMU boot (qda_mode=board) where udev loads qda by its alias, the
#      shipped files give their documented result, and the userspace,
#      legacy and library suites run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
OUT=${QDA_OUT:-$QDA_ROOT/build}
B=$OUT/board
RESULTS=$OUT/board-results.txt
mkdir -p "$B"
: > "$RESULTS"
result() { printf '%s\t%s\n' "$1" "$2" >> "$RESULTS"; info "$1: $2"; }
abort() { result fail "$1"; exit 1; }

KB=$(kernel_build_dir board) || abort "the board kernel did not build (see above)"
REL=$(cat "$KB/include/config/kernel.release")
grep -q '^CONFIG_DRM=m$' "$KB/.config" && grep -q '^CONFIG_CC_IS_GCC=y$' "$KB/.config" ||
    abort "the board kernel is not a GCC build with CONFIG_DRM=m"
result pass "board kernel $REL: GCC ($(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"/\1/p' "$KB/.config")), CONFIG_DRM=m"

# --- 2. a headers-only tree is refused, fast and clearly -------------------
step "board: make modules against Debian's linux-headers (no Rust metadata)"
HROOT=$(bash "$QDA_ROOT/scripts/fetch-debs.sh" headers "linux-headers-7.3.4+deb13-arm64:arm64")
HDIR=$(ls -d "$HROOT"/usr/src/linux-headers-*-arm64 2>/dev/null | head -n1)
if [ -z "$HDIR" ]; then
    result fail "Debian's arm64 headers package could not be fetched"
else
    t0=$(date +%s%N)
    make -s -C "$QDA_ROOT" modules KDIR="$HDIR" > "$B/headers.log" 2>&1
    rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    if [ $rc != 0 ] && [ $ms -lt 10000 ] && grep -q 'no rust/libkernel.rmeta' "$B/headers.log"; then
        result pass "make modules KDIR=<Debian's headers> is refused in ${ms} ms: $(grep -o 'has no rust/libkernel.rmeta[^.]*' "$B/headers.log" | head -n1)"
    else
        result fail "make modules KDIR=<Debian's headers>: rc $rc after ${ms} ms (log: $B/headers.log)"
    fi
fi

# --- 3. a clean build against the board kernel ------------------------------
step "board: qda from a clean copy of the sources, against $(basename "$KB")"
SRC=$B/src
rm -rf "$SRC" && mkdir -p "$SRC"
(cd "$QDA_ROOT" && git ls-files -z --cached --others --exclude-standard -- \
    Kbuild Makefile dkms.conf src include scripts tests/dsp_sim tests/kunit packaging |
    tar --null -T - -cf -) | tar -xf - -C "$SRC" || abort "could not stage the sources"
make -C "$SRC" KDIR="$KB" QDA_DSP_SIM=1 modules > "$B/modules-build.log" 2>&1 ||
    { tail -30 "$B/modules-build.log"; abort "qda does not build against the board kernel (log: $B/modules-build.log)"; }
if grep -i 'warning' "$B/modules-build.log"; then
    result fail "qda's build against the board kernel printed warnings ($B/modules-build.log)"
else
    result pass "qda and qda_dsp_sim build warning-free against the board kernel (GCC flags filtered for bindgen)"
fi
aliases=$(/sbin/modinfo -F alias "$SRC/qda.ko" | sort | tr '\n' ' ')
if [ "$aliases" = "of:N*T*Cqcom,fastrpc of:N*T*Cqcom,fastrpcC* of:N*T*Cqcom,kaanapali-fastrpc of:N*T*Cqcom,kaanapali-fastrpcC* rpmsg:fastrpcglink-apps-dsp " ]; then
    result pass "modinfo qda.ko: alias $aliases"
else
    result fail "modinfo qda.ko aliases: '$aliases'"
fi

# --- 4. the guest root -----------------------------------------------------
ROOT=$B/root
rm -rf "$ROOT" && mkdir -p "$ROOT"
step "board: make modules_install (kernel, then qda) into $ROOT"
"${KMAKE_GCC[@]}" -s -C "$KB" INSTALL_MOD_PATH="$ROOT" modules_install > "$B/install.log" 2>&1 ||
    abort "the board kernel's modules_install failed ($B/install.log)"
make -s -C "$SRC" KDIR="$KB" QDA_DSP_SIM=1 INSTALL_MOD_PATH="$ROOT" modules_install >> "$B/install.log" 2>&1 ||
    abort "make modules_install failed ($B/install.log)"
MODDIR=$ROOT/lib/modules/$REL
if [ -f "$MODDIR/updates/qda.ko" ] && grep -q '^alias rpmsg:fastrpcglink-apps-dsp qda$' "$MODDIR/modules.alias"; then
    result pass "make modules_install put qda.ko in lib/modules/$REL/updates and depmod indexed its aliases"
else
    result fail "make modules_install: no updates/qda.ko or no alias in modules.alias"
fi
if [ -x "$QDA_ROOT/scripts/dkms-build.sh" ]; then
    step "board: Debian's dkms (add, build, install) against the board kernel"
    DKMS_ROOT=$B/dkms-root
    if bash "$QDA_ROOT/scripts/dkms-build.sh" "$KB" "$DKMS_ROOT" > "$B/dkms.log" 2>&1 &&
       [ -f "$DKMS_ROOT/lib/modules/$REL/updates/dkms/qda.ko" ]; then
        result pass "dkms add/build/install built updates/dkms/qda.ko for $REL"
    else
        tail -20 "$B/dkms.log"
        result fail "dkms did not build and install qda (log: $B/dkms.log)"
    fi
fi

step "board: the guest's initramfs (udev, kmod, the shipped files)"
TOOLS=$(bash "$QDA_ROOT/scripts/fetch-debs.sh" guest-tools udev:arm64 kmod:arm64 libkmod2:arm64 \
        libacl1:arm64 libblkid1:arm64 libcap2:arm64 libselinux1:arm64 libpcre2-8-0:arm64 \
        libzstd1:arm64 liblzma5:arm64 libssl3:arm64) || abort "could not fetch udev and kmod"
bash "$QDA_ROOT/scripts/build-guest.sh" || abort "guest userspace build failed"
GUEST="$QDA_ROOT/userspace/target/aarch64-unknown-linux-gnu"
bash "$QDA_ROOT/scripts/board-initramfs.sh" "$ROOT" "$TOOLS" "$GUEST" "${DKMS_ROOT:-}" > "$B/initramfs.list" ||
    abort "could not list the initramfs"
bash "$QDA_ROOT/scripts/guest-library.sh" "$OUT" >> "$B/initramfs.list" || abort "FastRPC library for the guest"
"$KB/usr/gen_init_cpio" "$B/initramfs.list" > "$B/initramfs.cpio" || abort "gen_init_cpio failed"

# --- 5. the boot -----------------------------------------------------------
MACHINE=(-M virt,iommu=smmuv3 -cpu cortex-a57 -smp 2 -m 2G -nographic -nic none)
bash "$QDA_ROOT/scripts/make-dtb.sh" "$B" dt-board "${MACHINE[@]}" || abort "device tree"
LOG=$OUT/console-board.log
TIMEOUT=${QDA_QEMU_TIMEOUT:-900}
step "board: booting QEMU (qda_mode=board, timeout ${TIMEOUT}s); console -> $LOG"
timeout --foreground -k 10 "$TIMEOUT" qemu-system-aarch64 "${MACHINE[@]}" -no-reboot \
    -kernel "$KB/arch/arm64/boot/Image" -dtb "$B/dt-board.dtb" -initrd "$B/initramfs.cpio" \
    -append "console=ttyAMA0 panic=-1 oops=panic qda_mode=board" < /dev/null > "$LOG" 2>&1
rc=$?
[ $rc = 0 ] || abort "the board boot failed (QEMU exit $rc; console: $LOG)"
result pass "board boot powered off"
