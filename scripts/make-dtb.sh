#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make-dtb.sh OUTDIR QEMU_MACHINE_ARGS...
# Dumps QEMU's own device tree for exactly these machine arguments, labels
# its SMMUv3 node "qda_smmu" (looked up by compatible, never by phandle
# value), appends dts/qda-virt.dtsi (or QDA_DT_BASE: the device-tree
# corpus's fragments, tests/dt_corpus) and compiles OUTDIR/NAME.dtb.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$1; name=$2; shift 2
qemu-system-aarch64 "$@" -machine dumpdtb="$out/virt.dtb" >/dev/null 2>&1
dtc -q -I dtb -O dts -o "$out/virt.dts" "$out/virt.dtb"
smmu=$(awk '/^\t[^\t].* \{$/ { node=$1 } /compatible = "arm,smmu-v3"/ { print node; exit }' "$out/virt.dts")
[ -n "$smmu" ] || die "no arm,smmu-v3 node in QEMU's device tree (is iommu=smmuv3 set?)"
{
    echo '/dts-v1/;'
    echo '/include/ "virt.dts"'
    echo "qda_smmu: &{/$smmu} { };"
    echo "/include/ \"${QDA_DT_BASE:-$QDA_ROOT/dts/qda-virt.dtsi}\""
    [ -z "${QDA_DT_EXTRA:-}" ] || echo "/include/ \"$QDA_DT_EXTRA\""
} > "$out/$name.dts"
dtc -q -I dts -O dtb -i "$out" -o "$out/$name.dtb" "$out/$name.dts"
info "device tree: $out/$name.dtb (SMMU node /$smmu)"
