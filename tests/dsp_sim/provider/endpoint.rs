// SPDX-License-Identifier: GPL-2.0

//! The endpoints of a simulated channel: the rpmsg core creates one for
//! the driver ([`create_ept`]); what the driver sends through it goes to
//! the channel's answer work ([`send`]), and replies go back through the
//! endpoint's receive callback ([`Receiver::deliver`]).

use core::{
    ffi::{
        c_int,
        c_void, //
    },
    ptr, //
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
};

use crate::{
    channel::{
        answer,
        state::ChanState, //
    },
    provider::device::SimChannel,
    sys,
    wire, //
};

/// Where replies go: the endpoint's receive callback.
struct Receiver {
    cb: sys::rpmsg_rx_cb_t,
    rpdev: *mut sys::rpmsg_device,
    priv_: *mut c_void,
    addr: u32,
}

// SAFETY: the pointers are only used under `ReplyPort`'s lock, while the
// endpoint exists.
unsafe impl Send for Receiver {}

/// The driver's end of a channel: the receive callback of its endpoint,
/// set while the endpoint exists.
#[pin_data]
pub(crate) struct ReplyPort {
    #[pin]
    receiver: Mutex<Option<Receiver>>,
}

impl ReplyPort {
    /// A port with no endpoint yet.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            receiver <- new_mutex!(None),
        })
    }

    /// Passes `bytes` to the driver's receive callback, unless the
    /// endpoint is gone.
    pub(crate) fn deliver(&self, bytes: &[u8]) {
        let r = self.receiver.lock();
        let Some(rx) = r.as_ref() else {
            return;
        };
        let Some(cb) = rx.cb else {
            return;
        };
        // SAFETY: the endpoint exists while `receiver` is set (it is
        // cleared under this lock before the endpoint is freed); `bytes`
        // is readable for its length, which the callback only reads.
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

/// An endpoint handed to the rpmsg core; `ept` must stay first.
#[repr(C)]
struct SimEndpoint {
    ept: sys::rpmsg_endpoint,
    state: Arc<ChanState>,
}

/// Wrapper making a C ops table usable from a `static`.
#[repr(transparent)]
pub(crate) struct Ops<T>(pub(crate) T);
// SAFETY: the tables are constant function-pointer tables, only read.
unsafe impl<T> Sync for Ops<T> {}

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
pub(crate) unsafe extern "C" fn create_ept(
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
    *state.port.receiver.lock() = Some(Receiver {
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
    *ep.state.port.receiver.lock() = None;
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
    // A request is exactly one `fastrpc_msg`, as the upstream driver sends.
    if len != wire::Msg::SIZE {
        pr_warn!(
            "refused a {len}-byte message (requests are {} bytes)\n",
            wire::Msg::SIZE
        );
        return EINVAL.to_errno();
    }
    let Some(msg) = wire::Msg::decode(bytes) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `ept` is the first field of a live `SimEndpoint`.
    let state = unsafe { (*ept.cast::<SimEndpoint>()).state.clone() };
    match answer::spawn(state, msg) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
