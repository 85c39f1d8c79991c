//! Signals and give-ups during kernel calls (attach, create, map, unmap,
//! release) while the simulated DSP holds their answers (its
//! `drop-kernel M` knob: firmware that does the work and answers late).
//!
//! A kernel call waits for the answer, a fatal signal or 10 s (a release:
//! the answer or 10 s). What the request handed to the DSP stays mapped
//! until the DSP answers, checked through the CB's IOMMU
//! (`qda/<dsp>/iova_probe`), and no allocation on that CB gets its IOVA
//! meanwhile. A process the DSP may have started is released on close.
//! Interrupted closes leak no session slot; a killed task whose release
//! the DSP never confirms exits within the bound.

use std::{
    fs,
    thread::sleep,
    time::{Duration, Instant},
};

use qda::{
    rpc::{RemoteMapping, MAP_ATTR, MAP_LEGACY},
    Bo, Device,
};

use super::faults::{fork_attached, slots_of};
use crate::fixtures::{
    debugfs::{calls, probe},
    faults::{held, knob},
    ktap::{check, Outcome},
    sessions::{slots, Holder},
    sys,
    wait::eventually,
};

const DSP: &str = "cdsp";
const TRACE: &str = "/sys/kernel/debug/qda_dsp_sim/trace-cdsp";
const ADDRS: &str = "/sys/kernel/debug/qda_dsp_sim/addrs-cdsp";
/// Size of the buffers and maps.
const SIZE: u64 = 64 << 10;
/// The kernel-call timeout (the bound of a release's wait), with slack.
const BOUND: Duration = Duration::from_secs(15);

/// The kernel call being tested.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Attach,
    Create,
    /// Legacy map of kernel pages.
    Mmap,
    /// Attribute map of a buffer.
    MemMap,
    /// Undoing an attribute map.
    Unmap,
    /// The release of the file's process, on close.
    Release,
}

impl Kind {
    /// Its method on handle 1.
    fn method(self) -> u32 {
        match self {
            Kind::Attach => 0,
            Kind::Release => 1,
            Kind::Mmap => 4,
            Kind::Create => 6,
            Kind::MemMap => 10,
            Kind::Unmap => 11,
        }
    }
}

extern "C" fn on_usr1(_: libc::c_int) {}

/// A handler for `SIGUSR1` without `SA_RESTART`: an interruptible wait
/// would end with `EINTR`.
fn catch_usr1() {
    // SAFETY: an all-zero `sigaction` is an empty one; the handler does
    // nothing.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_usr1 as *const () as libc::sighandler_t;
        libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut());
    }
}

/// The child: sets up for `kind`, arms the held answer, reports the
/// buffer's DSP address (0 if none) on `ready`, makes the call.
fn child(kind: Kind, ready: i32) -> i32 {
    catch_usr1();
    let run = || -> Result<(), String> {
        let d = Device::by_name(DSP).map_err(|e| e.to_string())?;
        if !matches!(kind, Kind::Attach | Kind::Create) {
            d.attach().map_err(|e| e.to_string())?;
        }
        let bo = Bo::new(&d, SIZE).map_err(|e| e.to_string())?;
        let h = bo.handle() as i32;
        let addr = bo.info().map_err(|e| e.to_string())?.dsp_addr;
        let m: Option<RemoteMapping> = match kind {
            Kind::Unmap => Some(d.map(MAP_ATTR, h, 0, SIZE).map_err(|e| e.to_string())?),
            _ => None,
        };
        knob(DSP, &format!("drop-kernel {}", kind.method()))?;
        // SAFETY: 8 bytes from a live local to our pipe end.
        unsafe { libc::write(ready, (&raw const addr).cast(), 8) };
        let shell: Vec<u8> = (0..64 * 1024).map(|i| (i % 253) as u8).collect();
        let r = match kind {
            Kind::Attach => d.attach(),
            Kind::Create => d.create(&shell, 0),
            Kind::Mmap => d.map(MAP_LEGACY, -1, 0, SIZE).map(drop),
            Kind::MemMap => d.map(MAP_ATTR, h, 0, SIZE).map(drop),
            Kind::Unmap => d.unmap(m.as_ref().ok_or("no map")?),
            Kind::Release => {
                drop(bo);
                drop(d);
                Ok(())
            }
        };
        r.map_err(|e| e.to_string())
    };
    match run() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{kind:?} child: {e}");
            1
        }
    }
}

/// Forks [`child`] for `kind`: its pid and the address it reported.
fn spawn(kind: Kind) -> Result<(i32, u64), String> {
    let (pid, rd) = sys::fork_piped(|w| child(kind, w))?;
    let mut addr = 0u64;
    // SAFETY: reads 8 bytes into a live local, then closes our end.
    let n = unsafe {
        let n = libc::read(rd, (&raw mut addr).cast(), 8);
        libc::close(rd);
        n
    };
    if n != 8 {
        reap(pid);
        return Err(format!("{kind:?} child failed before its call"));
    }
    Ok((pid, addr))
}

/// Reaps `pid` (blocking).
fn reap(pid: i32) {
    // SAFETY: our child.
    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
}

/// Whether `pid` has ended (and reaps it if so).
fn ended(pid: i32) -> bool {
    // SAFETY: our child; WNOHANG only asks.
    unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) == pid }
}

/// The DSP address of the first page entry in the last request of
/// method `m` on handle 1 the simulator recorded.
fn page_of_last(m: u32) -> Result<u64, String> {
    let trace = fs::read_to_string(TRACE).map_err(|e| format!("{TRACE}: {e}"))?;
    let sc = format!(" h1 sc{:02x}", m);
    let line = trace
        .lines()
        .rev()
        .find(|l| l.contains(&sc))
        .ok_or(format!("no method {m} request in the trace"))?;
    let tok = line
        .split("{a")
        .nth(1)
        .and_then(|t| t.split('/').next())
        .ok_or(format!("no page entry in {line:?}"))?;
    let addrs = fs::read_to_string(ADDRS).map_err(|e| format!("{ADDRS}: {e}"))?;
    let want = format!("a{tok}");
    addrs
        .lines()
        .find_map(|l| {
            let (t, a) = l.split_once(' ')?;
            (t == want).then(|| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())?
        })
        .ok_or(format!("no address for {want}"))
}

/// Whether DSP address `a` translates in the IOMMU domain of its CB.
fn mapped(a: u64) -> Result<bool, String> {
    let sid = (a >> 32) as u32;
    Ok(probe(DSP, a)?.iter().any(|(s, p)| *s == sid && p.is_some()))
}

/// A new buffer's DSP address in a new process (a file of ours).
fn next_allocation() -> Result<u64, String> {
    let d = Device::by_name(DSP).map_err(|e| e.to_string())?;
    let bo = Bo::new(&d, SIZE).map_err(|e| e.to_string())?;
    Ok(bo.info().map_err(|e| e.to_string())?.dsp_addr)
}

/// What a signalled call showed before the checks.
struct Seen {
    reached: bool,
    ended_by_usr1: bool,
    page: Option<u64>,
    mapped_while_held: bool,
    mapped_after_kill: bool,
    next: Option<u64>,
    released: bool,
}

/// Runs `kind` in a child while the DSP holds its answer: `SIGUSR1`,
/// then `SIGKILL`; lets the answer go at the end.
fn observe(kind: Kind) -> Result<Seen, String> {
    fs::write(TRACE, "1").map_err(|e| format!("{TRACE}: {e}"))?;
    let (pid, bo) = spawn(kind)?;
    let reached = eventually(|| held(DSP) == Ok(1));
    let page = match kind {
        Kind::Create | Kind::Mmap if reached => Some(page_of_last(kind.method())?),
        Kind::MemMap => Some(bo),
        _ => None,
    };
    // SAFETY: our child, alive until reaped.
    unsafe { libc::kill(pid, libc::SIGUSR1) };
    sleep(Duration::from_millis(300));
    let ended_by_usr1 = ended(pid);
    let mapped_while_held = page.map_or(Ok(true), mapped)?;
    if kind == Kind::Release {
        // A release is not given up for SIGKILL: let it be answered.
        knob(DSP, "release")?;
    }
    if !ended_by_usr1 {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        reap(pid);
    }
    let mapped_after_kill = page.map_or(Ok(true), mapped)?;
    let next = match page {
        Some(_) => Some(next_allocation()?),
        None => None,
    };
    let trace = fs::read_to_string(TRACE).map_err(|e| format!("{TRACE}: {e}"))?;
    let released = trace.contains(" h1 sc01010000");
    knob(DSP, "release")?;
    Ok(Seen {
        reached,
        ended_by_usr1,
        page,
        mapped_while_held,
        mapped_after_kill,
        next,
        released,
    })
}

/// One kernel call of `kind` with its answer held: see the module doc.
fn signalled(kind: Kind) -> Outcome {
    let s = observe(kind)?;
    check!(s.reached, "{kind:?}: the call never reached the DSP");
    check!(
        !s.ended_by_usr1,
        "{kind:?}: SIGUSR1 ended the kernel call while the DSP held its answer"
    );
    check!(
        s.mapped_while_held && s.mapped_after_kill,
        "{kind:?}: memory at {:#x?} given to the DSP was unmapped before its answer \
         (while held: {}, after SIGKILL: {})",
        s.page,
        s.mapped_while_held,
        s.mapped_after_kill
    );
    if let (Some(a), Some(n)) = (s.page, s.next) {
        check!(
            n != a,
            "{kind:?}: the next allocation got {a:#x}, which the DSP still uses"
        );
    }
    if matches!(kind, Kind::Attach | Kind::Create) {
        check!(
            s.released,
            "{kind:?}: a process the DSP may have started was not released on close"
        );
    }
    // The answer came: the next file's open reaps it and frees the memory.
    if let Some(a) = s.page {
        check!(
            eventually(|| {
                drop(Device::by_name(DSP));
                mapped(a) == Ok(false)
            }),
            "{kind:?}: {a:#x} still mapped after the DSP answered and the process ended"
        );
    }
    check!(
        eventually(|| {
            drop(Device::by_name(DSP));
            calls(DSP, "in_flight") == Ok(0)
        }),
        "{kind:?}: calls in flight: {:?}",
        calls(DSP, "in_flight")
    );
    Ok(())
}

pub fn signals_do_not_end_an_attach() -> Outcome {
    signalled(Kind::Attach)
}

pub fn signals_do_not_end_a_create() -> Outcome {
    signalled(Kind::Create)
}

pub fn signals_do_not_end_a_legacy_map() -> Outcome {
    signalled(Kind::Mmap)
}

pub fn signals_do_not_end_a_mem_map() -> Outcome {
    signalled(Kind::MemMap)
}

pub fn signals_do_not_end_an_unmap() -> Outcome {
    signalled(Kind::Unmap)
}

/// Closes whose release a signal hits while the DSP holds its answer,
/// as many as there are sessions: none keeps its slot, and as many
/// processes as there are sessions open afterwards.
pub fn interrupted_closes_leak_no_session() -> Outcome {
    let n = slots(DSP)?.iter().filter(|s| s.owner == -1).count();
    check!(n > 0, "no free session");
    for i in 0..n {
        let s = observe(Kind::Release)?;
        check!(s.reached, "close {i}: the release never reached the DSP");
        check!(
            !s.ended_by_usr1,
            "close {i}: SIGUSR1 ended the release while the DSP held its answer"
        );
    }
    let mut holders = Vec::new();
    for i in 0..n {
        let h = eventually(|| {
            drop(Device::by_name(DSP));
            slots(DSP).is_ok_and(|v| v.iter().filter(|s| s.owner == -1).count() >= n - i)
        });
        check!(
            h,
            "after {n} interrupted closes, only {i} sessions are free"
        );
        holders.push(Holder::spawn(DSP)?);
    }
    drop(holders);
    Ok(())
}

/// A task killed with its file open whose release the DSP never confirms:
/// it exits within the kernel-call bound; its process stays reserved for
/// the DSP until the late answer, which gives the slot back.
pub fn a_killed_task_exits_within_the_bound() -> Outcome {
    let (pid, attached) = fork_attached()?;
    // SAFETY: our child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let t = Instant::now();
    let mut gone = false;
    while t.elapsed() < BOUND + Duration::from_secs(5) {
        if ended(pid) {
            gone = true;
            break;
        }
        sleep(Duration::from_millis(50));
    }
    let took = t.elapsed();
    let kept = calls(DSP, "kept");
    let slot = slots_of(pid);
    knob(DSP, "release")?;
    if !gone {
        reap(pid);
    }
    check!(attached, "the attach never reached the DSP");
    check!(
        gone && took < BOUND,
        "the killed task took {took:?} to exit (bound {BOUND:?})"
    );
    check!(
        kept == Ok(1) && slot == Ok(1),
        "unconfirmed release: kept {kept:?}, slots of the task {slot:?}"
    );
    check!(
        eventually(|| {
            drop(Device::by_name(DSP));
            slots_of(pid) == Ok(0) && calls(DSP, "kept") == Ok(0)
        }),
        "the late answer to the release did not free the slot: {:?}, kept {:?}",
        slots_of(pid),
        calls(DSP, "kept")
    );
    Ok(())
}
