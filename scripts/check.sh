#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's test command (`make check`), also what .ci/run calls.
# Sets everything up (idempotent, cached), then runs:
#   host   cargo tests of the userspace workspace and of the driver's pure code
#   lint   rustfmt, layering (scripts/check-layers.py), generated
#          userspace UAPI up to date, a warning-free
#          module build, and CLIPPY=1
#   dt-schema  qda's binding (dt-doc-validate) and the test, broken and
#          board trees (dt-validate) against the kernel's schemas
#   corpus every FastRPC node of the kernel's qcom device trees, qda
#          against fastrpc.ko (tests/dt_corpus, qda_mode=corpus)
#   guest  QEMU arm64 boot: KUnit suites of qda + the userspace suite +
#          Qualcomm's FastRPC library and its examples (qda_library),
#          parsed by the kernel's own kunit.py; the console must be free of
#          BUG/WARNING/Oops/lockdep/DMA-API/UBSAN/ODEBUG reports.
# Ends with "N passed, N failed". Exit status 0 only if nothing failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
OUT=${QDA_OUT:-$QDA_ROOT/build}
export QDA_OUT=$OUT
mkdir -p "$OUT"
passed=0 failed=0 skipped=0
failures=()
fail() { failed=$((failed + 1)); failures+=("$*"); printf '[%4ss]     FAIL: %s\n' "$(_elapsed)" "$*"; }
pass() { passed=$((passed + 1)); info "ok: $*"; }

# ktap_count LOG NAME SUITES...: parses the KTAP documents of one guest
# console with the kernel's own kunit.py, adds their cases to the totals
# (failed cases by name to the failures) and fails each of SUITES that
# did not report.
ktap_count() {
    local log=$1 name=$2 dir="$OUT/ktap-$2"
    shift 2
    step "guest ($name): KTAP results (tools/testing/kunit/kunit.py parse)"
    # The console holds several KTAP documents: KUnit prints one per module
    # load (qda is loaded twice), the userspace suite prints its own.
    # kunit.py parses one document per call, so split them first.
    rm -rf "$dir" && mkdir -p "$dir"
    sed -e 's/\r$//' "$log" | awk -v dir="$dir" '
        { line = $0; sub(/^\[ *[0-9.]+\] /, "", line) }
        line == "KTAP version 1" { n++ }
        n { print > (dir "/doc-" n ".log") }'
    : > "$dir.txt"
    for doc in "$dir"/doc-*.log; do
        [ -e "$doc" ] || continue
        grep -q -E '# Subtest: qda_' "$doc" || continue   # the kernel's own suites
        python3 "$KSRC/tools/testing/kunit/kunit.py" parse --json="${doc%.log}.json" "$doc" \
            >> "$dir.txt" 2>&1
    done
    grep -v -E '^\s*$' "$dir.txt" | sed -e 's/^\[[0-9:]*\] /    /'
    read -r kp kf ks < <(KTAP_FAILED="$dir-failed.txt" python3 - "$dir"/doc-*.json <<'PY'
import json, os, sys
# A suite counts once (its first run); failures of any later run count too.
p = f = s = 0
seen = set()
bad = []
def walk(t, first):
    global p, f, s
    for c in t.get("test_cases", []):
        st = c.get("status")
        if st == "PASS":
            p += first
        elif st == "SKIP":
            s += first
        else:
            f += 1
            bad.append(c.get("name", "?"))
    for g in t.get("sub_groups", []):
        walk(g, first)
for path in sys.argv[1:]:
    try:
        doc = json.load(open(path))
    except Exception:
        f += 1
        continue
    for suite in doc.get("sub_groups", []):
        name = suite.get("name")
        walk(suite, 0 if name in seen else 1)
        seen.add(name)
open(os.environ["KTAP_FAILED"], "w").write("".join(b + "\n" for b in bad))
print(p, f, s)
PY
)
    passed=$((passed + kp)); failed=$((failed + kf)); skipped=$((skipped + ks))
    while read -r c; do [ -n "$c" ] && failures+=("KTAP case $c ($name boot)"); done < "$dir-failed.txt"
    info "KTAP ($name): $kp passed, $kf failed, $ks skipped"
    local suite
    for suite in "$@"; do
        grep -q "ok [0-9]* $suite\$" <(sed -e 's/\r$//' -e 's/^\[[^]]*\] *//' "$log") ||
            fail "suite $suite did not report ($name boot)"
    done
}


bash "$QDA_ROOT/scripts/setup.sh" || die "setup failed"
KBUILD=$(kernel_build_dir)
[ -n "$KBUILD" ] || die "kernel build failed"
KSRC=$(readlink -f "$KBUILD/source")

# --- host tests --------------------------------------------------------
cargo_tests() { # dir label
    step "host: cargo test ($2)"
    local log="$OUT/cargo-test-$2.log"
    (cd "$1" && cargo test --locked 2>&1) > "$log"
    local rc=$?
    local p f
    p=$(awk '/^test result:/ { s += $4 } END { print s + 0 }' "$log")
    f=$(awk '/^test result:/ { s += $6 } END { print s + 0 }' "$log")
    passed=$((passed + p)); failed=$((failed + f))
    info "$p passed, $f failed"
    if [ $rc != 0 ] && [ "$f" = 0 ]; then fail "cargo test in $1 did not run (see $log)"; tail -20 "$log"; fi
    [ "$f" = 0 ] || grep -E '^(test .* FAILED|---- )' "$log"
}
cargo_tests "$QDA_ROOT/userspace" userspace
cargo_tests "$QDA_ROOT/tests/host" driver-pure

# --- lint ---------------------------------------------------------------
step "lint: rustfmt (kernel .rustfmt.toml)"
if rustfmt --check --edition 2021 --config-path "$KSRC/.rustfmt.toml" \
        "$QDA_ROOT/src/qda_main.rs" "$QDA_ROOT/tests/dsp_sim/dsp_sim_main.rs" > "$OUT/rustfmt.log" 2>&1 &&
   (cd "$QDA_ROOT/userspace" && cargo fmt --check) >> "$OUT/rustfmt.log" 2>&1 &&
   (cd "$QDA_ROOT/tests/host" && cargo fmt --check) >> "$OUT/rustfmt.log" 2>&1; then
    pass "rustfmt clean"
else
    fail "rustfmt: run 'make fmt' (diff in $OUT/rustfmt.log)"; head -40 "$OUT/rustfmt.log"
fi

step "lint: layering (scripts/check-layers.py, Documentation/accel/qda/layers.rst)"
if python3 "$QDA_ROOT/scripts/check-layers.py" "$QDA_ROOT" > "$OUT/layers.log" 2>&1; then
    # The check must see a violation: an engine file naming the accel UAPI.
    t=$(mktemp -d)
    cp -r "$QDA_ROOT/src" "$t/src"
    printf 'use crate::accel::uapi::drm_qda_invoke;\n' >> "$t/src/fastrpc/channel.rs"
    if python3 "$QDA_ROOT/scripts/check-layers.py" "$t" > "$OUT/layers-selftest.log" 2>&1; then
        fail "check-layers.py accepted an engine file that imports the accel UAPI"
    else
        pass "one direction of dependencies, no UAPI below the frontends, unsafe only in src/ffi, functions <= 60 lines ($(wc -l < "$OUT/layers-selftest.log") violations found in the planted copy)"
    fi
    rm -rf "$t"
else
    fail "layering (see $OUT/layers.log)"; head -40 "$OUT/layers.log"
fi

# (The driver's files are linted by the CLIPPY=1 module build below, with
# the kernel's clippy configuration; the host-test crate reuses them.)
step "lint: cargo clippy (userspace workspace)"
if (cd "$QDA_ROOT/userspace" && cargo clippy --locked --workspace --all-targets --all-features -- -D warnings) > "$OUT/clippy-userspace.log" 2>&1; then
    pass "userspace workspace is clippy-clean"
else
    fail "cargo clippy (see $OUT/clippy-userspace.log)"; grep -E -A8 '^(warning|error)' "$OUT/clippy-userspace.log" | head -40
fi

step "lint: userspace UAPI bindings match the header"
if bash "$QDA_ROOT/scripts/gen-uapi.sh" --check > "$OUT/gen-uapi.log" 2>&1; then
    pass "userspace/qda/src/uapi/sys.rs is generated from include/uapi/drm/qda_accel.h"
else
    fail "userspace UAPI bindings are stale: run scripts/gen-uapi.sh"; tail -20 "$OUT/gen-uapi.log"
fi

# --- device-tree binding -------------------------------------------------
# qda's binding patch and the simulator's schema checked with dt-schema, and
# the test tree, its broken variants and the board trees validated against
# the kernel's own schemas (scripts/dt-schema.sh).
step "dt-schema: qda's binding, the test and board trees (scripts/dt-schema.sh)"
KSRC="$KSRC" KBUILD="$KBUILD" bash "$QDA_ROOT/scripts/dt-schema.sh" > "$OUT/dt-schema.out" 2>&1
dts_rc=$?
while IFS=$'\t' read -r r what; do
    case $r in pass) pass "dt-schema: $what" ;; fail) fail "dt-schema: $what" ;; esac
done < "$OUT/dt-schema-results.txt"
if [ $dts_rc != 0 ]; then
    grep -E '^    ours: ' "$OUT/dt-schema.out" | head -20
    grep -q . "$OUT/dt-schema-results.txt" || { tail -20 "$OUT/dt-schema.out"; fail "dt-schema: scripts/dt-schema.sh failed (log: $OUT/dt-schema.out)"; }
fi

# --- guest --------------------------------------------------------------
LOG="$OUT/console-test.log"
rm -f "$LOG"
if bash "$QDA_ROOT/scripts/run-qemu.sh" test; then
    pass "QEMU boot, tests and power-off"
else
    fail "QEMU run (console: $LOG)"
fi

# --- broken device trees ------------------------------------------------
# Each dts/tests/*.dtsi breaks the test tree in one way; the guest loads qda
# and reports which DSPs registered. The console must name the problem
# (every `// expect:` line), exactly the DSPs of `// dsps:` must register, and the
# kernel must not complain.
for frag in "$QDA_ROOT"/dts/tests/*.dtsi; do
    case=$(basename "$frag" .dtsi)
    expect=$(sed -n 's|^// expect: ||p' "$frag")
    dsps=$(sed -n 's|^// dsps: *||p' "$frag")
    plog="$OUT/console-probe-$case.log"
    if QDA_SKIP_BUILD=1 QDA_DT_EXTRA="$frag" bash "$QDA_ROOT/scripts/run-qemu.sh" probe "probe-$case" > "$OUT/probe-$case.out" 2>&1; then
        got=$(sed -e 's/\r$//' "$plog" | sed -n 's/^qda-probe: dsps=//p')
        # grep reads to the end: with pipefail, `grep -q` quitting at an
        # early match would fail the pipeline through sed's SIGPIPE.
        missing=""
        while IFS= read -r e; do
            sed -e 's/\r$//' "$plog" | grep -F -- "$e" > /dev/null || missing=$e
        done <<< "$expect"
        if [ -n "$missing" ]; then
            fail "broken DT $case: no \"$missing\" in $plog"
        elif [ "$got" != "$dsps" ]; then
            fail "broken DT $case: DSPs registered: \"$got\", want \"$dsps\""
        elif sed -e 's/\r$//' "$plog" | grep -E 'BUG:|WARNING:|Oops|Unable to handle|Call trace:' > /dev/null; then
            fail "broken DT $case: kernel complained (see $plog)"
        else
            pass "broken DT $case: \"${expect//$'\n'/\", \"}\"; DSPs: ${dsps:-none}"
        fi
    else
        fail "broken DT $case: QEMU run failed (see $OUT/probe-$case.out)"
    fi
done

# --- device-tree corpus -------------------------------------------------
# Every FastRPC node of the kernel's own qcom board trees (one board per
# SoC), rewritten only where QEMU lacks the hardware (tests/dt_corpus),
# booted in batches: per node, qda probes and its topology, legacy nodes,
# DSP traces and sessions equal fastrpc.ko's (qda_mode=corpus).
step "dt corpus: every FastRPC node of $(basename "$KSRC")'s qcom trees (tests/dt_corpus)"
CORPUS="$OUT/dt-corpus"
rm -rf "$CORPUS"
if python3 "$QDA_ROOT/tests/dt_corpus/extract.py" "$KSRC" "$QDA_CACHE" "$CORPUS" > "$OUT/dt-corpus.out" 2>&1; then
    info "$(tail -1 "$OUT/dt-corpus.out")"
    corpus_logs=()
    for frag in "$CORPUS"/batch-*.dtsi; do
        b=corpus-$(basename "$frag" .dtsi)
        clog="$OUT/console-$b.log"
        rm -f "$clog"
        if QDA_SKIP_BUILD=1 QDA_DT_BASE="$frag" bash "$QDA_ROOT/scripts/run-qemu.sh" corpus "$b" > "$OUT/$b.out" 2>&1; then
            corpus_logs+=("$clog")
            # The booted tree against the board trees: every kept property
            # byte for byte, only the declared rewrites differ.
            if python3 "$QDA_ROOT/tests/dt_corpus/extract.py" --verify "$KSRC" "$QDA_CACHE" \
                    "${frag%.dtsi}.socs" "$OUT/dt-$b.dtb" > "$OUT/$b-verify.txt" 2>&1; then
                pass "dt corpus $b: $(tail -1 "$OUT/$b-verify.txt")"
            else
                fail "dt corpus $b: the booted tree differs from the board trees (see $OUT/$b-verify.txt)"
                head -20 "$OUT/$b-verify.txt"
            fi
            ktap_count "$clog" "$b" qda_dt_corpus
            if sed -e 's/\r$//' "$clog" | grep -n -E 'BUG:|WARNING:|Oops|DMA-API:|UBSAN:|ODEBUG|INFO: (possible|trying to register)|Unable to handle kernel|Kernel panic|Call trace:|stall' |
                    grep -v -E 'DMA-API: (preallocated [0-9]+ debug entries|debugging enabled by kernel config)$'; then
                fail "dt corpus $b: the kernel reported problems (console: $clog)"
            else
                pass "dt corpus $b: console is free of kernel error reports"
            fi
        else
            fail "dt corpus $b: QEMU run failed (see $OUT/$b.out)"
        fi
    done
    [ ${#corpus_logs[@]} = 0 ] ||
        python3 "$QDA_ROOT/tests/dt_corpus/report.py" "${corpus_logs[@]}" > "$OUT/dt-corpus-socs.rst"
    info "SoC table: $OUT/dt-corpus-socs.rst ($(tail -1 "$OUT/dt-corpus-socs.rst" 2>/dev/null))"
else
    fail "dt corpus: extraction failed (see $OUT/dt-corpus.out)"; tail -5 "$OUT/dt-corpus.out"
fi

# --- the board kernel ---------------------------------------------------
# qda as an integrator meets it: a GCC-built kernel with CONFIG_DRM=m,
# qda built from a clean copy, installed with modules_install and dkms,
# loaded by udev and modprobe, the suites run there (scripts/board.sh).
step "board: GCC-built, DRM=m kernel; install, autoload and the suites (scripts/board.sh)"
bash "$QDA_ROOT/scripts/board.sh" > "$OUT/board.out" 2>&1
board_rc=$?
while IFS=$'\t' read -r r what; do
    case $r in pass) pass "board: $what" ;; fail) fail "board: $what" ;; esac
done < "$OUT/board-results.txt"
[ $board_rc = 0 ] || { tail -20 "$OUT/board.out"; fail "board: scripts/board.sh failed (log: $OUT/board.out)"; }
BLOG="$OUT/console-board.log"
if [ $board_rc = 0 ] && [ -s "$BLOG" ]; then
    ktap_count "$BLOG" board qda_board qda_userspace qda_static_pd qda_legacy qda_library \
        qda_legacy_library qda_board_dkms
    if sed -e 's/\r$//' "$BLOG" | grep -n -E 'BUG:|WARNING:|Oops|UBSAN:|Unable to handle kernel|Kernel panic|Call trace:|stall' |
            grep -v -E '^[0-9]+:qda-lib\['; then
        fail "board: the kernel reported problems (console: $BLOG)"
    else
        pass "board: console is free of kernel error reports"
    fi
fi

step "lint: module build warnings (rustc, then CLIPPY=1)"
if grep -n -i 'warning' "$OUT/modules-build.log"; then
    fail "the module build printed warnings"
else
    pass "module build is warning-free"
fi
touch "$QDA_ROOT/src/qda_main.rs" "$QDA_ROOT/tests/dsp_sim/dsp_sim_main.rs"
qda_kmake "$KBUILD" -s CLIPPY=1 modules > "$OUT/clippy.log" 2>&1
if [ $? = 0 ] && ! grep -q -i 'warning\|error' "$OUT/clippy.log"; then
    pass "clippy clean"
else
    fail "clippy (log: $OUT/clippy.log)"; head -60 "$OUT/clippy.log"
fi

if [ -s "$LOG" ]; then
    ktap_count "$LOG" test qda_domain qda_fastrpc qda_memory qda_remote_heap qda_topology qda_uapi \
        qda_userspace qda_static_pd qda_legacy qda_library qda_legacy_library qda_differential \
        qda_legacy_differential

    step "guest: console health (BUG/WARNING/Oops/lockdep/DMA-API/UBSAN/ODEBUG)"
    if sed -e 's/\r$//' "$LOG" | grep -n -E 'BUG:|WARNING:|Oops|DMA-API:|UBSAN:|ODEBUG|INFO: (possible|trying to register)|Unable to handle kernel|Kernel panic|Call trace:|stall' |
            grep -v -E 'DMA-API: (preallocated [0-9]+ debug entries|debugging enabled by kernel config)$' |
            grep -v -E '^[0-9]+:qda-lib\['; then  # the library examples' own output
        fail "kernel reported problems (full console: $LOG)"
    else
        pass "console is free of kernel error reports"
    fi
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
    # Last, so that a log cut to its tail still names them; with each
    # failed case, the console lines that led to it.
    echo "what failed:"
    for f in "${failures[@]}"; do
        echo "  - $f"
        case "$f" in "KTAP case "*)
            c=${f#KTAP case }; boot=${c##*(}; boot=${boot%% boot)}
            sed -e 's/\r$//' "$OUT/console-$boot.log" | grep -B15 -E "not ok [0-9]+ ${c%% (*}( |$)" | head -32 | sed 's/^/      /' ;;
        esac
    done
fi
info "artifacts in $OUT (console-test.log is the full guest console)"
if [ "$skipped" -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ "$failed" = 0 ]
