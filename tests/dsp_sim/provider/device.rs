// SPDX-License-Identifier: GPL-2.0

//! The rpmsg devices of the simulated channels: one per FastRPC node,
//! registered on the real rpmsg bus with the node as its `of_node` and
//! this module as its transport, so the driver binds as on a board.

use core::{
    ptr,
    sync::atomic::{
        AtomicUsize,
        Ordering, //
    },
};
use kernel::{
    bindings,
    prelude::*,
    sync::Arc, //
};

use crate::{
    channel::state::ChanState,
    provider::endpoint::{
        create_ept,
        Ops, //
    },
    sys, //
};

/// rpmsg channel name glink uses for FastRPC.
const CHANNEL: &CStr = c"fastrpcglink-apps-dsp";

/// Channel devices not yet released. A DRM device keeps a reference to its
/// parent (our rpmsg device) until its last open file is closed, so module
/// exit waits for this to reach zero: `release_channel` lives in this module.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many channel devices are not yet released.
pub(crate) fn live() -> usize {
    LIVE.load(Ordering::Acquire)
}

/// A registered rpmsg device; `rpdev` must stay first (the release
/// callback converts the `struct device` back to this).
#[repr(C)]
pub(crate) struct SimChannel {
    rpdev: sys::rpmsg_device,
    pub(crate) state: Arc<ChanState>,
}

static DEVICE_OPS: Ops<sys::rpmsg_device_ops> = Ops(sys::rpmsg_device_ops {
    create_channel: None,
    release_channel: None,
    create_ept: Some(create_ept),
    announce_create: None,
    announce_destroy: None,
});

/// A registered channel device; dropping it unregisters the device.
pub(crate) struct Registration(*mut sys::rpmsg_device);

// SAFETY: the device is registered until `drop`, which the driver core
// allows from any thread.
unsafe impl Send for Registration {}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: registered in `register_channel` and not yet
        // unregistered (this is the only unregistration).
        unsafe { bindings::device_unregister(&raw mut (*self.0).dev) };
    }
}

/// # Safety
///
/// Called by the rpmsg or driver core only, on objects of this module.
unsafe extern "C" fn release_channel(dev: *mut bindings::device) {
    let ch = dev.cast::<SimChannel>();
    // SAFETY: `dev` is the first field of a `SimChannel` leaked in
    // `register_channel`; the driver core calls this once, on the last put.
    unsafe {
        let node = (*ch).rpdev.dev.of_node;
        if !node.is_null() {
            bindings::fwnode_handle_put(&raw mut (*node).fwnode);
        }
        drop(KBox::from_raw(ch));
    }
    LIVE.fetch_sub(1, Ordering::Release);
}

/// Registers one rpmsg device for `node` under `parent`: channel `index`,
/// answered by `state`, bound to `driver_override` if set.
///
/// # Safety
///
/// `node` must be a valid device-tree node and `parent` a valid device that
/// outlives the registered device.
pub(crate) unsafe fn register_channel(
    parent: *mut bindings::device,
    node: *mut bindings::device_node,
    index: u32,
    driver_override: Option<&'static CStr>,
    state: Arc<ChanState>,
) -> Result<Registration> {
    let mut ch = KBox::new(
        SimChannel {
            rpdev: sys::rpmsg_device::default(),
            state,
        },
        GFP_KERNEL,
    )?;
    let name = CHANNEL.to_bytes();
    for (d, s) in ch.rpdev.id.name.iter_mut().zip(name) {
        *d = *s;
    }
    ch.rpdev.src = index;
    ch.rpdev.dst = index;
    ch.rpdev.little_endian = true;
    ch.rpdev.ops = &DEVICE_OPS.0;
    ch.rpdev.dev.parent = parent;
    ch.rpdev.dev.release = Some(release_channel);
    // SAFETY: `node` is valid; the reference is dropped in `release_channel`.
    unsafe { bindings::fwnode_handle_get(&raw mut (*node).fwnode) };
    ch.rpdev.dev.of_node = node;
    let ch = KBox::into_raw(ch);
    LIVE.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the device is fully set up. On failure the core drops the
    // initial reference, which runs `release_channel` and frees `ch`.
    let ret = unsafe {
        sys::rpmsg_register_device_override(
            &raw mut (*ch).rpdev,
            driver_override.map_or(ptr::null(), |o| o.as_char_ptr()),
        )
    };
    kernel::error::to_result(ret)?;
    // SAFETY: `ch` stays alive until `device_unregister`.
    Ok(Registration(unsafe { &raw mut (*ch).rpdev }))
}
