#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# dt-schema.sh: checks qda's device-tree binding and trees with dt-schema
# (the venv setup.sh installs) against the kernel's own schemas:
#   - the kernel's bindings are copied to $QDA_OUT/dt-schema/bindings (the
#     source tree is never touched), qda's patches (dts/bindings/**/*.patch)
#     applied to the copy, the simulator's test-only schemas
#     (tests/dsp_sim/bindings/) added;
#   - dt-doc-validate (the kernel's meta-schemas), yamllint (the kernel's
#     .yamllint) and dt-check-style on those schemas, and their examples
#     built and validated as dt_binding_check does;
#   - dt-validate -m with all the bindings on: the test tree (QEMU's virt
#     tree + dts/qda-virt.dtsi, made by make-dtb.sh as for the test boot):
#     0 diagnostics on the nodes qda reads or this project adds, QEMU's own
#     nodes listed as not ours (scripts/dt-schema-report.py); each broken
#     tree of dts/tests/ (a fragment must be valid unless its
#     `// dt-schema:` line names the diagnostic it must get); and the board
#     trees dts/qcm6490-idp-qda*.dts (the kernel's QCM6490 IDP +
#     dts/qcom-board-example.dtsi), which must be free of any diagnostic.
# One line per check in $QDA_OUT/dt-schema-results.txt ("pass|fail<TAB>what",
# read by check.sh); exit status 0 only if every check passed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
OUT=${QDA_OUT:-$QDA_ROOT/build}
W="$OUT/dt-schema"
RESULTS="$OUT/dt-schema-results.txt"
mkdir -p "$W"
: > "$RESULTS"
nfail=0
pass() { printf 'pass\t%s\n' "$*" >> "$RESULTS"; info "ok: $*"; }
fail() { printf 'fail\t%s\n' "$*" >> "$RESULTS"; nfail=$((nfail + 1)); printf '[%4ss]     FAIL: %s\n' "$(_elapsed)" "$*"; }

[ -x "$DTS_VENV/bin/dt-validate" ] || die "dt-schema is not installed ($DTS_VENV): run scripts/setup.sh"
PY="$DTS_VENV/bin/python3"
export PATH="$DTS_VENV/bin:$PATH"
if [ -z "${KSRC:-}" ]; then
    KBUILD=$(kernel_build_dir) || die "kernel build failed"
    KSRC=$(readlink -f "$KBUILD/source")
fi
KBUILD=${KBUILD:-$(cat "$QDA_CACHE/kbuild-dir-test")}
DTC="$KBUILD/scripts/dtc/dtc"   # the kernel's dtc (Debian's is older)
[ -x "$DTC" ] || DTC=dtc
KB="$KSRC/Documentation/devicetree/bindings"
B="$W/bindings"

# --- the bindings: the kernel's, patched in a copy, plus ours ------------
step "dt-schema: the kernel's bindings + qda's patches and schemas ($(dt-validate --version))"
rm -rf "$B" && cp -a "$KB" "$B" && chmod -R u+w "$B"
ours=()
while IFS= read -r p; do
    rel=${p#"$QDA_ROOT/dts/bindings/"}
    if patch -s -p1 -d "$B" --no-backup-if-mismatch < "$p" > "$W/patch.log" 2>&1; then
        pass "binding patch ${rel} applies to the kernel's $(dirname "$rel")/"
        ours+=("${rel%.patch}")
    else
        fail "binding patch $rel does not apply to $KB (see $W/patch.log)"
    fi
done < <(find "$QDA_ROOT/dts/bindings" -name '*.patch' | sort)
while IFS= read -r y; do
    rel=${y#"$QDA_ROOT/tests/dsp_sim/bindings/"}
    mkdir -p "$B/$(dirname "$rel")" && cp "$y" "$B/$rel"
    ours+=("$rel")
done < <(find "$QDA_ROOT/tests/dsp_sim/bindings" -name '*.yaml' | sort)

for s in "${ours[@]}"; do
    if (cd "$B" && dt-doc-validate -u "$B" "$s") > "$W/doc-validate.log" 2>&1 &&
       ! grep -q . "$W/doc-validate.log"; then
        pass "dt-doc-validate $s (the kernel's meta-schemas)"
    else
        fail "dt-doc-validate $s"; sed 's/^/    /' "$W/doc-validate.log" | head -20
    fi
    if (cd "$B" && yamllint -f parsable -c "$B/.yamllint" "$s" && "$PY" "$KSRC/scripts/dtc/dt-check-style" "$s") \
            > "$W/lint.log" 2>&1 && ! grep -q . "$W/lint.log"; then
        pass "yamllint and dt-check-style $s"
    else
        fail "yamllint / dt-check-style $s"; sed 's/^/    /' "$W/lint.log" | head -20
    fi
done

# processed-schema.json of all bindings takes a minute: cached by content
# of the kernel's bindings (a read-only tree), our files and dt-schema.
key=$( { echo "$KSRC"; dt-validate --version
         find "$QDA_ROOT/dts/bindings" "$QDA_ROOT/tests/dsp_sim/bindings" -type f | sort | xargs cat
       } | sha256sum | cut -c1-16)
SCHEMA="$QDA_CACHE/dt-schema-$key.json"
if [ ! -s "$SCHEMA" ]; then
    step "dt-schema: dt-mk-schema of all bindings -> $SCHEMA"
    if dt-mk-schema -j -o "$SCHEMA.tmp" "$B" > "$W/mk-schema.log" 2>&1; then
        mv "$SCHEMA.tmp" "$SCHEMA"
    else
        rm -f "$SCHEMA.tmp"; fail "dt-mk-schema (see $W/mk-schema.log)"
        printf 'fail\t%s\n' "dt-schema: no processed schema, nothing validated" >> "$RESULTS"
        exit 1
    fi
fi

# dts_to_dtb SRC DTB [INCLUDE_DIR...]: cpp + dtc as the kernel builds its trees.
dts_to_dtb() {
    local src=$1 dtb=$2 inc=() d
    shift 2
    for d in "$@"; do inc+=(-I "$d"); done
    cpp -nostdinc -I "$KSRC/scripts/dtc/include-prefixes" "${inc[@]}" -undef -D__DTS__ \
        -x assembler-with-cpp -o "$dtb.tmp.dts" "$src" &&
    "$DTC" -q -O dtb -o "$dtb" -b 0 -i "$(dirname "$src")" "${inc[@]/#-I/-i}" \
        -Wno-unique_unit_address -Wno-unit_address_vs_reg -Wno-avoid_unnecessary_addr_size \
        -Wno-alias_paths -Wno-interrupt_map -Wno-simple_bus_reg "$dtb.tmp.dts"
}

# validate NAME DTB [QEMU_DTB]: dt-validate with every binding; prints the
# diagnostics sorted into ours and QEMU's, returns non-zero on any of ours.
validate() {
    rm -f "$W/$1.json"
    dt-validate -m -s "$SCHEMA" --json-output "$W/$1.json" "$2" > "$W/$1.log" 2>&1
    [ -s "$W/$1.json" ] || echo '[]' > "$W/$1.json"
    "$PY" "$QDA_ROOT/scripts/dt-schema-report.py" "$2" "$W/$1.json" ${3:+"$3"} > "$W/$1.report" 2>&1
}

# --- the examples of our schemas (as dt_binding_check) ------------------
step "dt-schema: the examples of qda's schemas"
for s in "${ours[@]}"; do
    ex="$W/example-$(basename "$s" .yaml)"
    if (cd "$B" && dt-extract-example "$s") > "$ex.dts" 2> "$ex.log" &&
       dts_to_dtb "$ex.dts" "$ex.dtb" >> "$ex.log" 2>&1 &&
       dt-validate -s "$SCHEMA" "$ex.dtb" >> "$ex.log" 2>&1 && ! grep -q 'dtb:' "$ex.log"; then
        pass "examples of $s validate"
    else
        fail "examples of $s (see $ex.log)"; grep -v '^\s*from schema' "$ex.log" | head -10 | sed 's/^/    /'
    fi
done

# --- the test tree and its broken variants ------------------------------
step "dt-schema: the test tree (QEMU virt + dts/qda-virt.dtsi) and dts/tests/"
qda_machine 3G   # the test boot's machine (run-qemu.sh test)
mkdtb() { # NAME [FRAGMENT]
    QDA_DT_EXTRA=${2:-} bash "$QDA_ROOT/scripts/make-dtb.sh" "$W" "$1" "${QDA_MACHINE[@]}" > "$W/$1.mk.log" 2>&1
}
if mkdtb dt-test; then
    if validate dt-test "$W/dt-test.dtb" "$W/virt.dtb"; then
        n_qemu=$(tail -1 "$W/dt-test.report" | sed -n 's/.*qemu: //p')
        pass "test tree: no diagnostic on the nodes qda reads or this project adds; QEMU's own nodes: ${n_qemu} (not ours, listed in $W/dt-test.report)"
    else
        fail "test tree: $(tail -1 "$W/dt-test.report") diagnostics"; grep '    ours: ' "$W/dt-test.report" | head -20
    fi
else
    fail "test tree: make-dtb.sh failed (see $W/dt-test.mk.log)"
fi
for frag in "$QDA_ROOT"/dts/tests/*.dtsi; do
    case=$(basename "$frag" .dtsi)
    want=$(sed -n 's|^// dt-schema: *||p' "$frag")
    if ! mkdtb "dt-$case" "$frag"; then
        fail "broken tree $case: make-dtb.sh failed (see $W/dt-$case.mk.log)"; continue
    fi
    validate "dt-$case" "$W/dt-$case.dtb" "$W/virt.dtb"
    rc=$?
    if [ -z "$want" ]; then
        if [ $rc = 0 ]; then
            pass "broken tree $case is schema-valid (only the driver can tell)"
        else
            fail "broken tree $case: dt-schema reports $(tail -1 "$W/dt-$case.report") (declare it with a // dt-schema: line)"
            grep '    ours: ' "$W/dt-$case.report" | head -10
        fi
    elif [ $rc != 0 ] && grep '    ours: ' "$W/dt-$case.report" | grep -q -F -- "$want"; then
        pass "broken tree $case fails dt-schema: \"$want\""
    else
        fail "broken tree $case: no diagnostic \"$want\" on our nodes (see $W/dt-$case.report)"
        grep '    ours: ' "$W/dt-$case.report" | head -10
    fi
done

# --- the board trees ------------------------------------------------------
step "dt-schema: board trees (the kernel's QCM6490 IDP + dts/qcom-board-example.dtsi)"
for src in "$QDA_ROOT"/dts/qcm6490-idp-qda*.dts; do
    name=$(basename "$src" .dts)
    if ! dts_to_dtb "$src" "$W/$name.dtb" "$KSRC/arch/arm64/boot/dts/qcom" "$QDA_ROOT/dts" > "$W/$name.mk.log" 2>&1; then
        fail "board tree $name does not build (see $W/$name.mk.log)"; head -10 "$W/$name.mk.log"; continue
    fi
    if validate "$name" "$W/$name.dtb"; then
        pass "board tree $name: no diagnostic in the whole tree ($(sed -n 's/^    FastRPC nodes: \([0-9]*\).*/\1/p' "$W/$name.report") FastRPC nodes)"
    else
        fail "board tree $name: $(tail -1 "$W/$name.report") diagnostics"; grep '    ours: ' "$W/$name.report" | head -20
    fi
done

[ "$nfail" = 0 ]
