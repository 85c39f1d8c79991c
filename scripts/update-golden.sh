#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# update-golden.sh [CONSOLE]
# Refreshes tests/host/golden/fastrpc-cdsp.trace, the host tests' golden
# vectors: what the simulated DSP recorded of drivers/misc/fastrpc.c's
# messages in the qda_differential suite of the last test boot (default
# console: build/console-test.log). Review the diff before committing it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
console=${1:-$QDA_ROOT/build/console-test.log}
out=$QDA_ROOT/tests/host/golden/fastrpc-cdsp.trace
lines=$(sed -e 's/\r$//' "$console" | sed -n 's/^\(\[ *[0-9.]*\] \)\{0,1\}qda-golden: //p')
[ -n "$lines" ] || die "no qda-golden lines in $console (did the qda_differential suite run?)"
mkdir -p "$(dirname "$out")"
{
    echo "# What the simulated DSP received from drivers/misc/fastrpc.c (Linux 7.3)"
    echo "# in the qda_differential suite: <step><TAB><trace line>, the format of"
    echo "# Documentation/accel/qda/index.rst (Testing). Regenerate with"
    echo "# scripts/update-golden.sh after a test boot; never edit by hand."
    printf '%s\n' "$lines"
} > "$out"
info "wrote $(printf '%s\n' "$lines" | wc -l) lines to $out"
