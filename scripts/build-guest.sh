#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the static arm64 guest binaries (/init and the qda CLI) with
# -Zbuild-std from Debian's rust-src. Output: userspace/target/aarch64-unknown-linux-gnu/release.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

step "building guest userspace (static arm64, -Zbuild-std)"
cd "$QDA_ROOT/userspace"
RUSTC_BOOTSTRAP=1 cargo build -q --release --locked -Zbuild-std=std,panic_abort \
    --target aarch64-unknown-linux-gnu --bins
