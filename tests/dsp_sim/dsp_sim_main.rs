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
//! item, like firmware: [`dsp::Dsp`] decodes them and reaches every
//! argument through the SMMU ([`smmu::Smmu`]); the reply goes back through
//! the endpoint's receive callback.

use core::{
    ffi::{
        c_int,
        c_void, //
    },
    ptr, //
    sync::atomic::{
        AtomicUsize,
        Ordering, //
    },
};
use kernel::{
    bindings,
    faux,
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    time::{
        delay::fsleep,
        Delta, //
    }, //
    workqueue,
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

mod dsp;
#[allow(dead_code)] // Shared with qda: the simulator uses the decoding side.
#[path = "../../src/fastrpc/layout.rs"]
mod layout;
#[allow(dead_code)] // Shared with qda.
#[path = "../../src/fastrpc/scalars.rs"]
mod scalars;
mod smmu;
#[allow(dead_code)] // Shared with qda: the simulator uses the decoding side.
#[path = "../../src/fastrpc/wire.rs"]
mod wire;

module! {
    type: DspSim,
    name: "qda_dsp_sim",
    authors: ["The qda developers"],
    description: "Simulated Hexagon DSP rpmsg transport for qda tests",
    license: "GPL",
}

/// rpmsg channel name glink uses for FastRPC.
const CHANNEL: &CStr = c"fastrpcglink-apps-dsp";

/// Device-tree compatible of a FastRPC node.
const COMPATIBLE: &CStr = c"qcom,fastrpc";

/// Upper bound on simulated channels (a real SoC has at most a handful).
const MAX_CHANNELS: usize = 8;

/// Channel devices not yet released. A DRM device keeps a reference to its
/// parent (our rpmsg device) until its last open file is closed, so module
/// exit waits for this to reach zero: `release_channel` lives in this module.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Work items in flight (answers being computed); module exit waits for
/// them: their code lives in this module.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Where replies go: the endpoint's receive callback.
struct Receiver {
    cb: sys::rpmsg_rx_cb_t,
    rpdev: *mut sys::rpmsg_device,
    priv_: *mut c_void,
    addr: u32,
}

// SAFETY: the pointers are only used under `ChanState::receiver`'s lock,
// while the endpoint exists.
unsafe impl Send for Receiver {}

/// One simulated DSP and its endpoint.
#[pin_data]
struct ChanState {
    #[pin]
    dsp: dsp::Dsp,
    #[pin]
    receiver: Mutex<Option<Receiver>>,
}

impl ChanState {
    /// Delivers a reply, unless the endpoint is gone.
    fn reply(&self, rsp: &wire::Rsp) {
        let bytes = rsp.encode();
        let r = self.receiver.lock();
        if let Some(rx) = r.as_ref() {
            if let Some(cb) = rx.cb {
                // SAFETY: the endpoint exists while `receiver` is set (it is
                // cleared under this lock before the endpoint is freed).
                unsafe {
                    cb(
                        rx.rpdev,
                        bytes.as_ptr().cast_mut().cast(),
                        bytes.len() as c_int,
                        rx.priv_,
                        rx.addr,
                    )
                };
            }
        }
    }
}

/// An endpoint handed to the rpmsg core; `ept` must stay first.
#[repr(C)]
struct SimEndpoint {
    ept: sys::rpmsg_endpoint,
    state: Arc<ChanState>,
}

/// A registered rpmsg device; `rpdev` must stay first (the release
/// callback converts the `struct device` back to this).
#[repr(C)]
struct SimChannel {
    rpdev: sys::rpmsg_device,
    state: Arc<ChanState>,
}

/// Wrapper making a C ops table usable from a `static`.
#[repr(transparent)]
struct Ops<T>(T);
// SAFETY: the tables are constant function-pointer tables, only read.
unsafe impl<T> Sync for Ops<T> {}

static DEVICE_OPS: Ops<sys::rpmsg_device_ops> = Ops(sys::rpmsg_device_ops {
    create_channel: None,
    release_channel: None,
    create_ept: Some(create_ept),
    announce_create: None,
    announce_destroy: None,
});

static ENDPOINT_OPS: Ops<sys::rpmsg_endpoint_ops> = Ops(sys::rpmsg_endpoint_ops {
    destroy_ept: Some(destroy_ept),
    send: Some(send),
    sendto: None,
    trysend: Some(send),
    trysendto: None,
    poll: None,
    set_flow_control: None,
    get_mtu: None,
});

/// # Safety
///
/// Called by the rpmsg or driver core only, on objects of this module.
unsafe extern "C" fn create_ept(
    rpdev: *mut sys::rpmsg_device,
    cb: sys::rpmsg_rx_cb_t,
    priv_: *mut c_void,
    chinfo: sys::rpmsg_channel_info,
) -> *mut sys::rpmsg_endpoint {
    // SAFETY: `rpdev` is the first field of one of our `SimChannel`s.
    let state = unsafe { (*rpdev.cast::<SimChannel>()).state.clone() };
    let Ok(ep) = KBox::new(
        SimEndpoint {
            ept: sys::rpmsg_endpoint::default(),
            state: state.clone(),
        },
        GFP_KERNEL,
    ) else {
        return ptr::null_mut();
    };
    *state.receiver.lock() = Some(Receiver {
        cb,
        rpdev,
        priv_,
        addr: chinfo.src,
    });
    let ep = KBox::into_raw(ep);
    // SAFETY: `ep` is a fresh, exclusively owned allocation.
    unsafe {
        (*ep).ept.rpdev = rpdev;
        (*ep).ept.cb = cb;
        (*ep).ept.priv_ = priv_;
        (*ep).ept.addr = chinfo.src;
        (*ep).ept.ops = &ENDPOINT_OPS.0;
        &raw mut (*ep).ept
    }
}

/// # Safety
///
/// Called by the rpmsg or driver core only, on objects of this module.
unsafe extern "C" fn destroy_ept(ept: *mut sys::rpmsg_endpoint) {
    // SAFETY: `ept` was created by `create_ept` as the first field of a
    // `SimEndpoint` and the rpmsg core destroys it exactly once.
    let ep = unsafe { KBox::from_raw(ept.cast::<SimEndpoint>()) };
    // Waits for a reply being delivered; later replies are dropped.
    *ep.state.receiver.lock() = None;
}

/// # Safety
///
/// Called by the rpmsg or driver core only, on objects of this module.
unsafe extern "C" fn send(ept: *mut sys::rpmsg_endpoint, data: *const c_void, len: c_int) -> c_int {
    let Ok(len) = usize::try_from(len) else {
        return EINVAL.to_errno();
    };
    // SAFETY: the rpmsg core passes `len` readable bytes.
    let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len) };
    let Some(msg) = wire::Msg::decode(bytes) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `ept` is the first field of a live `SimEndpoint`.
    let state = unsafe { (*ept.cast::<SimEndpoint>()).state.clone() };
    PENDING.fetch_add(1, Ordering::AcqRel);
    // Answer later, from a worker, as firmware does.
    let r = workqueue::system().try_spawn(GFP_KERNEL, move || {
        let retval = state.dsp.handle(&msg);
        state.reply(&wire::Rsp {
            ctx: msg.ctx,
            retval,
        });
        drop(state);
        PENDING.fetch_sub(1, Ordering::AcqRel);
    });
    match r {
        Ok(()) => 0,
        Err(_) => {
            PENDING.fetch_sub(1, Ordering::AcqRel);
            ENOMEM.to_errno()
        }
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

/// Registers one rpmsg device for `node` under `parent`.
///
/// # Safety
///
/// `node` must be a valid device-tree node and `parent` a valid device that
/// outlives the registered device.
unsafe fn register_channel(
    parent: *mut bindings::device,
    node: *mut bindings::device_node,
    index: u32,
) -> Result<*mut sys::rpmsg_device> {
    let smmu = smmu::Smmu::new(node)?;
    let state = Arc::pin_init(
        pin_init!(ChanState {
            dsp <- dsp::Dsp::new(smmu),
            receiver <- new_mutex!(None),
        }),
        GFP_KERNEL,
    )?;
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
    let ret = unsafe { sys::rpmsg_register_device_override(&raw mut (*ch).rpdev, ptr::null()) };
    kernel::error::to_result(ret)?;
    // SAFETY: `ch` stays alive until `device_unregister` in `drop`.
    Ok(unsafe { &raw mut (*ch).rpdev })
}

/// Module state: the parent device and the channels registered under it.
struct DspSim {
    channels: KVec<*mut sys::rpmsg_device>,
    _parent: faux::Registration,
}

// SAFETY: the raw pointers are registered devices only touched in `drop`.
unsafe impl Send for DspSim {}
// SAFETY: no `&self` methods.
unsafe impl Sync for DspSim {}

impl kernel::Module for DspSim {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let parent = faux::Registration::new(c"qda-dsp-sim", None)?;
        let fdev: &kernel::device::Device<kernel::device::Bound> = parent.as_ref().as_ref();
        let parent_dev = ptr::from_ref(fdev).cast_mut().cast::<bindings::device>();
        let mut sim = DspSim {
            channels: KVec::new(),
            _parent: parent,
        };
        let mut node: *mut bindings::device_node = ptr::null_mut();
        loop {
            // SAFETY: `node` is NULL or the node returned by the previous
            // call, whose reference this call drops.
            node = unsafe {
                bindings::of_find_compatible_node(node, ptr::null(), COMPATIBLE.as_char_ptr())
            };
            if node.is_null() {
                break;
            }
            if sim.channels.len() == MAX_CHANNELS {
                pr_warn!(
                    "more than {} FastRPC nodes, ignoring the rest\n",
                    MAX_CHANNELS
                );
                // SAFETY: drop the reference the search returned.
                unsafe { bindings::fwnode_handle_put(&raw mut (*node).fwnode) };
                break;
            }
            sim.channels.reserve(1, GFP_KERNEL)?;
            let index = sim.channels.len() as u32;
            // SAFETY: `node` is valid (we hold a reference) and `parent_dev`
            // outlives every channel: `drop` unregisters them first.
            match unsafe { register_channel(parent_dev, node, index) } {
                Ok(rpdev) => sim.channels.push(rpdev, GFP_KERNEL)?,
                Err(e) => {
                    pr_err!("registering channel {} failed: {:?}\n", index, e);
                    // SAFETY: drop the reference the search returned.
                    unsafe { bindings::fwnode_handle_put(&raw mut (*node).fwnode) };
                    return Err(e);
                }
            }
        }
        pr_info!(
            "registered {} simulated FastRPC channel(s)\n",
            sim.channels.len()
        );
        Ok(sim)
    }
}

impl Drop for DspSim {
    fn drop(&mut self) {
        for &rpdev in self.channels.iter().rev() {
            // SAFETY: registered in `init` and not yet unregistered.
            unsafe { bindings::device_unregister(&raw mut (*rpdev).dev) };
        }
        let mut waited = 0;
        while LIVE.load(Ordering::Acquire) != 0 || PENDING.load(Ordering::Acquire) != 0 {
            if waited % 50 == 0 {
                pr_info!(
                    "waiting for {} channel(s) still referenced (open accel files?)\n",
                    LIVE.load(Ordering::Relaxed)
                );
            }
            waited += 1;
            fsleep(Delta::from_millis(20));
        }
    }
}
