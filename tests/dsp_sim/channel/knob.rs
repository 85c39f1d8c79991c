// SPDX-License-Identifier: GPL-2.0

//! A channel as it stays across simulated crashes: its device-tree node,
//! its driver, its trace and armed fault, and its current incarnation,
//! which a crash replaces (`/sys/kernel/debug/qda_dsp_sim/<label>`).

use kernel::{
    bindings, new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
};

use crate::{
    channel::state::ChanState,
    dsp::trace::Trace,
    faults::fault::Fault,
    provider::device::{
        register_channel,
        Registration, //
    },
    wire, //
};

/// Fault control of one channel, stable across simulated crashes:
/// `/sys/kernel/debug/qda_dsp_sim/<label>`.
#[pin_data]
pub(crate) struct Knob {
    pub(crate) node: *mut bindings::device_node,
    parent: *mut bindings::device,
    index: u32,
    /// Driver to bind to instead of matching (comparison runs).
    driver_override: Option<&'static CStr>,
    /// What the channel received:
    /// `/sys/kernel/debug/qda_dsp_sim/trace-<label>`.
    pub(crate) trace: Arc<Mutex<Trace>>,
    #[pin]
    pub(crate) fault: Mutex<Option<Fault>>,
    #[pin]
    pub(crate) current: Mutex<Current>,
}

/// The channel's current incarnation.
pub(crate) struct Current {
    rpdev: Option<Registration>,
    pub(crate) state: Option<Arc<ChanState>>,
    /// Answers held back by `drop`.
    pub(crate) held: KVec<wire::Rsp>,
    pub(crate) crashes: u32,
}

// SAFETY: the raw pointers are a DT node (referenced) and the parent device
// (outlives every channel), only passed to the driver core.
unsafe impl Send for Knob {}
// SAFETY: see `Send`.
unsafe impl Sync for Knob {}

impl Knob {
    /// The control of channel `index` for FastRPC `node` under `parent`,
    /// bound to `driver_override` if set; no incarnation yet.
    ///
    /// # Safety
    ///
    /// `node` must be a device-tree node the knob keeps a reference to,
    /// and `parent` a valid device that outlives every channel.
    pub(crate) unsafe fn new(
        node: *mut bindings::device_node,
        parent: *mut bindings::device,
        index: u32,
        driver_override: Option<&'static CStr>,
    ) -> Result<Arc<Self>> {
        let trace = Arc::pin_init(new_mutex!(Trace::new()), GFP_KERNEL)?;
        Arc::pin_init(
            pin_init!(Knob {
                node,
                parent,
                index,
                driver_override,
                trace,
                fault <- new_mutex!(None),
                current <- new_mutex!(Current {
                    rpdev: None,
                    state: None,
                    held: KVec::new(),
                    crashes: 0,
                }),
            }),
            GFP_KERNEL,
        )
    }

    /// Registers a new incarnation of the channel.
    fn register(self: &Arc<Self>) -> Result<(Registration, Arc<ChanState>)> {
        // SAFETY: `node` and `parent` are valid for the knob's life (see
        // `new`).
        let state = unsafe { ChanState::new(self.node, self.clone())? };
        // SAFETY: as above.
        let rpdev = unsafe {
            register_channel(
                self.parent,
                self.node,
                self.index,
                self.driver_override,
                state.clone(),
            )?
        };
        Ok((rpdev, state))
    }

    /// Registers the channel's first incarnation.
    pub(crate) fn start(self: &Arc<Self>) -> Result {
        let (rpdev, state) = self.register()?;
        let mut cur = self.current.lock();
        cur.rpdev = Some(rpdev);
        cur.state = Some(state);
        Ok(())
    }

    /// Simulates a subsystem restart: the rpmsg device goes away (qda's
    /// in-flight calls fail, its node disappears) and a new one comes.
    pub(crate) fn crash(self: &Arc<Self>) {
        let mut cur = self.current.lock();
        if cur.rpdev.is_some() {
            cur.rpdev = None;
            cur.state = None;
        }
        cur.held.clear();
        cur.crashes += 1;
        match self.register() {
            Ok((rpdev, state)) => {
                cur.rpdev = Some(rpdev);
                cur.state = Some(state);
            }
            Err(e) => pr_err!("restart after a simulated crash failed: {:?}\n", e),
        }
    }

    /// Delivers the answers held back by `drop`.
    pub(crate) fn release(&self) {
        let cur = self.current.lock();
        if let Some(state) = cur.state.as_ref() {
            for rsp in cur.held.iter() {
                state.reply(rsp);
            }
        }
        drop(cur);
        self.current.lock().held.clear();
    }

    /// Unregisters the current rpmsg device (module exit).
    pub(crate) fn remove(&self) {
        let mut cur = self.current.lock();
        if cur.rpdev.is_some() {
            cur.rpdev = None;
            cur.state = None;
        }
    }
}
