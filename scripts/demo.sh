#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The README's demo command: set up, boot QEMU, show qda at work.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bash "$QDA_ROOT/scripts/setup.sh"
bash "$QDA_ROOT/scripts/run-qemu.sh" demo
LOG=${QDA_OUT:-$QDA_ROOT/build}/console-demo.log
step "what the guest printed (probe lines, /dev/accel, QUERY answers)"
sed -e 's/\r$//' "$LOG" | awk '
    /== qda demo ==/ { on = 1 }
    on || /qda_dsp_sim: |qda qda-dsp-sim|\[drm\] Initialized qda/ { print }
    /== end of demo ==/ { on = 0 }'
