#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: set up, boot QEMU and print the qda benchmark (buffer
# create+mmap+close and PRIME export/import rates per memory backend,
# FastRPC round trips and throughput), then boot again with the cdsp
# channel steered to drivers/misc/fastrpc.c and compare the two drivers on
# the same simulated DSP.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# Figures come from the kernel without debug machinery (KASAN etc.).
export QDA_KERNEL=bench
bash "$QDA_ROOT/scripts/setup.sh"
bash "$QDA_ROOT/scripts/run-qemu.sh" bench
LOG=${QDA_OUT:-$QDA_ROOT/build}/console-bench.log
step "benchmark (guest figures; compare ratios within this run)"
sed -e 's/\r$//' "$LOG" | awk '/^qda benchmark:/ { on = 1 } on && /^\[/ { next } on { print }'

QDA_SKIP_BUILD=1 bash "$QDA_ROOT/scripts/run-qemu.sh" compare
LOG=${QDA_OUT:-$QDA_ROOT/build}/console-compare.log
step "qda vs drivers/misc/fastrpc.c (same simulated DSP, same boot)"
sed -e 's/\r$//' "$LOG" | awk '/^qda vs / { on = 1 } on && /^\[/ { next } on { print }'
