// SPDX-License-Identifier: GPL-2.0

//! The listener interfaces the apps side's reverse-call thread talks to:
//! `adsp_listener1` on constant handle 7 (init2 method 5, next2 6,
//! get_in_bufs2 7) and its non-domain fallback `adsp_listener` on handle 3
//! (init2 3, next2 4, get_in_bufs2 5), marshalled as the library's stubs
//! (`src/adsp_listener1_stub.c`, `src/adsp_listener_stub.c`). The older
//! methods (init, next_invoke, invoke_get_in_bufs) are not served: the
//! library never calls them.

use kernel::prelude::*;

use crate::{
    dsp::{
        call::Call,
        errors::AEE_EUNSUPPORTED,
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

/// A listener method.
enum Method {
    Init2,
    Next2,
    GetInBufs2,
}

fn method(handle: u32, mid: u32) -> Option<Method> {
    match (handle, mid) {
        (7, 5) | (3, 3) => Some(Method::Init2),
        (7, 6) | (3, 4) => Some(Method::Next2),
        (7, 7) | (3, 5) => Some(Method::GetInBufs2),
        _ => None,
    }
}

/// Handles a call on handle 3 or 7.
pub(crate) fn handle(
    st: &mut State,
    call: &Call,
    outs: &mut KVec<KVec<u8>>,
    fx: &mut Effects<'_>,
) -> Answer<Reply> {
    let m = method(call.handle, call.sc.method()).ok_or(Refusal::Code(AEE_EUNSUPPORTED))?;
    let Some(p) = st.process(call.client_id) else {
        return Ok(Reply::Now(EACCES_RV));
    };
    match m {
        Method::Init2 => {
            skel::shape(call, 0, 0)?;
            Ok(Reply::Now(0))
        }
        Method::Next2 => Ok(match p.next2(call, fx)? {
            Some(r) => Reply::Now(r),
            None => Reply::Held,
        }),
        Method::GetInBufs2 => p.get_in_bufs2(call, outs).map(Reply::Now),
    }
}
