// SPDX-License-Identifier: GPL-2.0

//! `adsp_current_process1`, constant handle 4, marshalled as the library's
//! stub (`src/adsp_current_process1_stub.c`): exit (method 2) ends the
//! process's listener, thread_exit (3) is acknowledged, and the optional
//! calls (logging parameters 4/8, getASID 5, setQoS 6, exception 7,
//! poll_mode 9, enable_notifications 10, panic_err_codes 11) are checked
//! and accepted.

use kernel::prelude::*;

use crate::{
    dsp::{
        call::Call,
        errors::{
            AEE_EBADSTATE,
            AEE_EUNSUPPORTED, //
        },
        reply::Reply,
        skel::{
            self,
            Answer,
            Refusal, //
        },
        state::{
            State,
            EACCES_RV, //
        }, //
    },
    pd::process::Effects, //
};

/// Handles a call on handle 4.
pub(crate) fn handle(
    st: &mut State,
    call: &Call,
    outs: &mut KVec<KVec<u8>>,
    fx: &mut Effects<'_>,
) -> Answer<Reply> {
    let Some(p) = st.process(call.client_id) else {
        return Ok(Reply::Now(EACCES_RV));
    };
    match call.sc.method() {
        // exit: the pending next2 ends with the listener's stop code.
        2 => {
            skel::shape(call, 0, 0)?;
            p.exit(fx)?;
        }
        // thread_exit, enable_notifications.
        3 | 10 => skel::shape(call, 0, 0)?,
        // set_logging_params{,2}: primIn {mask, count} + the file names.
        4 | 8 => {
            if call.sc.inbufs() < 1 || call.sc.outbufs() != 0 {
                return Err(skel::BADPARM);
            }
            skel::prim_in(call, 8)?;
        }
        // getASID -> primROut {asid}.
        5 => {
            skel::shape(call, 0, 1)?;
            skel::out_at_least(call, 0, 4)?;
            let asid = (call.client_id as u32) & 0xff;
            outs.push(skel::words(&[asid])?, GFP_KERNEL)?;
        }
        // setQoS {latency}.
        6 => {
            skel::shape(call, 1, 0)?;
            skel::prim_in(call, 4)?;
        }
        // exception: the process faults on purpose; firmware reports the
        // process as gone.
        7 => {
            skel::shape(call, 0, 0)?;
            p.exit(fx)?;
            return Err(Refusal::Code(AEE_EBADSTATE));
        }
        // poll_mode {enable, timeout}.
        9 => {
            skel::shape(call, 1, 0)?;
            skel::prim_in(call, 8)?;
        }
        // panic_err_codes: primIn {count}, count int32s.
        11 => {
            skel::shape(call, 2, 0)?;
            let n = skel::word(skel::prim_in(call, 4)?, 0)? as usize;
            skel::input(call, 1, n.checked_mul(4).ok_or(skel::BADPARM)?)?;
        }
        _ => return Err(Refusal::Code(AEE_EUNSUPPORTED)),
    }
    Ok(Reply::Now(0))
}
