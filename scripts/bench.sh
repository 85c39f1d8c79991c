#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: set up, boot QEMU and print the qda benchmark (buffer
# create+mmap+close and PRIME export/import rates per memory backend,
# FastRPC round trips and throughput), then boot again with the cdsp
# channel steered to drivers/misc/fastrpc.c and compare the two drivers on
# the same simulated DSP, then (library head-to-head) run the same
# calculator binary through the legacy-built FastRPC library on
# fastrpc.ko's and on qda's /dev/fastrpc-cdsp and through the accel-built
# library on qda's /dev/accel, over 5 alternating passes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# Figures come from the kernel without debug machinery (KASAN etc.).
export QDA_KERNEL=bench
bash "$QDA_ROOT/scripts/setup.sh"
# The FastRPC library (both builds) goes into the initramfs for the
# library head-to-head of the compare boot.
QDA_GUEST_LIBRARY=1 bash "$QDA_ROOT/scripts/run-qemu.sh" bench
LOG=${QDA_OUT:-$QDA_ROOT/build}/console-bench.log
step "benchmark (guest figures; compare ratios within this run)"
sed -e 's/\r$//' "$LOG" | awk '/^qda benchmark:/ { on = 1 } on && /^\[/ { next } on { print }'

QDA_SKIP_BUILD=1 QDA_GUEST_LIBRARY=1 bash "$QDA_ROOT/scripts/run-qemu.sh" compare
LOG=${QDA_OUT:-$QDA_ROOT/build}/console-compare.log
step "qda vs drivers/misc/fastrpc.c (same simulated DSP, same boot)"
sed -e 's/\r$//' "$LOG" | awk '/^qda vs / { on = 1 } on && /^\[/ { next } on && /^(library head-to-head|qda-lib|KTAP)/ { on = 0 } on { print }'

step "the FastRPC library on both drivers (same binary; cdsp handed between drivers)"
sed -e 's/\r$//' "$LOG" | awk '/^library head-to-head/ { on = 1 } on && /^\[/ { next } on && /^(KTAP|qda-lib)/ { on = 0 } on { print }'
