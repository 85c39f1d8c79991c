#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prints the kernel build directory to build modules against (building the
# cached test kernel first if needed). Progress goes to stderr.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
kernel_build_dir
