# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the qda scripts (sourced, not run).

QDA_T0=${QDA_T0:-$(date +%s)}
export QDA_T0

_elapsed() { echo $(( $(date +%s) - QDA_T0 )); }
step() { printf '[%4ss] ==> %s\n' "$(_elapsed)" "$*"; }
info() { printf '[%4ss]     %s\n' "$(_elapsed)" "$*"; }
die()  { printf '[%4ss] ERROR: %s\n' "$(_elapsed)" "$*" >&2; exit 1; }

QDA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QDA_CACHE=${QDA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qda}
RUSTC_VER=$(rustc --version | awk '{print $2}')
RUST_LIB_SRC=/usr/src/rustc-$RUSTC_VER/library
KMAKE=(make ARCH=arm64 LLVM=-19 RUST_LIB_SRC="$RUST_LIB_SRC")
# The board flavour is built with GCC, as Debian's and Yocto's kernels are.
KMAKE_GCC=(make ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- RUST_LIB_SRC="$RUST_LIB_SRC")
# Module builds use the toolchain of the kernel they build against, with
# the simulated DSP (test-only, opt-in): qda_kmake KDIR [make arguments].
qda_kmake() { bash "$QDA_ROOT/scripts/kmake.sh" "$1" QDA_DSP_SIM=1 "${@:2}"; }
export PATH="$HOME/.cargo/bin:$PATH"
# dt-schema's venv: installed by setup.sh from the pinned requirements,
# named after their hash; used by scripts/dt-schema.sh.
DTS_REQ="$QDA_ROOT/scripts/dtschema-requirements.txt"
DTS_VENV="$QDA_CACHE/dtschema-venv-$(sha256sum "$DTS_REQ" | cut -c1-16)"
# QEMU's machine for a boot with MEM of memory (run-qemu.sh): also the
# machine whose device tree make-dtb.sh dumps and dt-schema.sh validates.
qda_machine() { QDA_MACHINE=(-M virt,iommu=smmuv3 -cpu cortex-a57 -smp 2 -m "$1" -nographic -nic none); }

# kernel_build_dir [test|bench]: builds (or reuses) the cached kernel of
# that flavour (default: $QDA_KERNEL, else test), progress on stderr, and
# prints its build directory on stdout.
kernel_build_dir() {
    local flavour=${1:-${QDA_KERNEL:-test}}
    bash "$QDA_ROOT/scripts/build-kernel.sh" "$flavour" >&2 || return 1
    cat "$QDA_CACHE/kbuild-dir-$flavour"
}
