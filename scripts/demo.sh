#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The README's demo command: set up, boot QEMU, show qda at work.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bash "$QDA_ROOT/scripts/setup.sh"
bash "$QDA_ROOT/scripts/run-qemu.sh" demo
LOG=${QDA_OUT:-$QDA_ROOT/build}/console-demo.log
step "what the guest printed (probe lines, /dev/accel, QUERY answers)"
grep -E 'qda|rpmsg|accel' "$LOG" | grep -v -E 'Kernel command line' | sed -e 's/\r$//'
