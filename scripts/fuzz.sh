#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make fuzz`: boots the test kernel in qda_mode=fuzz and runs the
# boundary-value fuzzer at length on both node kinds (as root and as uid
# 1000, with and without the simulator's fault knobs). QDA_FUZZ_SEED
# (default: the guest's fixed seed) and QDA_FUZZ_ITERATIONS (per child,
# default 20000) choose the run; the seed and counts are printed. Fails
# on a failed case or on any kernel report in the console.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
OUT=${QDA_OUT:-$QDA_ROOT/build}
export QDA_OUT=$OUT
bash "$QDA_ROOT/scripts/setup.sh" || die "setup failed"
LOG="$OUT/console-fuzz.log"
rm -f "$LOG"
bash "$QDA_ROOT/scripts/run-qemu.sh" fuzz || die "QEMU run failed (console: $LOG)"
sed -e 's/\r$//' "$LOG" | grep -E 'qda-fuzz:|# fuzz:|FAIL|^ *(not )?ok ' || true
rc=0
if sed -e 's/\r$//' "$LOG" | grep -E 'not ok|ok [0-9]+ qda_fuzz' | grep -q 'not ok' ||
   ! sed -e 's/\r$//' "$LOG" | grep -q -E '^(\[[^]]*\] *)?ok [0-9]+ qda_fuzz$'; then
    echo "FAIL: the fuzz suite failed or did not report (console: $LOG)"; rc=1
fi
if sed -e 's/\r$//' "$LOG" | grep -n -E 'BUG:|WARNING:|Oops|DMA-API:|UBSAN:|ODEBUG|INFO: (possible|trying to register)|Unable to handle kernel|Kernel panic|Call trace:|stall' |
        grep -v -E 'DMA-API: (preallocated [0-9]+ debug entries|debugging enabled by kernel config)$'; then
    echo "FAIL: kernel reported problems (console: $LOG)"; rc=1
fi
[ $rc = 0 ] && echo "fuzz: no failure, no kernel report"
exit $rc
