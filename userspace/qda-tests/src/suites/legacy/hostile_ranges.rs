//! Hostile argument ranges from an unprivileged app (issue 16): INVOKE
//! with ranges that wrap past the top of the address space, lengths past
//! the payload limit and handle offsets past 32 bits, on the accel node
//! and on the legacy node of cdsp. Each must come back as a clean errno
//! without a request reaching the DSP (the simulator's trace shows none),
//! and the kernel must go on computing: an empty vector at the top of the
//! address space sums to 0, and a sum after the probes is right.

use std::io;

use fastrpc_ko::{Legacy, FASTRPC_MODE_UNSIGNED_MODULE};
use qda::{
    rpc::{open_module_with, scalars, Arg},
    Device,
};

use super::nodes;
use crate::fixtures::{
    ktap::{check, Outcome},
    sim_static,
};

/// The top page of the address space: no user mapping is ever there.
const TOP: u64 = 0xffff_ffff_ffff_f000;
/// The payload limit of qda (`MAX_PAYLOAD`).
const MAX_PAYLOAD: u64 = 64 << 20;
/// Scalars with one input handle and nothing else.
const ONE_IN_HANDLE: u32 = 1 << 4;

/// A probe: name, scalars, `(ptr, len)` of each argument, errno wanted.
type Probe = (&'static str, u32, &'static [(u64, u64)], i32);

/// The probes, each refused before the DSP is asked.
const PROBES: [Probe; 8] = [
    (
        "top_len_max",
        scalars(0, 1, 0),
        &[(TOP, u64::MAX)],
        libc::EFAULT,
    ),
    (
        "ptr0_len_max",
        scalars(0, 1, 0),
        &[(0, u64::MAX)],
        libc::E2BIG,
    ),
    ("end_2_64", scalars(0, 1, 0), &[(TOP, 0x1000)], libc::EFAULT),
    (
        "end_2_64_from_0x1000",
        scalars(0, 1, 0),
        &[(0x1000, 0u64.wrapping_sub(0x1000))],
        libc::EFAULT,
    ),
    (
        "output_wraps",
        scalars(0, 0, 1),
        &[(TOP, 0x2000)],
        libc::EFAULT,
    ),
    (
        "two_overlapping_wrap",
        scalars(0, 2, 0),
        &[(TOP, 0x2000), (TOP + 0x800, 0x2000)],
        libc::EFAULT,
    ),
    (
        "len_past_limit",
        scalars(0, 1, 0),
        &[(0x10000, MAX_PAYLOAD + 1)],
        libc::E2BIG,
    ),
    (
        "handle_offset_past_u32",
        ONE_IN_HANDLE,
        &[(1 << 32, 0)],
        libc::EINVAL,
    ),
];

/// An INVOKE on one node kind.
type Invoke<'a> = &'a dyn Fn(u32, u32, &mut [Arg<'_>]) -> io::Result<i32>;

/// An argument of `len` bytes at `ptr`, which no Rust object can own.
fn raw(ptr: u64, len: u64) -> Arg<'static> {
    // SAFETY: every probe's range lies in the top page of the address
    // space or is too long for any mapping: the kernel refuses it, and a
    // kernel that went on could only fault there (nothing of this
    // program lives at those addresses; outputs are only in the top
    // page, never mapped in user space).
    unsafe { Arg::from_raw_parts(ptr as *mut u8, len as usize) }
}

/// The calculator's `sum` of `n` ints passed as `vec`.
fn sum(invoke: Invoke<'_>, h: u32, n: u32, vec: Arg<'_>) -> Result<i64, String> {
    let prim = n.to_le_bytes();
    let mut out = [0u8; 8];
    let mut args = [Arg::input(&prim), vec, Arg::output(&mut out)];
    let r = invoke(h, scalars(2, 2, 1), &mut args).map_err(|e| format!("sum: {e}"))?;
    check!(r == 0, "sum returned {r}");
    Ok(i64::from_le_bytes(out))
}

/// Runs the probes on calculator handle `h` of one node; one line each.
fn probe(node: &str, invoke: Invoke<'_>, h: u32) {
    for (name, sc, ranges, _) in PROBES {
        let mut args: Vec<Arg> = ranges.iter().map(|&(p, l)| raw(p, l)).collect();
        match invoke(h, sc, &mut args) {
            Ok(v) => println!("{node} {name}: returned {v}"),
            Err(e) => println!("{node} {name}: errno {}", e.raw_os_error().unwrap_or(0)),
        }
    }
    let empty = sum(invoke, h, 0, raw(TOP, 0));
    println!("{node} empty_at_top: {empty:?}");
    let v: Vec<u8> = (1..=100i32).flat_map(i32::to_le_bytes).collect();
    let after = sum(invoke, h, 100, Arg::input(&v));
    println!("{node} sum_after: {after:?}");
}

/// `qda_mode=hostile_ranges`: the probes as an app (uid 1000) on both
/// node kinds of cdsp, after creating an unsigned PD with the calculator.
pub fn unprivileged() {
    let shell = nodes::shell();
    match Device::by_name("cdsp").and_then(|d| {
        d.create(&shell, FASTRPC_MODE_UNSIGNED_MODULE)?;
        Ok((d.open_module("calculator")?, d))
    }) {
        Ok((h, d)) => probe("accel", &|h, sc, a| d.invoke(h, sc, a), h),
        Err(e) => println!("accel setup: {e}"),
    }
    match Legacy::open("cdsp").and_then(|l| {
        l.create(None, &shell, FASTRPC_MODE_UNSIGNED_MODULE)?;
        let h = open_module_with(|h, sc, a| l.invoke(h, sc, a), "calculator")?;
        Ok((h, l))
    }) {
        Ok((h, l)) => probe("legacy", &|h, sc, a| l.invoke(h, sc, a), h),
        Err(e) => println!("legacy setup: {e}"),
    }
}

/// The lines [`unprivileged`] prints when every probe is refused.
fn wanted() -> Vec<String> {
    let mut want = Vec::new();
    for node in ["accel", "legacy"] {
        for (name, _, _, errno) in PROBES {
            want.push(format!("{node} {name}: errno {errno}"));
        }
        want.push(format!("{node} empty_at_top: Ok(0)"));
        want.push(format!("{node} sum_after: Ok(5050)"));
    }
    want
}

/// Calls to module handles in a trace other than the calculator's sum.
fn other_module_calls(trace: &str) -> (usize, Vec<&str>) {
    let calls: Vec<&str> = trace.lines().filter(|l| l.contains(" hm")).collect();
    let sums = calls.iter().filter(|l| l.contains(" sc02020100 ")).count();
    (
        sums,
        calls
            .into_iter()
            .filter(|l| !l.contains(" sc02020100 "))
            .collect(),
    )
}

/// The suite's case: the probes refused with their errnos on both node
/// kinds, none of them sent to the DSP, and the sums right.
pub fn hostile_ranges_are_refused_as_an_app() -> Outcome {
    nodes::open_up_nodes()?;
    sim_static::clear_trace("cdsp")?;
    let lines = nodes::unprivileged_run("hostile_ranges", nodes::APP_UID)?;
    let trace = sim_static::trace("cdsp")?;
    let want = wanted();
    check!(lines == want, "child reported {lines:?}, want {want:?}");
    let (sums, others) = other_module_calls(&trace);
    check!(others.is_empty(), "probes reached the DSP: {others:?}");
    check!(sums == 4, "{sums} sums in the trace, want 4:\n{trace}");
    Ok(())
}
