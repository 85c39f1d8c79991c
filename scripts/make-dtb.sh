#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make-dtb.sh OUTDIR QEMU_MACHINE_ARGS...
# Dumps QEMU's own device tree for exactly these machine arguments, labels
# its SMMUv3 node "qda_smmu" (looked up by compatible, never by phandle
# value), appends dts/qda-virt.dtsi and compiles OUTDIR/qda-virt.dtb.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=$1; shift
qemu-system-aarch64 "$@" -machine dumpdtb="$out/virt.dtb" >/dev/null 2>&1
dtc -q -I dtb -O dts -o "$out/virt.dts" "$out/virt.dtb"
smmu=$(awk '/^\t[^\t].* \{$/ { node=$1 } /compatible = "arm,smmu-v3"/ { print node; exit }' "$out/virt.dts")
[ -n "$smmu" ] || die "no arm,smmu-v3 node in QEMU's device tree (is iommu=smmuv3 set?)"
cat > "$out/qda-virt.dts" <<DTS
/dts-v1/;
/include/ "virt.dts"
qda_smmu: &{/$smmu} { };
/include/ "$QDA_ROOT/dts/qda-virt.dtsi"
DTS
dtc -q -I dts -O dtb -i "$out" -o "$out/qda-virt.dtb" "$out/qda-virt.dts"
info "device tree: $out/qda-virt.dtb (SMMU node /$smmu)"
