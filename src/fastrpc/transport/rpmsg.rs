// SPDX-License-Identifier: GPL-2.0

//! The rpmsg transport: requests go out with `rpmsg_send()` on the
//! channel's endpoint; replies arrive in the endpoint callback
//! ([`crate::driver`] forwards them to the channel).

use kernel::prelude::*;

use super::Transport;
use crate::ffi::rpmsg::Endpoint;

/// Sends on an rpmsg endpoint.
pub(crate) struct RpmsgTransport {
    ept: Endpoint,
}

impl RpmsgTransport {
    /// A transport over `ept`, which refuses sends (`-ENODEV`) once the
    /// device is unbound, however long the channel lives on.
    pub(crate) fn new(ept: Endpoint) -> Self {
        Self { ept }
    }
}

impl Transport for RpmsgTransport {
    fn send(&self, msg: &[u8]) -> Result {
        self.ept.send(msg)
    }
}
