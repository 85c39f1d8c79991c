//! Userspace tests of fault handling, driven by the simulator's knobs
//! (`/sys/kernel/debug/qda_dsp_sim/<dsp>`): an error code, a late reply
//! and a signal, a lost reply and a timeout, duplicate and stale replies,
//! hostile metadata and garbage messages, the bound on orphaned calls,
//! and a DSP crash (subsystem restart) during a call. Each ends with no
//! call left in flight.

use std::{
    path::Path,
    thread::sleep,
    time::{Duration, Instant},
};

use qda::{
    rpc::{scalars, Arg},
    Device,
};

use crate::fixtures::{
    debugfs::calls,
    errno::expect_errno,
    faults::{held, knob, set_timeout},
    ktap::{check, Outcome},
    sys,
    wait::eventually,
};

const CALC: &str = "calculator";

fn session() -> Result<(Device, u32), String> {
    let d = Device::by_name("cdsp").map_err(|e| format!("open cdsp: {e}"))?;
    d.attach().map_err(|e| format!("attach: {e}"))?;
    let h = d
        .open_module(CALC)
        .map_err(|e| format!("open calculator: {e}"))?;
    Ok((d, h))
}

fn all_reaped() -> Outcome {
    check!(
        eventually(|| calls("cdsp", "in_flight") == Ok(0)),
        "calls still in flight: {:?} ({:?})",
        calls("cdsp", "in_flight"),
        std::fs::read_to_string("/sys/kernel/debug/qda/cdsp/calls").map(|t| t.replace('\n', ", "))
    );
    Ok(())
}

pub fn remote_error_codes_reach_the_caller() -> Outcome {
    let (d, h) = session()?;
    knob("cdsp", "error -5")?;
    expect_errno(d.calculator_sum(h, &[1]), libc::EIO, "remote -EIO")?;
    knob("cdsp", "error -2")?;
    expect_errno(d.calculator_sum(h, &[1]), libc::ENOENT, "remote -ENOENT")?;
    // Kernel-internal values (here -ERESTARTSYS) never reach the caller:
    // a restarted ioctl would send the call again.
    knob("cdsp", "error -512")?;
    expect_errno(d.calculator_sum(h, &[1]), libc::EIO, "remote -ERESTARTSYS")?;
    knob("cdsp", "error -517")?;
    expect_errno(d.calculator_sum(h, &[1]), libc::EIO, "remote -EPROBE_DEFER")?;
    // A DSP code outside the errno range comes back as the ioctl's value.
    knob("cdsp", "error -2147482604")?;
    let prim = 0u32.to_le_bytes();
    let mut out = [0u8; 8];
    let mut args = [Arg::input(&prim), Arg::input(&[]), Arg::output(&mut out)];
    let r = d
        .invoke(h, scalars(2, 2, 1), &mut args)
        .map_err(|e| e.to_string())?;
    check!(r as u32 == 0x8000_0414, "remote code {r:#x}");
    check!(
        d.calculator_sum(h, &[2, 3]).map_err(|e| e.to_string())? == 5,
        "next call"
    );
    all_reaped()
}

extern "C" fn on_alarm(_: libc::c_int) {}

pub fn a_signal_interrupts_a_late_call() -> Outcome {
    let (d, h) = session()?;
    let orphaned = calls("cdsp", "orphaned")?;
    let reaped = calls("cdsp", "reaped")?;
    knob("cdsp", "delay 1500")?;
    // SAFETY: installs a no-op SIGALRM handler without SA_RESTART and arms
    // a 200 ms timer.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_alarm as *const () as usize;
        libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut());
        let t = libc::itimerval {
            it_interval: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            it_value: libc::timeval {
                tv_sec: 0,
                tv_usec: 200_000,
            },
        };
        libc::setitimer(libc::ITIMER_REAL, &t, std::ptr::null_mut());
    }
    let t = Instant::now();
    let r = d.calculator_sum(h, &[1, 2]);
    expect_errno(r, libc::EINTR, "call interrupted by SIGALRM")?;
    check!(
        t.elapsed() < Duration::from_millis(1200),
        "the signal did not end the wait"
    );
    check!(
        calls("cdsp", "orphaned")? == orphaned + 1,
        "no orphan recorded"
    );
    // The late reply makes the orphan reapable; the next call reaps it.
    check!(
        eventually(|| calls("cdsp", "unreaped") == Ok(1)),
        "the late reply did not end the orphan: {:?}",
        calls("cdsp", "unreaped")
    );
    check!(calls("cdsp", "reaped")? == reaped, "reaped before a call");
    check!(
        d.calculator_sum(h, &[4, 5]).map_err(|e| e.to_string())? == 9,
        "next call"
    );
    check!(
        calls("cdsp", "reaped")? == reaped + 1 && calls("cdsp", "unreaped")? == 0,
        "the next call did not reap the orphan"
    );
    all_reaped()
}

pub fn a_lost_reply_times_out() -> Outcome {
    let (d, h) = session()?;
    set_timeout("cdsp", 300)?;
    knob("cdsp", "drop")?;
    let r = d.calculator_sum(h, &[1]);
    set_timeout("cdsp", 0)?;
    expect_errno(r, libc::ETIMEDOUT, "call whose reply was lost")?;
    check!(calls("cdsp", "in_flight")? == 1, "the orphan is not kept");
    // The reply shows up after all; the next call reaps the orphan.
    knob("cdsp", "release")?;
    check!(
        eventually(|| calls("cdsp", "unreaped") == Ok(1)),
        "the released reply did not end the orphan"
    );
    check!(
        d.calculator_sum(h, &[2, 2]).map_err(|e| e.to_string())? == 4,
        "next call"
    );
    all_reaped()
}

/// Makes `n` calls whose replies the simulator holds and which time out.
fn orphan_calls(d: &Device, h: u32, n: u64) -> Outcome {
    let base = held("cdsp")?;
    for i in 0..n {
        knob("cdsp", "drop")?;
        expect_errno(
            d.calculator_sum(h, &[1]),
            libc::ETIMEDOUT,
            &format!("orphan {i}"),
        )?;
        // The simulator answers from a worker: the call may time out
        // before its answer is held. Arm the next drop only then, or it
        // would be the same one.
        check!(
            eventually(|| held("cdsp") == Ok(base + i as u32 + 1)),
            "orphan {i}: the simulator holds {:?} answers",
            held("cdsp")
        );
    }
    Ok(())
}

/// A DSP that never answers cannot take every call slot: once
/// `orphan_limit` calls are orphaned, the next call fails with EAGAIN;
/// when the answers come, the slots are back and calls work again.
pub fn orphans_are_bounded() -> Outcome {
    let (d, h) = session()?;
    let limit = calls("cdsp", "orphan_limit")?;
    check!((1..255).contains(&limit), "orphan_limit {limit}");
    check!(calls("cdsp", "orphans")? == 0, "orphans before the test");
    set_timeout("cdsp", 20)?;
    let made = orphan_calls(&d, h, limit);
    let refused = d.calculator_sum(h, &[1]);
    // Kernel calls (attach, and release on close) still get a slot.
    let kernel_calls = Device::by_name("cdsp").and_then(|o| o.attach());
    let orphans = calls("cdsp", "orphans");
    let in_flight = calls("cdsp", "in_flight");
    set_timeout("cdsp", 0)?;
    knob("cdsp", "release")?;
    made?;
    expect_errno(refused, libc::EAGAIN, "call past the orphan limit")?;
    kernel_calls.map_err(|e| format!("attach at the orphan limit: {e}"))?;
    check!(orphans? == limit, "orphans at the limit");
    check!(in_flight? == limit, "slots held at the limit");
    check!(
        eventually(|| calls("cdsp", "orphans") == Ok(0)),
        "released replies did not end the orphans: {:?}",
        calls("cdsp", "orphans")
    );
    check!(
        d.calculator_sum(h, &[2, 3]).map_err(|e| e.to_string())? == 5,
        "call after the replies"
    );
    check!(calls("cdsp", "unreaped")? == 0, "orphans left unreaped");
    all_reaped()
}

pub fn duplicate_and_stale_replies_are_dropped() -> Outcome {
    let (d, h) = session()?;
    let dropped = calls("cdsp", "dropped_replies")?;
    knob("cdsp", "duplicate")?;
    check!(
        d.calculator_sum(h, &[1, 1]).map_err(|e| e.to_string())? == 2,
        "call with a duplicate reply"
    );
    knob("cdsp", "stale")?;
    check!(
        d.calculator_sum(h, &[2, 2]).map_err(|e| e.to_string())? == 4,
        "call with a stale reply"
    );
    check!(
        eventually(|| calls("cdsp", "dropped_replies") == Ok(dropped + 2)),
        "dropped replies {:?}, want {}",
        calls("cdsp", "dropped_replies"),
        dropped + 2
    );
    all_reaped()
}

/// Broken firmware overwrites the call's metadata with `0xff` (every
/// length, pointer and page entry huge) and sends a truncated and an
/// oversized garbage message before its answer: the driver copies back
/// exactly the caller's lengths, drops both messages and stays healthy.
pub fn hostile_metadata_and_garbage_replies_are_contained() -> Outcome {
    let (d, h) = session()?;
    let dropped = calls("cdsp", "dropped_replies")?;
    let v: Vec<u8> = [5i32, 7, 11].iter().flat_map(|x| x.to_le_bytes()).collect();
    let prim = 3u32.to_le_bytes();
    // The sum goes to the first 8 bytes; the rest is a canary.
    let mut out = [0xa5u8; 64];
    knob("cdsp", "hostile")?;
    let mut args = [
        Arg::input(&prim),
        Arg::input(&v),
        Arg::output(&mut out[..8]),
    ];
    let r = d
        .invoke(h, scalars(2, 2, 1), &mut args)
        .map_err(|e| format!("call answered by hostile firmware: {e}"))?;
    check!(r == 0, "remote {r}");
    check!(
        i64::from_le_bytes(out[..8].try_into().unwrap()) == 23,
        "sum {:?}",
        &out[..8]
    );
    check!(
        out[8..].iter().all(|&b| b == 0xa5),
        "bytes past the output buffer changed"
    );
    check!(
        eventually(|| calls("cdsp", "dropped_replies") == Ok(dropped + 2)),
        "dropped replies {:?}, want {}",
        calls("cdsp", "dropped_replies"),
        dropped + 2
    );
    // The next call is unaffected.
    check!(
        d.calculator_sum(h, &[4, 4]).map_err(|e| e.to_string())? == 8,
        "call after the hostile one"
    );
    all_reaped()
}

/// Crashes cdsp during a call of `d` (module handle `h`): the call fails
/// with `EPIPE` and `d`'s node is unplugged right after.
fn crash_during_a_call(d: &Device, h: u32) -> Outcome {
    knob("cdsp", "crash")?;
    expect_errno(
        d.calculator_sum(h, &[1]),
        libc::EPIPE,
        "call during the crash",
    )?;
    check!(
        eventually(|| d.query().err().and_then(|e| e.raw_os_error()) == Some(libc::ENODEV)),
        "QUERY on a file of the crashed DSP does not fail with ENODEV"
    );
    Ok(())
}

pub fn a_dsp_crash_fails_the_call_and_the_dsp_comes_back() -> Outcome {
    let (d, h) = session()?;
    let node = d.path().to_path_buf();
    crash_during_a_call(&d, h)?;
    // The new instance waits for this file: the old context banks still
    // hold the SMMU streams.
    sleep(Duration::from_millis(300));
    check!(
        Device::by_name("cdsp").is_err(),
        "cdsp came back while a file of the old one was open"
    );
    drop(d);
    check!(
        eventually(|| Device::by_name("cdsp").is_ok()),
        "cdsp did not come back (had {})",
        node.display()
    );
    check!(
        Path::new("/sys/kernel/debug/qda/cdsp/calls").exists(),
        "no debugfs for the new cdsp"
    );
    let (d, h) = session()?;
    check!(
        d.calculator_sum(h, &[20, 22]).map_err(|e| e.to_string())? == 42,
        "call after the restart"
    );
    all_reaped()
}

/// One process's share of the load: three threads calling the calculator
/// until the DSP goes away. Returns an error naming any result other than
/// a correct sum, -EPIPE (in flight at the crash) or -ENODEV (after it).
/// Writes a byte to `ready` once the first call has succeeded.
fn load_until_crash(ready: i32) -> Result<u64, String> {
    // The DSP may still be coming back from the previous test's crash.
    check!(
        eventually(|| Device::by_name("cdsp").is_ok()),
        "no cdsp to call"
    );
    let (d, h) = session()?;
    check!(
        d.calculator_sum(h, &[1, 1]).map_err(|e| e.to_string())? == 2,
        "first call"
    );
    // SAFETY: writes one byte to our end of the pipe.
    unsafe { libc::write(ready, [1u8].as_ptr().cast(), 1) };
    let d = &d;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..3i32)
            .map(|t| {
                s.spawn(move || -> Result<u64, String> {
                    let mut ok = 0u64;
                    for k in 0.. {
                        match d.calculator_sum(h, &[k, t]) {
                            Ok(v) if v == i64::from(k + t) => ok += 1,
                            Ok(v) => return Err(format!("sum {v} for {k} + {t}")),
                            Err(e) => match e.raw_os_error() {
                                Some(libc::EPIPE) | Some(libc::ENODEV) => return Ok(ok),
                                _ => return Err(format!("call failed with {e}")),
                            },
                        }
                    }
                    Ok(ok)
                })
            })
            .collect();
        let mut total = 1;
        for w in workers {
            total += w.join().map_err(|_| "worker panicked".to_string())??;
        }
        Ok(total)
    })
}

/// A crash while two processes with three threads each are calling: every
/// call either completes correctly or fails with -EPIPE/-ENODEV, nothing
/// hangs (a child stuck for 20 s dies of SIGALRM), and the DSP comes back
/// once the old files are closed.
pub fn a_crash_under_load_fails_every_call_cleanly() -> Outcome {
    let mut ready = [0i32; 2];
    // SAFETY: a plain pipe; both ends are closed below.
    check!(
        unsafe { libc::pipe(ready.as_mut_ptr()) } == 0,
        "pipe failed"
    );
    let mut pids = Vec::new();
    for _ in 0..2 {
        // SAFETY: the child runs the load and leaves with `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: a hung call ends the child instead of the suite.
            unsafe { libc::alarm(20) };
            let code = match load_until_crash(ready[1]) {
                Ok(_) => 0,
                Err(e) => {
                    eprintln!("crash under load: {e}");
                    1
                }
            };
            // SAFETY: leave without the parent's destructors.
            unsafe { libc::_exit(code) };
        }
        check!(pid > 0, "fork failed");
        pids.push(pid);
    }
    // Once both are calling, crash in the middle of their calls.
    // SAFETY: our copy of the write end is not needed; the read end is ours.
    unsafe { libc::close(ready[1]) };
    let mut got = [0u8; 2];
    let mut n = 0;
    while n < 2 {
        // SAFETY: reads into `got`; returns 0 if both children died early.
        let r = unsafe { libc::read(ready[0], got[n..].as_mut_ptr().cast(), 2 - n) };
        if r <= 0 {
            break;
        }
        n += r as usize;
    }
    // SAFETY: closes the read end.
    unsafe { libc::close(ready[0]) };
    // Without both children calling, a crash armed now would hit a later
    // test's call.
    check!(n == 2, "{n} of 2 children started calling");
    // A file of the instance that crashes: it says when that one is gone.
    let old = Device::by_name("cdsp").map_err(|e| format!("open cdsp: {e}"))?;
    sleep(Duration::from_millis(50));
    knob("cdsp", "crash")?;
    for pid in pids {
        let mut status = 0;
        // SAFETY: reaps our child.
        unsafe { libc::waitpid(pid, &raw mut status, 0) };
        check!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child {pid} ended with status {status:#x} (1: bad result, signal 14: a \
             call hung)"
        );
    }
    // The crash is armed for the next call: wait for it to have
    // happened before looking for the new instance.
    check!(
        eventually(|| old.query().err().and_then(|e| e.raw_os_error()) == Some(libc::ENODEV)),
        "the crashed cdsp is still there"
    );
    drop(old);
    check!(
        eventually(|| Device::by_name("cdsp").is_ok()),
        "cdsp did not come back"
    );
    let (d, h) = session()?;
    check!(
        d.calculator_sum(h, &[1, 2]).map_err(|e| e.to_string())? == 3,
        "call after the restart"
    );
    all_reaped()
}

/// How many cdsp session slots process `tgid` owns (debugfs `sessions`).
pub(crate) fn slots_of(tgid: i32) -> Result<usize, String> {
    let p = "/sys/kernel/debug/qda/cdsp/sessions";
    let t = std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?;
    let tgid = tgid.to_string();
    Ok(t.lines()
        .skip(1)
        .filter(|l| l.split_whitespace().nth(4) == Some(tgid.as_str()))
        .count())
}

/// The forked child of [`a_killed_process_waits_for_its_release`]:
/// attaches, arms the held release, says so on `pipe`, waits to be killed.
/// Forks a child that runs [`attach_and_wait_to_be_killed`]: its pid, and
/// whether it attached (it wrote its byte).
pub(crate) fn fork_attached() -> Result<(i32, bool), String> {
    let (pid, rd) = sys::fork_piped(attach_and_wait_to_be_killed)?;
    let mut b = 0u8;
    // SAFETY: reads one byte into a live local, then closes our end.
    let n = unsafe {
        let n = libc::read(rd, (&raw mut b).cast(), 1);
        libc::close(rd);
        n
    };
    Ok((pid, n == 1))
}

fn attach_and_wait_to_be_killed(pipe: i32) -> i32 {
    let r = Device::by_name("cdsp")
        .map_err(|e| e.to_string())
        .and_then(|d| {
            d.attach().map_err(|e| e.to_string())?;
            knob("cdsp", "drop-release")?;
            Ok(d)
        });
    let Ok(_d) = r else {
        return 1;
    };
    // SAFETY: one byte from a live local to our pipe end, then wait for
    // the parent's SIGKILL.
    unsafe {
        libc::write(pipe, [b'a'].as_ptr().cast(), 1);
        loop {
            libc::pause();
        }
    }
}

/// A process killed (SIGKILL) with its file open: its last close runs
/// with the signal pending, yet it waits for the DSP to confirm the
/// release (held back here until the test lets it go) instead of giving
/// up at once and leaving the process kept.
pub fn a_killed_process_waits_for_its_release() -> Outcome {
    let kept = calls("cdsp", "kept")?;
    let (pid, attached) = fork_attached()?;
    // SAFETY: our child, killed; reaped below.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let reached = attached && eventually(|| held("cdsp") == Ok(1));
    knob("cdsp", "release")?;
    // SAFETY: reaps our child.
    unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
    check!(
        reached,
        "the killed process's release never reached the DSP"
    );
    check!(
        calls("cdsp", "kept")? == kept,
        "the release of a killed process was given up: kept {:?}, was {kept}",
        calls("cdsp", "kept")
    );
    check!(
        eventually(|| slots_of(pid) == Ok(0)),
        "the killed process's session slot was not freed"
    );
    Ok(())
}

/// The forked child of [`an_unconfirmed_release_keeps_the_process`]:
/// attaches, arms the held release, exits (its release times out).
fn attach_and_exit_unconfirmed() -> i32 {
    let r = Device::by_name("cdsp")
        .map_err(|e| e.to_string())
        .and_then(|d| {
            d.attach().map_err(|e| e.to_string())?;
            knob("cdsp", "drop-release")?;
            drop(d);
            Ok(())
        });
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("unconfirmed release: {e}");
            1
        }
    }
}

/// A process whose release the DSP does not confirm (its kernel call times
/// out after 10 s) keeps its session slot, client id and memory until the
/// DSP answers or goes away: the DSP may still use them. The late answer
/// or the crash frees them (else the new cdsp instance would wait for the
/// old context banks).
pub fn an_unconfirmed_release_keeps_the_process() -> Outcome {
    // SAFETY: the child only runs `attach_and_exit_unconfirmed` and leaves
    // with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: a hung release ends the child instead of the suite.
        unsafe { libc::alarm(30) };
        let code = attach_and_exit_unconfirmed();
        // SAFETY: leave without the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    check!(pid > 0, "fork failed");
    let mut status = 0;
    // SAFETY: reaps our child.
    unsafe { libc::waitpid(pid, &raw mut status, 0) };
    check!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child ended with status {status:#x}"
    );
    check!(
        slots_of(pid)? == 1,
        "the slot of a process whose release timed out was freed"
    );
    check!(
        calls("cdsp", "kept")? == 1,
        "kept: {:?}",
        calls("cdsp", "kept")
    );
    knob("cdsp", "release")?;
    let (d, h) = session()?;
    crash_during_a_call(&d, h)?;
    drop(d);
    check!(
        eventually(|| Device::by_name("cdsp").is_ok()),
        "cdsp did not come back: what was kept for the old DSP was not freed"
    );
    check!(
        slots_of(pid)? == 0,
        "the new cdsp has the old process's slot"
    );
    all_reaped()
}
