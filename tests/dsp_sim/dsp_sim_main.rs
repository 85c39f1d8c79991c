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
    debugfs,
    faux,
    platform,
    prelude::*,
    sync::Arc,
    time::{
        delay::fsleep,
        Delta, //
    }, //
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

/// Upper bound on simulated channels (a real SoC has at most a handful).
const MAX_CHANNELS: usize = 8;

/// Module state: the parent device, the channels and their fault knobs.
/// Fields drop in order: debugfs first.
struct DspSim {
    _files: faults::debugfs::Files,
    _dir: debugfs::Dir,
    knobs: KVec<Arc<channel::knob::Knob>>,
    _parent: faux::Registration,
    /// Bound before the channels are registered, unbound after they are
    /// gone (last field).
    _remoteprocs: Pin<KBox<kernel::driver::Registration<platform::Adapter<SimRemoteproc>>>>,
}

impl DspSim {
    /// Registers the channel of FastRPC `node` (a referenced node whose
    /// reference the knob keeps) and its debugfs files.
    ///
    /// # Safety
    ///
    /// `node` must be valid and `parent` must outlive every channel.
    unsafe fn add(
        &mut self,
        parent: *mut bindings::device,
        node: *mut bindings::device_node,
    ) -> Result {
        let index = self.knobs.len() as u32;
        // SAFETY: `node` is valid.
        let name = unsafe { provider::of_nodes::label(node, index)? };
        let driver_override = provider::steer::by_parameters(index, name.to_bytes());
        // SAFETY: the knob keeps the caller's reference to `node`; `parent`
        // outlives every channel: `drop` unregisters them first.
        let knob = unsafe { channel::knob::Knob::new(node, parent, index, driver_override)? };
        self.knobs.push(knob.clone(), GFP_KERNEL)?;
        knob.start()?;
        faults::debugfs::add_fault_file(&self._dir, &name, &knob, &mut self._files)?;
        pd::static_pds::add_files(&self._dir, &name, &knob, &mut self._files)?;
        faults::debugfs::add_trace_files(&self._dir, &name, &knob, &mut self._files)
    }

    /// Registers a channel for `node`, found by the device-tree search,
    /// unless there are [`MAX_CHANNELS`] already.
    ///
    /// # Safety
    ///
    /// `node` must be valid for the call and `parent` must outlive every
    /// channel.
    unsafe fn visit(
        &mut self,
        parent: *mut bindings::device,
        node: *mut bindings::device_node,
    ) -> Result<provider::of_nodes::Flow> {
        if self.knobs.len() == MAX_CHANNELS {
            pr_warn!(
                "more than {} FastRPC nodes, ignoring the rest\n",
                MAX_CHANNELS
            );
            return Ok(provider::of_nodes::Flow::Stop);
        }
        // The knob keeps a reference to the node (dropped in `drop`).
        // SAFETY: `node` is valid.
        unsafe { provider::of_nodes::get(node) };
        // SAFETY: `node` is valid and referenced; see above for `parent`.
        if let Err(e) = unsafe { self.add(parent, node) } {
            pr_err!("registering a channel failed: {:?}\n", e);
            // SAFETY: drops the reference taken above.
            unsafe { provider::of_nodes::put(node) };
            return Err(e);
        }
        Ok(provider::of_nodes::Flow::Next)
    }
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
            _files: KVec::new(),
            _dir: debugfs::Dir::new(c"qda_dsp_sim"),
            knobs: KVec::new(),
            _parent: parent,
            _remoteprocs: remoteprocs,
        };
        // SAFETY: the search passes valid nodes; the faux device outlives
        // every channel (`drop` unregisters them before it goes).
        provider::of_nodes::for_each(|node| unsafe { sim.visit(parent_dev, node) })?;
        pr_info!(
            "registered {} simulated FastRPC channel(s)\n",
            sim.knobs.len()
        );
        Ok(sim)
    }
}

impl Drop for DspSim {
    fn drop(&mut self) {
        self._files.clear();
        for k in self.knobs.iter().rev() {
            k.remove();
        }
        let mut waited = 0;
        while provider::device::live() != 0 || channel::answer::pending() != 0 {
            if waited % 50 == 0 {
                pr_info!(
                    "waiting for {} channel(s) still referenced (open accel files?)\n",
                    provider::device::live()
                );
            }
            waited += 1;
            fsleep(Delta::from_millis(20));
        }
        for k in self.knobs.iter() {
            // SAFETY: drops the reference taken in `init`.
            unsafe { provider::of_nodes::put(k.node) };
        }
    }
}
