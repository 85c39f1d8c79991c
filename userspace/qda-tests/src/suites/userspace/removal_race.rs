//! Ioctls racing the removal of their DSP (the DRM registration guard):
//! threads call on an accel and a legacy file of cdsp while the channel is
//! unbound. Every call either succeeds (a sum computed right), or fails
//! with -ENODEV, or, for a remote call in flight at the removal, -EPIPE;
//! every call made after the unbind returned fails with -ENODEV, on both
//! node kinds; nothing hangs (a child stuck for 30 s dies of SIGALRM).
//! The DSP is bound again afterwards.

use std::{
    io::{self, Read, Write},
    os::unix::net::UnixStream,
    sync::{
        atomic::{AtomicBool, Ordering::SeqCst},
        mpsc::{channel, Sender},
    },
};

use fastrpc_ko::{Legacy, SetOption, FASTRPC_POLL_MODE};
use qda::{
    rpc::{open_module_with, scalars, Arg},
    Bo, Device,
};

use crate::fixtures::{
    ktap::{check, Outcome},
    sys::{rpmsg_name, write_sysfs},
    wait::eventually,
};

const DSP: &str = "cdsp";
const CALC: &str = "calculator";
/// Rounds each racer makes after it has seen the unbind return.
const ROUNDS_AFTER: usize = 3;

/// One ioctl of a racer: its name, whether it is a remote call (which may
/// be in flight at the removal), and the call.
type Call<'a> = (
    &'static str,
    bool,
    Box<dyn Fn() -> io::Result<()> + Send + Sync + 'a>,
);

/// `Ok` if `v` is the expected sum, else an error naming it.
fn sum_is(v: io::Result<i64>, want: i64) -> io::Result<()> {
    match v? {
        s if s == want => Ok(()),
        s => Err(io::Error::other(format!("sum {s}, expected {want}"))),
    }
}

/// The calculator's sum through a legacy file.
fn legacy_sum(l: &Legacy, h: u32, v: &[i32]) -> io::Result<i64> {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let prim = (v.len() as u32).to_le_bytes();
    let mut out = [0u8; 8];
    let mut args = [Arg::input(&prim), Arg::input(&bytes), Arg::output(&mut out)];
    match l.invoke(h, scalars(2, 2, 1), &mut args)? {
        0 => Ok(i64::from_le_bytes(out)),
        r => Err(io::Error::other(format!("sum returned {r}"))),
    }
}

/// What a racer's calls answered until the unbind returned.
#[derive(Default)]
struct Tally {
    ok: usize,
    enodev: usize,
    epipe: usize,
}

impl Tally {
    /// Judges result `r` of call `what` and counts it: after the unbind
    /// only -ENODEV is allowed; before or during it success, -ENODEV or
    /// (remote calls) -EPIPE.
    fn judge(&mut self, what: &str, remote: bool, after: bool, r: io::Result<()>) -> Outcome {
        let errno = r.as_ref().err().and_then(|e| e.raw_os_error());
        let count = match (after, &r, errno) {
            (true, _, Some(libc::ENODEV)) => None,
            (true, _, _) => return Err(format!("{what} after the removal: {r:?}")),
            (false, Ok(()), _) => Some(&mut self.ok),
            (false, _, Some(libc::ENODEV)) => Some(&mut self.enodev),
            (false, _, Some(libc::EPIPE)) if remote => Some(&mut self.epipe),
            (false, _, _) => return Err(format!("{what} racing the removal: {r:?}")),
        };
        if let Some(c) = count {
            *c += 1;
        }
        Ok(())
    }
}

/// Calls `calls` in rounds until [`ROUNDS_AFTER`] rounds began after
/// `removed` was set; signals `ready` after a first round that succeeded.
fn racer(calls: &[Call<'_>], removed: &AtomicBool, ready: Sender<()>) -> Result<Tally, String> {
    for (what, _, call) in calls {
        call().map_err(|e| format!("{what} before the removal: {e}"))?;
    }
    let _ = ready.send(());
    let mut tally = Tally::default();
    let mut after_rounds = 0;
    while after_rounds < ROUNDS_AFTER {
        let after = removed.load(SeqCst);
        for (what, remote, call) in calls {
            tally.judge(what, *remote, after, call())?;
        }
        after_rounds += usize::from(after);
    }
    Ok(tally)
}

/// The accel racer's calls: QUERY, a buffer, the calculator.
fn accel_calls(d: &Device, h: u32) -> Vec<Call<'_>> {
    vec![
        ("QUERY", false, Box::new(move || d.query().map(drop))),
        (
            "GEM_CREATE",
            false,
            Box::new(move || Bo::new(d, 4096).map(drop)),
        ),
        (
            "INVOKE",
            true,
            Box::new(move || sum_is(d.calculator_sum(h, &[40, 2]), 42)),
        ),
    ]
}

/// The legacy racer's calls: GET_DSP_INFO, ALLOC_DMA_BUFF, the calculator.
fn legacy_calls(l: &Legacy, h: u32) -> Vec<Call<'_>> {
    vec![
        (
            "GET_DSP_INFO",
            false,
            Box::new(move || l.dsp_info(1).map(drop)),
        ),
        (
            "ALLOC_DMA_BUFF",
            false,
            Box::new(move || l.alloc_dma_buf(4096).map(drop)),
        ),
        (
            "legacy INVOKE",
            true,
            Box::new(move || sum_is(legacy_sum(l, h, &[30, 3]), 33)),
        ),
    ]
}

/// More ioctls on the old files, each expected to fail with -ENODEV.
fn all_enodev_after(d: &Device, l: &Legacy) -> Result<(), String> {
    let poll = SetOption {
        request_id: FASTRPC_POLL_MODE,
        value: 1,
        reserved: [0; 6],
    };
    let calls: [(&str, io::Result<()>); 5] = [
        ("accel INIT_ATTACH", d.attach()),
        ("legacy INIT_ATTACH", l.attach()),
        ("SET_OPTION", l.set_option(poll)),
        ("MUNMAP", l.munmap(0x1000, 0x1000)),
        (
            "MMAP",
            l.mmap(fastrpc_ko::ADSP_MMAP_ADD_PAGES, 4096).map(drop),
        ),
    ];
    for (what, r) in calls {
        Tally::default().judge(what, false, true, r)?;
    }
    Ok(())
}

/// The child's part: open both nodes, race the unbind of `rpdev`, check
/// the old files.
fn race_the_unbind(rpdev: &str) -> Result<(), String> {
    let d = Device::by_name(DSP).map_err(|e| format!("open {DSP}: {e}"))?;
    d.attach().map_err(|e| format!("attach: {e}"))?;
    let h = d
        .open_module(CALC)
        .map_err(|e| format!("open calculator: {e}"))?;
    let l = Legacy::open(DSP).map_err(|e| format!("open /dev/fastrpc-{DSP}: {e}"))?;
    l.attach().map_err(|e| format!("legacy attach: {e}"))?;
    let lh = open_module_with(|h, sc, a| l.invoke(h, sc, a), CALC)
        .map_err(|e| format!("legacy open calculator: {e}"))?;
    let removed = AtomicBool::new(false);
    let (accel, legacy) = (accel_calls(&d, h), legacy_calls(&l, lh));
    std::thread::scope(|s| {
        let (tx, rx) = channel();
        let racers = [
            s.spawn({
                let (tx, removed) = (tx.clone(), &removed);
                move || racer(&accel, removed, tx)
            }),
            s.spawn({
                let removed = &removed;
                move || racer(&legacy, removed, tx)
            }),
        ];
        // Both calling (a racer that failed first drops its sender).
        let calling = rx.iter().take(2).count() == 2;
        let unbound = if calling {
            write_sysfs("/sys/bus/rpmsg/drivers/qda/unbind", rpdev)
        } else {
            Err("a racer failed before the removal".into())
        };
        removed.store(true, SeqCst);
        let mut failed = Vec::new();
        for (name, r) in ["accel", "legacy"].into_iter().zip(racers) {
            match r.join().unwrap_or_else(|_| Err("a racer panicked".into())) {
                Ok(t) => eprintln!(
                    "ioctls racing the removal: {name}: {} ok, {} ENODEV, {} EPIPE until the unbind returned",
                    t.ok, t.enodev, t.epipe
                ),
                Err(e) => failed.push(e),
            }
        }
        // The racers' own failures say more than a removal they prevented.
        match failed.is_empty() {
            true => unbound,
            false => Err(failed.join("; ")),
        }
    })?;
    all_enodev_after(&d, &l)
}

/// Runs [`race_the_unbind`] in a child (a hung call ends it with SIGALRM,
/// not the suite); its exit status and what it reported.
fn in_child(rpdev: &str) -> Result<(i32, String), String> {
    let (mut rx, mut tx) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    // SAFETY: the child runs the race and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: a hung call ends the child instead of the suite.
        unsafe { libc::alarm(30) };
        let code = match race_the_unbind(rpdev) {
            Ok(()) => 0,
            Err(e) => {
                let _ = tx.write_all(e.as_bytes());
                1
            }
        };
        // SAFETY: leave without the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    check!(pid > 0, "fork failed");
    drop(tx);
    let mut said = String::new();
    // Ends when the child is gone (its end closes).
    let _ = rx.read_to_string(&mut said);
    let mut status = 0;
    // SAFETY: reaps our child.
    unsafe { libc::waitpid(pid, &raw mut status, 0) };
    Ok((status, said))
}

/// The case: the race in a child, then cdsp bound again and computing.
pub fn ioctls_racing_removal_get_enodev() -> Outcome {
    let rpdev = rpmsg_name(
        Device::by_name(DSP)
            .map_err(|e| format!("open {DSP}: {e}"))?
            .path(),
    )?;
    let (status, said) = in_child(&rpdev)?;
    // All files of the old instance are closed: bind the channel again
    // (a probe still waiting for the old context banks binds once they go).
    let bound = write_sysfs("/sys/bus/rpmsg/drivers/qda/bind", &rpdev);
    check!(
        eventually(|| Device::by_name(DSP).is_ok()
            && std::path::Path::new(&Legacy::node(DSP, false)).exists()),
        "{DSP} did not come back ({bound:?})"
    );
    check!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child ended with status {status:#x} (signal 14: a call hung): {said}"
    );
    let d = Device::by_name(DSP).map_err(|e| format!("open {DSP}: {e}"))?;
    d.attach()
        .map_err(|e| format!("attach after the rebind: {e}"))?;
    let h = d
        .open_module(CALC)
        .map_err(|e| format!("open calculator: {e}"))?;
    let s = d.calculator_sum(h, &[20, 22]).map_err(|e| e.to_string())?;
    check!(s == 42, "sum {s} after the rebind");
    Ok(())
}
