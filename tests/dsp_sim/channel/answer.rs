// SPDX-License-Identifier: GPL-2.0

//! The answer work: each request a channel receives is answered later,
//! from a work item, as firmware does, with an armed fault applied
//! ([`crate::faults`]). Module exit waits for the work in flight
//! ([`pending`]): its code lives in this module.

use core::sync::atomic::{
    AtomicUsize,
    Ordering, //
};
use kernel::{
    prelude::*,
    sync::Arc,
    time::{
        delay::fsleep,
        Delta, //
    },
    workqueue, //
};

use crate::{
    channel::state::ChanState,
    faults::{
        fault::Fault,
        inject, //
    },
    wire, //
};

/// Work items in flight (answers being computed); module exit waits for
/// them: their code lives in this module.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// How many answers are being computed.
pub(crate) fn pending() -> usize {
    PENDING.load(Ordering::Acquire)
}

/// Answers `msg` on `state` later, from a worker, as firmware does.
pub(crate) fn spawn(state: Arc<ChanState>, msg: wire::Msg) -> Result {
    PENDING.fetch_add(1, Ordering::AcqRel);
    let r = workqueue::system().try_spawn(GFP_KERNEL, move || {
        answer(state, msg);
        PENDING.fetch_sub(1, Ordering::AcqRel);
    });
    r.map_err(|_| {
        PENDING.fetch_sub(1, Ordering::AcqRel);
        ENOMEM
    })
}

/// Answers `msg` on `state`, applying an armed fault to module calls.
///
/// Runs in a work item that never waits for another message: a call
/// firmware holds (a listener's `next2`, an open waiting for its skel)
/// is answered later by the message that completes it.
fn answer(state: Arc<ChanState>, msg: wire::Msg) {
    let fault = inject::armed_for(&state.knob, &msg);
    let rsp = |retval| wire::Rsp {
        ctx: msg.ctx,
        retval,
    };
    match fault {
        Some(Fault::Crash) => return state.knob.crash(),
        Some(Fault::Error(code)) => return state.reply(&rsp(code)),
        Some(Fault::Delay(ms)) => fsleep(Delta::from_millis(i64::from(ms))),
        Some(Fault::Stale) => inject::send_stale(&state, &msg),
        _ => {}
    }
    let out = state.dsp.handle(&msg);
    if let Some(retval) = out.retval {
        inject::reply_with_fault(&state, &msg, rsp(retval), fault);
    }
    // Held calls this message completed are answered after it: the
    // library marks a session as exiting only once its exit call has
    // returned, and must see that before its listener's `next2` ends.
    for r in out.done.iter() {
        state.reply(r);
    }
}
