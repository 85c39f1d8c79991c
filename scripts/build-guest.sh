#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the static arm64 guest binaries with -Zbuild-std from Debian's
# rust-src, each with its own panic strategy:
#   qdactl (the CLI, with `bench`/`compare`): release profile, panic=abort,
#     userspace/target/aarch64-unknown-linux-gnu/release/qdactl;
#   qda-init (/init, crate qda-tests): guest profile, panic=unwind (PID 1
#     catches a panicking case), userspace/target/aarch64-unknown-linux-gnu/guest/qda-init.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

step "building guest userspace (static arm64, -Zbuild-std)"
cd "$QDA_ROOT/userspace"
RUSTC_BOOTSTRAP=1 cargo build -q --release --locked -Zbuild-std=std,panic_abort \
    --target aarch64-unknown-linux-gnu -p qdactl --features qdactl/bench
RUSTC_BOOTSTRAP=1 cargo build -q --profile guest --locked -Zbuild-std=std,panic_abort \
    --target aarch64-unknown-linux-gnu -p qda-tests
