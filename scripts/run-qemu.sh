#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-qemu.sh demo|test|bench|probe|fuzz|corpus [NAME]
# Builds everything needed (cached kernel, modules, guest binaries, DTB,
# initramfs), boots QEMU arm64 under a hard timeout and writes the whole
# console to $QDA_OUT/console-<NAME>.log (default NAME: the mode, QDA_OUT:
# build/). QDA_DT_EXTRA names a DT fragment applied on top of the test
# tree; QDA_SKIP_BUILD=1 reuses the previous build outputs;
# QDA_GUEST_LIBRARY=1 puts the FastRPC library into a non-test boot too.
# corpus: the device-tree corpus (QDA_DT_BASE names its fragment).
# fuzz: the boundary fuzzer at length; QDA_FUZZ_SEED and
# QDA_FUZZ_ITERATIONS (per child) go to the kernel command line.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mode=${1:-demo}
name=${2:-$mode}
OUT=${QDA_OUT:-$QDA_ROOT/build}
mkdir -p "$OUT"
# The test boot runs a KASAN/lockdep/kmemleak kernel and the FastRPC
# library's examples: more memory and time than the other modes.
if [ "$mode" = test ]; then
    TIMEOUT=${QDA_QEMU_TIMEOUT:-1200}
    MEM=3G
elif [ "$mode" = fuzz ]; then
    TIMEOUT=${QDA_QEMU_TIMEOUT:-7200}
    MEM=3G
else
    TIMEOUT=${QDA_QEMU_TIMEOUT:-600}
    MEM=2G
fi

KBUILD=$(kernel_build_dir)
[ -n "$KBUILD" ] || die "kernel build failed"
# scripts/build-guest.sh: /init from the guest profile, qdactl from release.
GUEST="$QDA_ROOT/userspace/target/aarch64-unknown-linux-gnu"
qda_machine $MEM
MACHINE=("${QDA_MACHINE[@]}")

if [ "${QDA_SKIP_BUILD:-0}" != 1 ]; then
# The objects live in the source tree: when the kernel flavour changes
# (test <-> bench), rebuild them from scratch against the new one.
stamp="$QDA_ROOT/.qda-modules-kbuild"
if [ "$(cat "$stamp" 2>/dev/null)" != "$KBUILD" ]; then
    step "modules were built against another kernel: cleaning"
    qda_kmake "$KBUILD" -s clean
fi
step "building qda.ko and qda_dsp_sim.ko against $(basename "$KBUILD")"
qda_kmake "$KBUILD" -s modules 2>&1 | tee "$OUT/modules-build.log"
[ "${PIPESTATUS[0]}" = 0 ] || die "module build failed"
echo "$KBUILD" > "$stamp"

bash "$QDA_ROOT/scripts/build-guest.sh"

step "building the initramfs"
cat > "$OUT/initramfs.list" <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /tmp 1777 0 0
dir /bin 0755 0 0
dir /lib 0755 0 0
dir /lib/modules 0755 0 0
file /init $GUEST/guest/qda-init 0755 0 0
file /bin/qdactl $GUEST/release/qdactl 0755 0 0
file /lib/modules/qda.ko $QDA_ROOT/qda.ko 0644 0 0
file /lib/modules/qda_dsp_sim.ko $QDA_ROOT/qda_dsp_sim.ko 0644 0 0
LIST
# drivers/misc/fastrpc.c and its dependencies, for `qdactl compare`.
for ko in drivers/firmware/qcom/qcom_tzmem.ko drivers/firmware/qcom/qcom_pas.ko \
          drivers/firmware/qcom/qcom-scm.ko drivers/misc/fastrpc.ko; do
    [ -f "$KBUILD/$ko" ] && echo "file /lib/modules/$(basename "$ko") $KBUILD/$ko 0644 0 0" >> "$OUT/initramfs.list"
done
# Qualcomm's FastRPC library, its examples and what they need to run
# (the test boot runs them; QDA_GUEST_LIBRARY=1 adds them to another
# mode's boot: compare then runs the legacy build against fastrpc.ko).
if [ "$mode" = test ] || [ "${QDA_GUEST_LIBRARY:-0}" = 1 ]; then
    bash "$QDA_ROOT/scripts/guest-library.sh" "$OUT" >> "$OUT/initramfs.list"
fi
"$KBUILD/usr/gen_init_cpio" "$OUT/initramfs.list" > "$OUT/initramfs.cpio"

fi

step "building the device tree"
bash "$QDA_ROOT/scripts/make-dtb.sh" "$OUT" "dt-$name" "${MACHINE[@]}"

LOG="$OUT/console-$name.log"
# The test boot also hunts leaks with kmemleak (configured off by default).
EXTRA_ARGS=""
[ "$mode" = test ] && EXTRA_ARGS="kmemleak=on"
if [ "$mode" = fuzz ]; then
    EXTRA_ARGS="kmemleak=on"
    [ -n "${QDA_FUZZ_SEED:-}" ] && EXTRA_ARGS+=" qda_fuzz_seed=$QDA_FUZZ_SEED"
    [ -n "${QDA_FUZZ_ITERATIONS:-}" ] && EXTRA_ARGS+=" qda_fuzz_iterations=$QDA_FUZZ_ITERATIONS"
fi
step "booting QEMU ($mode, timeout ${TIMEOUT}s); console -> $LOG"
set +e
timeout --foreground -k 10 "$TIMEOUT" qemu-system-aarch64 "${MACHINE[@]}" -no-reboot \
    -kernel "$KBUILD/arch/arm64/boot/Image" -dtb "$OUT/dt-$name.dtb" \
    -initrd "$OUT/initramfs.cpio" \
    -append "console=ttyAMA0 panic=-1 oops=panic qda_mode=$mode $EXTRA_ARGS" \
    < /dev/null > "$LOG" 2>&1
rc=$?
set -e
[ $rc = 124 ] && die "QEMU did not power off within ${TIMEOUT}s (log: $LOG)"
[ $rc = 0 ] || die "QEMU exited with $rc (log: $LOG)"
info "QEMU powered off"
