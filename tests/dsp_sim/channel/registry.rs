// SPDX-License-Identifier: GPL-2.0

//! All channels of the module: one per FastRPC node of the device tree,
//! registered at init with their debugfs files, and removed at exit once
//! the driver has let go of every channel device and no answer is being
//! computed (their code lives in this module).

use kernel::{
    bindings,
    debugfs,
    prelude::*,
    sync::Arc,
    time::{
        delay::fsleep,
        Delta, //
    }, //
};

use crate::{
    channel::{
        answer,
        knob::Knob, //
    },
    faults::debugfs::{
        add_fault_file,
        add_trace_files,
        Files, //
    },
    pd::static_pds,
    provider::{
        device,
        of_nodes::{
            self,
            Flow, //
        },
        steer, //
    },
};

/// Upper bound on simulated channels (a real SoC has at most a handful).
const MAX_CHANNELS: usize = 8;

/// The channels and their debugfs files. Fields drop in order: debugfs
/// first.
pub(crate) struct Registry {
    files: Files,
    dir: debugfs::Dir,
    knobs: KVec<Arc<Knob>>,
}

impl Registry {
    /// No channels yet; creates `/sys/kernel/debug/qda_dsp_sim`.
    pub(crate) fn new() -> Self {
        Self {
            files: KVec::new(),
            dir: debugfs::Dir::new(c"qda_dsp_sim"),
            knobs: KVec::new(),
        }
    }

    /// Registers a channel for every FastRPC node of the device tree.
    ///
    /// # Safety
    ///
    /// `parent` must be a valid device that outlives the registry.
    pub(crate) unsafe fn register_all(&mut self, parent: *mut bindings::device) -> Result {
        // SAFETY: the search passes valid nodes; `parent` outlives every
        // channel (the caller's guarantee).
        of_nodes::for_each(|node| unsafe { self.visit(parent, node) })?;
        pr_info!(
            "registered {} simulated FastRPC channel(s)\n",
            self.knobs.len()
        );
        Ok(())
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
    ) -> Result<Flow> {
        if self.knobs.len() == MAX_CHANNELS {
            pr_warn!(
                "more than {} FastRPC nodes, ignoring the rest\n",
                MAX_CHANNELS
            );
            return Ok(Flow::Stop);
        }
        // The knob keeps a reference to the node (dropped in `drop`).
        // SAFETY: `node` is valid.
        unsafe { of_nodes::get(node) };
        // SAFETY: `node` is valid and referenced; see above for `parent`.
        if let Err(e) = unsafe { self.add(parent, node) } {
            pr_err!("registering a channel failed: {:?}\n", e);
            // SAFETY: drops the reference taken above.
            unsafe { of_nodes::put(node) };
            return Err(e);
        }
        Ok(Flow::Next)
    }

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
        let name = unsafe { of_nodes::label(node, index)? };
        let driver_override = steer::by_parameters(index, name.to_bytes());
        // SAFETY: the knob keeps the caller's reference to `node`; `parent`
        // outlives every channel: `drop` unregisters them first.
        let knob = unsafe { Knob::new(node, parent, index, driver_override)? };
        self.knobs.push(knob.clone(), GFP_KERNEL)?;
        knob.start()?;
        add_fault_file(&self.dir, &name, &knob, &mut self.files)?;
        static_pds::add_files(&self.dir, &name, &knob, &mut self.files)?;
        add_trace_files(&self.dir, &name, &knob, &mut self.files)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.files.clear();
        for k in self.knobs.iter().rev() {
            k.remove();
        }
        let mut waited = 0;
        while device::live() != 0 || answer::pending() != 0 {
            if waited % 50 == 0 {
                pr_info!(
                    "waiting for {} channel(s) still referenced (open accel files?)\n",
                    device::live()
                );
            }
            waited += 1;
            fsleep(Delta::from_millis(20));
        }
        for k in self.knobs.iter() {
            // SAFETY: drops the reference taken in `visit`.
            unsafe { of_nodes::put(k.node) };
        }
    }
}
