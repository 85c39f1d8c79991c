// SPDX-License-Identifier: GPL-2.0

//! How an armed fault changes the answer to a call: which call it applies
//! to ([`armed_for`]) and what is sent instead of, or around, the answer.

use kernel::prelude::*;

use crate::{
    channel::{
        knob::Knob,
        state::ChanState, //
    },
    faults::fault::Fault,
    pd::modules,
    proc_msgs,
    scalars,
    wire, //
};

/// Takes the fault armed for `msg`, if it applies to it.
pub(crate) fn armed_for(knob: &Knob, msg: &wire::Msg) -> Option<Fault> {
    let mut armed = knob.fault.lock();
    let kernel = (msg.handle == proc_msgs::INIT_HANDLE).then(|| scalars::Scalars(msg.sc).method());
    match *armed {
        Some(Fault::DropKernel(m)) if kernel == Some(m) => armed.take().map(|_| Fault::Drop),
        Some(Fault::DropKernel(_)) => None,
        _ if modules::is_module_handle(msg.handle) => armed.take(),
        _ => None,
    }
}

/// Sends a stale answer to `msg`: one with the sequence number before its
/// own.
pub(crate) fn send_stale(state: &ChanState, msg: &wire::Msg) {
    let (index, seq) = wire::ctx_decode(msg.ctx);
    let stale = wire::ctx_encode(
        index,
        wire::seq_wrap(seq.wrapping_sub(1)),
        (msg.ctx & 0xf) as u32,
    );
    state.reply(&wire::Rsp {
        ctx: stale,
        retval: 0,
    });
}

/// Sends `r`, the answer to `msg`, as the armed `fault` wants.
pub(crate) fn reply_with_fault(
    state: &ChanState,
    msg: &wire::Msg,
    r: wire::Rsp,
    fault: Option<Fault>,
) {
    match fault {
        Some(Fault::Drop) => {
            let _ = state.knob.current.lock().held.push(r, GFP_KERNEL);
        }
        Some(Fault::Duplicate) => {
            state.reply(&r);
            state.reply(&r);
        }
        Some(Fault::Hostile) => {
            state.dsp.scribble(msg);
            state.send(&[0xff; 4]);
            state.send(&[0xff; 64]);
            state.reply(&r);
        }
        _ => state.reply(&r),
    }
}
