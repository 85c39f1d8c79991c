// SPDX-License-Identifier: GPL-2.0

//! The current incarnation of a channel: one simulated DSP and the
//! driver's endpoint its replies go to.

use kernel::{
    bindings,
    prelude::*,
    sync::Arc, //
};

use crate::{
    channel::knob::Knob,
    dsp::router::Dsp,
    hw::{
        remoteproc::Remoteproc,
        smmu::Smmu, //
    },
    provider::endpoint::ReplyPort,
    wire, //
};

/// One simulated DSP and its endpoint.
#[pin_data]
pub(crate) struct ChanState {
    #[pin]
    pub(crate) dsp: Dsp,
    #[pin]
    pub(crate) port: ReplyPort,
    pub(crate) knob: Arc<Knob>,
}

impl ChanState {
    /// A fresh DSP for FastRPC node `node`, controlled by `knob`.
    ///
    /// # Safety
    ///
    /// `node` must be a valid device-tree node.
    pub(crate) unsafe fn new(
        node: *mut bindings::device_node,
        knob: Arc<Knob>,
    ) -> Result<Arc<Self>> {
        // SAFETY: `node` is valid (this function's contract).
        let smmu = unsafe { Smmu::new(node) }?;
        let trace = knob.trace.clone();
        Arc::pin_init(
            pin_init!(ChanState {
                // SAFETY: `node` is valid (this function's contract).
                dsp <- Dsp::new(smmu, unsafe { Remoteproc::new(node) }, trace),
                port <- ReplyPort::new(),
                knob,
            }),
            GFP_KERNEL,
        )
    }

    /// Delivers a reply, unless the endpoint is gone.
    pub(crate) fn reply(&self, rsp: &wire::Rsp) {
        self.send(&rsp.encode());
    }

    /// Delivers raw bytes to the driver's endpoint, unless it is gone.
    pub(crate) fn send(&self, bytes: &[u8]) {
        self.port.deliver(bytes);
    }
}
