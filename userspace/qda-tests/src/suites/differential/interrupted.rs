//! The `interrupted_call` step of the `qda_differential` suite: a remote
//! call whose thread gets a signal (handler with `SA_RESTART`) while the
//! DSP holds its answer.
//!
//! fastrpc.ko returns `-ERESTARTSYS`, so the call restarts and the DSP
//! receives it a second time; qda fails it with `EINTR` and sends it once
//! (the declared divergence `interrupted_call_not_restarted`). Either way
//! the held answer is released afterwards and must leave nothing behind.

use std::{
    io,
    sync::{
        atomic::{AtomicU32, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use qda::rpc::{scalars, Arg};

use super::script::{ok, pattern, read_trace, State, LABEL};
use crate::fixtures::{
    driver::{in_order, Driver},
    ktap::{check, Outcome},
};

/// Signals the handler saw.
static SEEN: AtomicU32 = AtomicU32::new(0);

extern "C" fn on_signal(_: libc::c_int) {
    SEEN.fetch_add(1, Ordering::Relaxed);
}

/// Installs `on_signal` for `SIGUSR1` with `SA_RESTART`.
fn install_handler() -> io::Result<()> {
    // SAFETY: an all-zero `sigaction` is a valid empty one (no flags, empty
    // mask) before the fields are set.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = on_signal as *const () as libc::sighandler_t;
    sa.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa` is initialised; the handler only touches an atomic,
    // which is async-signal-safe.
    match unsafe { libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Arms or releases the simulator's fault knob of `LABEL`.
fn knob(cmd: &str) -> Result<(), String> {
    let p = format!("/sys/kernel/debug/qda_dsp_sim/{LABEL}");
    std::fs::write(&p, cmd).map_err(|e| format!("{p} <- {cmd}: {e}"))
}

/// Waits (up to 5 s) until the DSP has received a call on a module handle.
fn call_reached_dsp() -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if read_trace().is_ok_and(|t| t.iter().any(|l| l.contains(" hm"))) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// A 100-byte copy on `a` whose thread gets `SIGUSR1` once the DSP has the
/// call: the call's result and what the output holds.
fn interrupted_copy(a: &dyn Driver, h: u32, input: &[u8]) -> (io::Result<i32>, Vec<u8>) {
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        let t = s.spawn(move || {
            // SAFETY: `pthread_self` has no preconditions.
            let _ = tx.send(unsafe { libc::pthread_self() });
            let mut arena = in_order(&[input, &vec![0u8; input.len()]]);
            let (i, o) = arena.split_at_mut(input.len());
            let r = a.invoke(h, scalars(2, 1, 1), &mut [Arg::input(i), Arg::output(o)]);
            (r, o.to_vec())
        });
        if let Ok(thread) = rx.recv() {
            if call_reached_dsp() {
                // SAFETY: `thread` is alive until joined below.
                unsafe { libc::pthread_kill(thread, libc::SIGUSR1) };
            }
        }
        t.join()
            .unwrap_or_else(|_| (Err(io::Error::other("panicked")), Vec::new()))
    })
}

/// The step.
pub(crate) fn step(st: &mut State, _: &mut Vec<String>) -> Outcome {
    let a = st.a()?;
    ok(install_handler(), "sigaction")?;
    let h = ok(a.open_module("copy"), "open copy")?;
    let input = pattern(100, 21);
    knob("drop")?;
    let seen = SEEN.load(Ordering::Relaxed);
    let (r, out) = interrupted_copy(a, h, &input);
    knob("release")?;
    check!(
        SEEN.load(Ordering::Relaxed) == seen + 1,
        "the signal was not delivered while the DSP held the call"
    );
    if a.restarts_interrupted_calls() {
        check!(
            matches!(r, Ok(0)) && out == input,
            "restarted call: {r:?}, output equal: {}",
            out == input
        );
    } else {
        check!(
            r.as_ref().err().and_then(io::Error::raw_os_error) == Some(libc::EINTR),
            "interrupted call: {r:?}, want EINTR"
        );
    }
    ok(a.close_module(h), "close copy")
}
