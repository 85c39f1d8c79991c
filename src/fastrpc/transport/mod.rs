// SPDX-License-Identifier: GPL-2.0

//! How requests reach the DSP.
//!
//! The FastRPC engine only needs "send these bytes"; replies come back
//! through [`crate::fastrpc::channel::Channel::receive`], called by the
//! transport's receive path. [`rpmsg`] is the real implementation (glink
//! on a board, the simulated DSP in QEMU).

pub(crate) mod rpmsg;

use kernel::prelude::*;

/// A message transport to one DSP.
pub(crate) trait Transport: Send + Sync {
    /// Sends one request. May sleep.
    fn send(&self, msg: &[u8]) -> Result;
}
