//! The `qda_differential` KTAP suite: one script of FastRPC operations,
//! run once through qda (accel UAPI) and once through the upstream driver
//! `drivers/misc/fastrpc.c` (`/dev/fastrpc-cdsp`) on the same simulated
//! DSP, which records every message it receives
//! (`qda_dsp_sim/trace-cdsp` in debugfs). Each step checks what it
//! computed on both drivers, then the two recordings of the step are
//! compared message by message, after the declared divergences
//! ([`crate::fixtures::divergence`]) have been applied to both.
//!
//! The simulator is reloaded between the runs: first with every channel
//! bound to qda, then (`upstream_cdsp=1`) with cdsp bound to fastrpc.ko.
//! Without fastrpc.ko in the initramfs the suite is skipped.

use std::{
    io,
    os::fd::{AsFd, AsRawFd},
    path::{Path, PathBuf},
    sync::mpsc,
    time::Duration,
};

use fastrpc_ko::Legacy;
use qda::{
    rpc::{build_scalars, scalars, Arg},
    Device,
};

use super::interrupted;
use crate::fixtures::{
    divergence::{self, DIVERGENCES},
    driver::{in_order, node_of, DmaBuf, Driver, QdaFile, UpstreamFile},
    ktap::{check, Outcome, Suite},
    upstream::{load, unload_sim, SIM, SIM_UPSTREAM, UPSTREAM_NODE},
    wait::wait_for,
};

/// The DSP both drivers talk to.
pub(crate) const LABEL: &str = "cdsp";
/// Where the simulator records what the DSP of `LABEL` receives.
const TRACE: &str = "/sys/kernel/debug/qda_dsp_sim/trace-cdsp";
/// fastrpc.ko and what it needs, in load order.
const UPSTREAM_MODULES: [&str; 4] = ["qcom_tzmem", "qcom_pas", "qcom-scm", "fastrpc"];
/// How long one driver's run of the script may take.
const RUN_LIMIT: Duration = Duration::from_secs(60);
/// Where the guest keeps the DSP shells the FastRPC library loads.
const SHELL: &str = "/usr/lib/dsp/fastrpc_shell_3";
/// Size of the legacy and attribute mappings.
const MAP_SIZE: u64 = 64 << 10;

/// Opens a new file of one driver.
type Open = dyn Fn() -> io::Result<Box<dyn Driver>>;

/// What one step left: the DSP's trace, the values to compare across
/// the drivers, and the step's own failure.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    pub lines: Vec<String>,
    pub values: Vec<String>,
    pub error: Option<String>,
}

/// The state the script carries from step to step.
pub(crate) struct State<'a> {
    open: &'a Open,
    /// File A, open from `attach` to `close_releases`.
    a: Option<Box<dyn Driver>>,
}

impl State<'_> {
    pub(crate) fn a(&self) -> Result<&dyn Driver, String> {
        self.a.as_deref().ok_or_else(|| "file A is not open".into())
    }
}

/// One step: its operations, which push values to compare.
type Step = fn(&mut State, &mut Vec<String>) -> Outcome;

/// The script, in order.
///
/// Not in it: INIT_CREATE with the shell by pointer. fastrpc.c (7.3) takes
/// `filefd` 0 as "no buffer" and then copies `file` with `memcpy` as if it
/// were a kernel address (the call is a kernel call), which KASAN reports
/// as a user-memory access and which lets a caller send any kernel memory
/// to the DSP; qda's by-pointer create is tested in `qda_userspace`.
pub const STEPS: [(&str, Step); 12] = [
    ("attach", attach),
    ("invoke_no_args", invoke_no_args),
    ("invoke_inline", invoke_inline),
    ("invoke_zero_copy", invoke_zero_copy),
    ("invoke_handle", invoke_handle),
    ("legacy_map", legacy_map),
    ("attr_map", attr_map),
    ("caps", caps),
    ("interrupted_call", interrupted::step),
    ("close_releases", close_releases),
    ("create", create),
    ("attach_sensors", attach_sensors),
];

/// `r` with its error as a step failure saying `what` failed.
pub(crate) fn ok<T>(r: io::Result<T>, what: &str) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e}"))
}

/// Deterministic bytes: the same on both drivers.
pub(crate) fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8 ^ seed)
        .collect()
}

/// The byte sum the `copy` module's checksums compute.
fn byte_sum(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |a, &x| a.wrapping_add(u32::from(x)))
}

fn attach(st: &mut State, _: &mut Vec<String>) -> Outcome {
    let a = ok((st.open)(), "open file A")?;
    ok(a.attach(), "attach")?;
    st.a = Some(a);
    Ok(())
}

fn invoke_no_args(st: &mut State, _: &mut Vec<String>) -> Outcome {
    let a = st.a()?;
    let h = ok(a.open_module("null"), "open null")?;
    let r = ok(a.invoke(h, scalars(2, 0, 0), &mut []), "invoke null")?;
    check!(r == 0, "null returned {r}");
    ok(a.close_module(h), "close null")
}

/// `copy` method 2 of `input` into an output just above it; checks the copy.
fn copy_inline(a: &dyn Driver, h: u32, input: &[u8]) -> Outcome {
    let mut arena = in_order(&[input, &vec![0u8; input.len()]]);
    let (input, out) = arena.split_at_mut(input.len());
    let mut args = [Arg::input(input), Arg::output(out)];
    let r = ok(a.invoke(h, scalars(2, 1, 1), &mut args), "copy")?;
    check!(r == 0, "copy of {} bytes returned {r}", input.len());
    check!(
        out == input,
        "copy of {} bytes came back wrong",
        input.len()
    );
    Ok(())
}

fn invoke_inline(st: &mut State, _: &mut Vec<String>) -> Outcome {
    let a = st.a()?;
    let h = ok(a.open_module("copy"), "open copy")?;
    for (i, size) in [1usize, 100, 4096, 70000].into_iter().enumerate() {
        copy_inline(a, h, &pattern(size, i as u8))?;
    }
    // Nothing in, nothing out.
    copy_inline(a, h, &[])?;
    // Checksum (method 3).
    // The output below the input this time.
    let mut arena = in_order(&[&[0u8; 4], &pattern(100, 7)]);
    let (sum, input) = arena.split_at_mut(4);
    let mut args = [Arg::input(input), Arg::output(sum)];
    let r = ok(a.invoke(h, scalars(3, 1, 1), &mut args), "checksum")?;
    check!(
        r == 0 && u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]) == byte_sum(input),
        "checksum: r {r}, {} want {}",
        u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]),
        byte_sum(input)
    );
    // Input v[0..200] and output v[100..300] of one buffer: the input is
    // copied in before the DSP runs, the output back after it.
    let mut v = pattern(300, 9);
    let orig = v.clone();
    let p = v.as_mut_ptr();
    // SAFETY: both ranges lie in `v`, which outlives the call and is not
    // touched until it returned; the kernel reads the input range before
    // it writes the output range.
    let mut args = unsafe {
        [
            Arg::from_raw_parts(p, 200),
            Arg::from_raw_parts(p.add(100), 200),
        ]
    };
    let r = ok(a.invoke(h, scalars(2, 1, 1), &mut args), "overlapping copy")?;
    check!(r == 0, "overlapping copy returned {r}");
    check!(
        v[..100] == orig[..100] && v[100..] == orig[..200],
        "overlapping copy: the DSP's copy of v[0..200] is not in v[100..300]"
    );
    ok(a.close_module(h), "close copy")
}

/// A dma-buf of `size` bytes filled with `pattern(size, seed)`.
fn filled(a: &dyn Driver, size: usize, seed: u8) -> Result<DmaBuf, String> {
    let mut b = ok(a.dmabuf(size), "dma-buf")?;
    check!(
        b.map.as_slice().len() >= size,
        "dma-buf mapping of {} bytes, want {size}",
        b.map.as_slice().len()
    );
    b.map.as_mut_slice()[..size].copy_from_slice(&pattern(size, seed));
    Ok(b)
}

fn invoke_zero_copy(st: &mut State, _: &mut Vec<String>) -> Outcome {
    let a = st.a()?;
    const N: usize = 8192;
    let buf = filled(a, N, 3)?;
    let h = ok(a.open_module("copy"), "open copy")?;
    let mut out = vec![0u8; N];
    let mut args = [
        Arg::dmabuf(buf.fd.as_fd(), &buf.map.as_slice()[..N]),
        Arg::output(&mut out),
    ];
    let r = ok(a.invoke(h, scalars(2, 1, 1), &mut args), "zero-copy copy")?;
    check!(r == 0, "zero-copy copy returned {r}");
    check!(out == pattern(N, 3), "zero-copy input came back wrong");
    ok(a.close_module(h), "close copy")
}

fn invoke_handle(st: &mut State, _: &mut Vec<String>) -> Outcome {
    let a = st.a()?;
    const N: usize = 4096;
    let buf = filled(a, N, 5)?;
    let want = byte_sum(&buf.map.as_slice()[..N]);
    let h = ok(a.open_module("copy"), "open copy")?;
    let mut out = [0u8; 4];
    let fd = buf.fd.as_raw_fd() as u32;
    let mut args = [Arg::output(&mut out), Arg::handle(fd, 0, N as u32)];
    // Method 4: no buffer in, one out, one input handle.
    let sc = build_scalars(0, 4, 0, 1, 1, 0);
    let r = ok(a.invoke(h, sc, &mut args), "checksum of a handle")?;
    check!(r == 0, "checksum of a handle returned {r}");
    let got = u32::from_le_bytes(out);
    check!(got == want, "checksum of a handle: {got}, want {want}");
    ok(a.close_module(h), "close copy")
}

fn legacy_map(st: &mut State, _: &mut Vec<String>) -> Outcome {
    let a = st.a()?;
    let va = ok(a.legacy_map(MAP_SIZE), "MMAP of kernel pages")?;
    check!(va != 0, "MMAP returned no DSP address");
    ok(a.legacy_unmap(va, MAP_SIZE), "MUNMAP")
}

fn attr_map(st: &mut State, _: &mut Vec<String>) -> Outcome {
    let a = st.a()?;
    let buf = filled(a, MAP_SIZE as usize, 11)?;
    let va = ok(a.attr_map(&buf, MAP_SIZE), "MEM_MAP of a dma-buf")?;
    check!(va != 0, "MEM_MAP returned no DSP address");
    ok(a.attr_unmap(&buf, va, MAP_SIZE), "MEM_UNMAP")
}

fn caps(st: &mut State, values: &mut Vec<String>) -> Outcome {
    let a = st.a()?;
    for id in [0u32, 5] {
        let v = ok(a.caps(id), &format!("attribute {id}"))?;
        values.push(format!("attribute {id} = {v}"));
    }
    Ok(())
}

fn close_releases(st: &mut State, _: &mut Vec<String>) -> Outcome {
    check!(st.a.take().is_some(), "file A was not open");
    Ok(())
}

/// The shell image: the guest's (a stand-in ELF header for Hexagon when
/// the library is installed), else an equivalent built here.
fn shell_image() -> Vec<u8> {
    if let Ok(b) = std::fs::read(SHELL) {
        if !b.is_empty() {
            return b;
        }
    }
    let mut h = Vec::with_capacity(4096);
    // e_ident: ELF, 32-bit, little endian, version 1.
    h.extend_from_slice(b"\x7fELF\x01\x01\x01\x00");
    h.resize(16, 0);
    let half = |h: &mut Vec<u8>, v: u16| h.extend_from_slice(&v.to_le_bytes());
    let word = |h: &mut Vec<u8>, v: u32| h.extend_from_slice(&v.to_le_bytes());
    half(&mut h, 3); // e_type: shared object
    half(&mut h, 164); // e_machine: Hexagon (EM_QDSP6)
    word(&mut h, 1); // e_version
    word(&mut h, 0); // e_entry
    word(&mut h, 0); // e_phoff
    word(&mut h, 0); // e_shoff
    word(&mut h, 0x68); // e_flags: v68
    half(&mut h, 52); // e_ehsize
    half(&mut h, 32); // e_phentsize
    half(&mut h, 0); // e_phnum
    half(&mut h, 40); // e_shentsize
    half(&mut h, 0); // e_shnum
    half(&mut h, 0); // e_shstrndx
    h.resize(4096, 0);
    h
}

fn create(st: &mut State, _: &mut Vec<String>) -> Outcome {
    let b = ok((st.open)(), "open file B")?;
    let shell = shell_image();
    let size = shell.len().next_multiple_of(4096);
    let mut buf = ok(b.dmabuf(size), "dma-buf for the shell")?;
    buf.map.as_mut_slice()[..shell.len()].copy_from_slice(&shell);
    ok(b.create(&buf, shell.len(), 0), "create")?;
    let h = ok(b.open_module("copy"), "open copy")?;
    copy_inline(b.as_ref(), h, &pattern(64, 13))?;
    ok(b.close_module(h), "close copy")?;
    drop(b);
    Ok(())
}

/// The simulator's view of the sensors PD: whether a process is attached.
fn sensors_up() -> Result<bool, String> {
    let p = "/sys/kernel/debug/qda_dsp_sim/sensors-cdsp";
    let t = std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
    Ok(t.lines().any(|l| l == "up 1"))
}

/// INIT_ATTACH_SNS on a new file: the DSP starts a process in the sensors
/// PD, released (in that PD) when the file closes.
fn attach_sensors(st: &mut State, values: &mut Vec<String>) -> Outcome {
    let b = ok((st.open)(), "open file B")?;
    ok(b.attach_sensors(), "attach to the sensors PD")?;
    values.push(format!("sensors PD up: {}", sensors_up()?));
    drop(b);
    values.push(format!("sensors PD up after close: {}", sensors_up()?));
    Ok(())
}

/// Empties the trace.
fn clear_trace() -> io::Result<()> {
    std::fs::write(TRACE, "1\n")
}

/// The trace's lines.
pub(crate) fn read_trace() -> io::Result<Vec<String>> {
    Ok(std::fs::read_to_string(TRACE)?
        .lines()
        .map(str::to_string)
        .collect())
}

/// Runs the script on files `open` makes; one record per step.
fn script(open: &Open) -> Vec<Record> {
    let mut st = State { open, a: None };
    let mut out = Vec::new();
    for (_, step) in STEPS {
        let mut rec = Record::default();
        rec.error = match clear_trace() {
            Err(e) => Some(format!("clearing {TRACE}: {e}")),
            Ok(()) => step(&mut st, &mut rec.values).err(),
        };
        match read_trace() {
            Ok(l) => rec.lines = l,
            Err(e) => {
                rec.error.get_or_insert(format!("reading {TRACE}: {e}"));
            }
        }
        out.push(rec);
    }
    out
}

/// Runs the script in a thread of its own, giving up after `RUN_LIMIT`
/// (fastrpc.ko waits for the DSP without a time limit).
fn run_side(open: impl Fn() -> io::Result<Box<dyn Driver>> + Send + 'static) -> Vec<Record> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(script(&open));
    });
    rx.recv_timeout(RUN_LIMIT)
        .unwrap_or_else(|_| failed(&format!("the script did not finish in {RUN_LIMIT:?}")))
}

/// Every step failed for `why`.
fn failed(why: &str) -> Vec<Record> {
    STEPS
        .iter()
        .map(|_| Record {
            error: Some(why.to_string()),
            ..Default::default()
        })
        .collect()
}

/// The qda run: the simulator with every DSP on qda.
pub fn qda_side() -> Vec<Record> {
    let setup = || -> Result<PathBuf, String> {
        unload_sim()?;
        load(SIM, "")?;
        wait_for(|| node_of(LABEL)).ok_or(format!("no qda node of {LABEL} after insmod {SIM}"))
    };
    match setup() {
        Err(e) => failed(&e),
        Ok(path) => {
            run_side(move || Ok(Box::new(QdaFile(Device::open(&path)?)) as Box<dyn Driver>))
        }
    }
}

/// The run through qda's legacy node of `LABEL`, on a freshly loaded
/// simulator (as each other run: nothing cached from the previous one).
pub fn qda_legacy_side() -> Vec<Record> {
    let setup = || -> Result<(), String> {
        unload_sim()?;
        load(SIM, "")?;
        wait_for(|| Path::new(UPSTREAM_NODE).exists().then_some(()))
            .ok_or(format!("qda has no {UPSTREAM_NODE} after insmod {SIM}"))
    };
    match setup() {
        Err(e) => failed(&e),
        Ok(()) => {
            run_side(|| Ok(Box::new(UpstreamFile(Legacy::open(LABEL)?, false)) as Box<dyn Driver>))
        }
    }
}

/// The fastrpc.ko run: the simulator with `LABEL` on fastrpc.ko.
pub fn upstream_side() -> Vec<Record> {
    let setup = || -> Result<(), String> {
        unload_sim()?;
        for m in UPSTREAM_MODULES {
            load(m, "")?;
        }
        load(SIM, SIM_UPSTREAM)?;
        wait_for(|| Path::new(UPSTREAM_NODE).exists().then_some(())).ok_or(format!(
            "no {UPSTREAM_NODE} after insmod {SIM} {SIM_UPSTREAM}"
        ))
    };
    match setup() {
        Err(e) => failed(&e),
        Ok(()) => {
            run_side(|| Ok(Box::new(UpstreamFile(Legacy::open(LABEL)?, true)) as Box<dyn Driver>))
        }
    }
}

/// The verdict of one step from both drivers' records; `used` collects
/// the declared divergences that applied.
pub fn verdict(q: &Record, u: &Record, used: &mut [bool]) -> Outcome {
    let mut errs = Vec::new();
    if let Some(e) = &q.error {
        errs.push(format!("qda: {e}"));
    }
    if let Some(e) = &u.error {
        errs.push(format!("fastrpc.ko: {e}"));
    }
    if q.values != u.values {
        errs.push(format!(
            "results differ: qda {:?}, fastrpc.ko {:?}",
            q.values, u.values
        ));
    }
    if let Err(e) = divergence::compare(&q.lines, &u.lines, DIVERGENCES, used) {
        errs.push(e);
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n"))
    }
}

/// The KTAP document of `suite` from two runs; with `stale`, a case that
/// fails on declared divergences no step used.
pub fn render(suite: &'static str, q: &[Record], u: &[Record], stale: bool) -> String {
    let mut s = Suite::new(suite);
    let mut used = vec![false; DIVERGENCES.len()];
    for (i, (name, _)) in STEPS.iter().enumerate() {
        s.case(name, || verdict(&q[i], &u[i], &mut used));
    }
    if stale {
        s.case("stale_divergences", || {
            divergence::stale(DIVERGENCES, &used)
        });
    }
    s.render()
}

/// Prints fastrpc.ko's trace as `qda-golden: <step>\t<line>` lines, the
/// source of the host tests' golden vectors
/// (`scripts/update-golden.sh` extracts them from the console).
pub fn print_golden(u: &[Record]) {
    for ((name, _), rec) in STEPS.iter().zip(u) {
        for l in &rec.lines {
            println!("qda-golden: {name}\t{l}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(lines: &[&str]) -> Record {
        Record {
            lines: lines.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn equal_traces_pass() {
        let mut used = vec![false; DIVERGENCES.len()];
        let r = rec(&["c0 t0 x0 pd0 h21 sc02000000 sz0"]);
        assert_eq!(verdict(&r, &r, &mut used), Ok(()));
    }

    #[test]
    fn step_errors_and_values_are_reported_per_side() {
        let mut used = vec![false; DIVERGENCES.len()];
        let q = Record {
            values: vec!["attribute 0 = 1".into()],
            ..rec(&[])
        };
        let u = Record {
            values: vec!["attribute 0 = 0".into()],
            error: Some("attach: EPERM".into()),
            ..rec(&[])
        };
        let e = verdict(&q, &u, &mut used).unwrap_err();
        assert!(e.starts_with("fastrpc.ko: attach: EPERM\n"), "{e}");
        assert!(e.contains("results differ"), "{e}");
    }

    #[test]
    fn the_report_names_every_step_and_the_stale_check() {
        let q = failed("x");
        let doc = render("qda_differential", &q, &q, true);
        for (name, _) in STEPS {
            assert!(doc.contains(&format!(" {name}\n")), "{name}: {doc}");
        }
        let stale = format!("not ok {} stale_divergences\n", STEPS.len() + 1);
        assert!(doc.contains(&stale), "{doc}");
        assert!(doc.ends_with("not ok 1 qda_differential\n"), "{doc}");
    }

    #[test]
    fn the_stand_in_shell_is_a_hexagon_elf_header() {
        let mut h = Vec::new();
        if !Path::new(SHELL).exists() {
            h = shell_image();
        }
        if h.is_empty() {
            return;
        }
        assert_eq!(h.len(), 4096);
        assert_eq!(&h[..4], b"\x7fELF");
        assert_eq!(u16::from_le_bytes([h[18], h[19]]), 164);
        assert_eq!(u16::from_le_bytes([h[40], h[41]]), 52);
    }

    #[test]
    fn patterns_are_not_constant() {
        let p = pattern(256, 0);
        assert!(p.iter().any(|&b| b != p[0]));
        assert_ne!(pattern(16, 1), pattern(16, 2));
    }
}
