// SPDX-License-Identifier: GPL-2.0

//! How the simulated DSP answers a request: now or later ([`Reply`]), and
//! what handling one request produced ([`Outcome`]).

use kernel::prelude::*;

use crate::wire::Rsp;

/// How a request is answered.
pub(crate) enum Reply {
    /// Now, with this return value (and the outputs produced).
    Now(i32),
    /// Later: the call is held until an event completes it.
    Held,
}

/// What handling one request produced.
pub(crate) struct Outcome {
    /// The request's own return value, `None` if its reply is held.
    pub(crate) retval: Option<i32>,
    /// Replies to earlier held calls this request completed.
    pub(crate) done: KVec<Rsp>,
}
