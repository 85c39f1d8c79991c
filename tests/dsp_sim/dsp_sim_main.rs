// SPDX-License-Identifier: GPL-2.0

//! qda_dsp_sim: a simulated Hexagon DSP transport for testing qda in QEMU.
//!
//! On a board, the glink edge of each remoteproc announces the
//! `fastrpcglink-apps-dsp` channel and the rpmsg core creates an rpmsg
//! device whose `of_node` is the `qcom,fastrpc` child. This module does the
//! same for every `qcom,fastrpc` node of the device tree: it registers a
//! real rpmsg device (on the real rpmsg bus, with this module as its
//! transport), so the unmodified qda driver binds exactly as on hardware.
//!
//! Requests sent to a channel are answered asynchronously from a work
//! item, like firmware: [`dsp::router::Dsp`] decodes them and reaches
//! every argument through the SMMU ([`hw::smmu::Smmu`]); the reply goes
//! back through the endpoint's receive callback.
//!
//! Layout, one folder per concern:
//! - [`provider`]: the rpmsg provider (devices, endpoints, the FastRPC
//!   nodes of the device tree, which driver binds);
//! - [`channel`]: one channel across simulated crashes, its current DSP
//!   and the work answering each request;
//! - [`faults`]: the faults a test arms, how they change an answer, and
//!   their debugfs files;
//! - [`hw`]: the hardware the DSP reaches memory through (SMMU, the
//!   remoteproc's IOMMU, physical memory) and the remoteproc stand-in;
//! - [`dsp`]: the DSP's state, request decoding and the handlers of the
//!   static handles it serves itself (remote control, the kernel's calls);
//! - [`pd`]: processes and static PDs (audio, sensors) and the modules
//!   they run;
//! - [`reverse`]: reverse calls the apps side serves (the listener, skel
//!   loads, file reads, memory requests);
//! - `proto`: the FastRPC protocol, the driver's own `fastrpc/proto/`.
//!
//! Raw C calls are in [`provider`] (rpmsg, the device tree), [`hw`]
//! (IOMMU, memory) and `sys` (the bindings of the rpmsg core's internal
//! header).

use core::ptr;
use kernel::{
    bindings,
    faux,
    platform,
    prelude::*, //
};

#[allow(
    clippy::all,
    clippy::as_underscore,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::undocumented_unsafe_blocks,
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    unused_imports
)]
mod sys {
    include!("bindings_generated.rs");
}

mod channel;
mod dsp;
mod faults;
mod hw;
mod pd;
mod provider;
mod reverse;

use hw::remoteproc_driver::SimRemoteproc;

// The FastRPC protocol, shared with qda: the simulator uses its decoding
// side.
#[allow(dead_code)]
#[path = "../../src/fastrpc/proto/mod.rs"]
mod proto;
use proto::{
    layout,
    proc_msgs,
    scalars,
    wire, //
};

module! {
    type: DspSim,
    name: "qda_dsp_sim",
    authors: ["The qda developers"],
    description: "Simulated Hexagon DSP rpmsg transport for qda tests",
    license: "GPL",
    params: {
        upstream_cdsp: bool {
            default: false,
            description: "Steer the cdsp channel to drivers/misc/fastrpc.c and the others to qda (comparison runs)",
        },
        upstream_mask: u32 {
            default: 0,
            description: "Steer channel i (bit i, in registration order) to drivers/misc/fastrpc.c and the others to qda (comparison runs)",
        },
        pin_drivers: bool {
            default: false,
            description: "Bind every channel by driver_override (qda unless steered to fastrpc.ko), whichever driver was loaded first",
        },
        corpus_group: u32 {
            default: 0,
            description: "Only the FastRPC nodes whose remoteproc has this qda,corpus-group (0: every node; the device-tree corpus test)",
        },
    },
}

/// Module state, dropped in field order: the channels (which wait for the
/// driver to let go of them), their parent device, and last the driver of
/// the remoteproc nodes, bound before the channels are registered.
struct DspSim {
    _channels: channel::registry::Registry,
    _parent: faux::Registration,
    _remoteprocs: Pin<KBox<kernel::driver::Registration<platform::Adapter<SimRemoteproc>>>>,
}

impl kernel::Module for DspSim {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let remoteprocs = KBox::pin_init(
            kernel::driver::Registration::new(c"qda_sim_remoteproc", module),
            GFP_KERNEL,
        )?;
        let parent = faux::Registration::new(c"qda-dsp-sim", None)?;
        let fdev: &kernel::device::Device<kernel::device::Bound> = parent.as_ref().as_ref();
        let parent_dev = ptr::from_ref(fdev).cast_mut().cast::<bindings::device>();
        let mut sim = DspSim {
            _channels: channel::registry::Registry::new(),
            _parent: parent,
            _remoteprocs: remoteprocs,
        };
        // SAFETY: the faux device outlives the channels: `_channels` drops
        // (unregistering them all) before `_parent`.
        unsafe { sim._channels.register_all(parent_dev)? };
        Ok(sim)
    }
}
