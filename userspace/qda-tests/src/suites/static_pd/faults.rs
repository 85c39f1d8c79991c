//! Faults with the audio PD up (`qda_static_pd`): its daemon killed in
//! the middle of an `apps_mem` call, and a subsystem restart of the ADSP.

use std::{
    fs, io,
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use qda::{
    daemon::{Daemon, StaticPd},
    listener::apps_mem::{Granted, MapRequest, Memory, ENOSUCHMAP},
    Device,
};

use crate::fixtures::{
    daemon_proc::DaemonProc,
    ktap::{check, Outcome},
    sim_static::{alloc, audio},
    static_pd::{alloc_ok, free_all, heap, heap_fully_mapped, open, DSP, PAGE},
    sys,
    wait::eventually,
};

/// An `apps_mem` that reports each map request on a pipe and never
/// answers it.
struct Stuck {
    pipe: i32,
}

impl Memory for Stuck {
    fn map(&mut self, _: &MapRequest) -> Result<Granted, i32> {
        // SAFETY: writes one byte from a live local to our pipe end.
        unsafe { libc::write(self.pipe, [b'm'].as_ptr().cast(), 1) };
        loop {
            // SAFETY: waits for a signal (the test's SIGKILL).
            unsafe { libc::pause() };
        }
    }

    fn unmap(&mut self, _: u64, _: u64) -> Result<(), i32> {
        Err(ENOSUCHMAP)
    }

    fn grants(&self) -> usize {
        0
    }
}

/// Reads one byte from `fd`, waiting up to 10 s.
fn byte(fd: i32) -> Option<u8> {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let mut b = 0u8;
    // SAFETY: polls and reads one byte into a live local.
    let n = unsafe {
        if libc::poll(&mut p, 1, 10_000) != 1 {
            return None;
        }
        libc::read(fd, (&raw mut b).cast(), 1)
    };
    (n == 1).then_some(b)
}

/// The child: an audio PD daemon whose `apps_mem` is [`Stuck`]; writes
/// `u` once its listener is registered.
fn stuck_daemon(pipe: i32) -> io::Result<()> {
    let d = Daemon::start(StaticPd::Audio, DSP)?;
    let serving = d.listen(Some(Box::new(Stuck { pipe })))?;
    // SAFETY: writes one byte from a live local to our pipe end.
    unsafe { libc::write(pipe, [b'u'].as_ptr().cast(), 1) };
    serving.run();
    Ok(())
}

/// Forks [`stuck_daemon`]; its pid and the read end of its pipe, once
/// it is up.
fn fork_stuck_daemon() -> Result<(i32, i32), String> {
    let (pid, rd) = sys::fork_piped(|w| {
        let _ = stuck_daemon(w);
        1
    })?;
    if byte(rd) != Some(b'u') {
        kill(pid);
        // SAFETY: our pipe end.
        unsafe { libc::close(rd) };
        return Err("the forked audio PD daemon did not come up".into());
    }
    Ok((pid, rd))
}

/// SIGKILL and reap `pid` (if > 0).
fn kill(pid: i32) {
    if pid > 0 {
        // SAFETY: our child; reaped right after.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
}

pub fn daemon_killed_mid_call() -> Outcome {
    let (pid, fd) = fork_stuck_daemon()?;
    let (_, size) = heap()?;
    let (tx, rx) = mpsc::channel();
    // Never fits in the heap: the PD asks the daemon, which never answers.
    thread::spawn(move || tx.send(alloc(DSP, size + 16 * PAGE)));
    let asked = byte(fd) == Some(b'm');
    kill(pid);
    // SAFETY: our pipe end.
    unsafe { libc::close(fd) };
    let t = Instant::now();
    let r = rx.recv_timeout(Duration::from_secs(10));
    check!(asked, "the audio PD never called apps_mem ({r:?})");
    let r = r.map_err(|_| "the alloc still waits on a killed daemon")?;
    let errno = r.as_ref().err().and_then(io::Error::raw_os_error);
    check!(
        matches!(errno, Some(libc::EPIPE | libc::ECONNRESET)),
        "alloc with the daemon killed: {r:?}"
    );
    println!("# alloc failed {:?} after the kill", t.elapsed());
    let a = audio(DSP)?;
    check!(a.grants == 0 && a.last != "ok", "after the kill: {a:?}");
    let d = DaemonProc::spawn("audiopd", DSP)?;
    free_all()?;
    alloc_ok(size + 16 * PAGE)?;
    check!(audio(DSP)?.grants == 1, "the new daemon granted nothing");
    free_all()?;
    d.kill()
}

/// Crashes adsp during a calculator call of a root PD client.
fn crash_adsp() -> Outcome {
    let c = open(DSP)?;
    c.attach().map_err(|e| format!("attach: {e}"))?;
    let h = c
        .open_module("calculator")
        .map_err(|e| format!("open calculator: {e}"))?;
    let knob = format!("/sys/kernel/debug/qda_dsp_sim/{DSP}");
    fs::write(&knob, "crash").map_err(|e| format!("{knob}: {e}"))?;
    check!(
        c.calculator_sum(h, &[1]).is_err(),
        "the call that crashes the DSP succeeded"
    );
    Ok(())
}

pub fn ssr_with_the_audio_pd_up() -> Outcome {
    let sent = heap()?;
    let mut d = DaemonProc::spawn("audiopd", DSP)?;
    free_all()?;
    alloc_ok(16 * PAGE)?;
    crash_adsp()?;
    check!(
        eventually(|| d.exited().is_some()),
        "the daemon still serves a crashed DSP"
    );
    let status = d.exited();
    check!(
        status.is_some_and(|s| !s.success()),
        "daemon ended with {status:?}"
    );
    check!(
        eventually(|| Device::by_name(DSP).is_ok()),
        "{DSP} did not come back"
    );
    let a = audio(DSP)?;
    check!(
        a.creates == 0 && a.heap.is_none(),
        "the restarted DSP: {a:?}"
    );
    let d = DaemonProc::spawn("audiopd", DSP)?;
    let a = audio(DSP)?;
    check!(
        a.creates == 1 && a.heap == Some(sent),
        "after the restart: {a:?}, heap before {sent:x?}"
    );
    heap_fully_mapped(sent.1)?;
    alloc_ok(16 * PAGE)?;
    free_all()?;
    d.kill()
}
