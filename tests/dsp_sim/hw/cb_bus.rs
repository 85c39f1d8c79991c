// SPDX-License-Identifier: GPL-2.0

//! The devices of the context banks as the DSP's SMMU sees them: qda's
//! device for a context-bank node on its `qda-cb` bus, or the platform
//! device `drivers/misc/fastrpc.c` makes (comparison runs).

use core::ptr;
use kernel::{
    bindings,
    prelude::*, //
};

/// qda's context-bank bus (`qda_cb_bus`, exported by qda for this
/// simulator), looked up at each access and pinned only while held: the
/// simulator does not link against qda, so that udev and modprobe can load
/// qda (or fastrpc.ko) for the channels the simulator adds, and unload it,
/// as on a board, where the DSP does not depend on the host's driver.
pub(crate) struct CbBus(*const bindings::bus_type);

const CB_BUS: &CStr = c"qda_cb_bus";

impl CbBus {
    /// The bus if qda is loaded.
    pub(crate) fn get() -> Option<Self> {
        // SAFETY: `CB_BUS` is NUL-terminated; a non-NULL result is the
        // exported `struct bus_type`, its module pinned until the put.
        let p = unsafe { bindings::__symbol_get(CB_BUS.as_char_ptr()) };
        (!p.is_null()).then(|| Self(p.cast()))
    }
}

impl Drop for CbBus {
    fn drop(&mut self) {
        // SAFETY: one put for the successful `__symbol_get` of `get`.
        unsafe { bindings::__symbol_put(CB_BUS.as_char_ptr()) };
    }
}

/// The device of context-bank node `np`, referenced (the caller puts it),
/// or `None`: qda's on `bus` if qda is loaded, else fastrpc.ko's platform
/// device.
///
/// # Safety
///
/// `np` must be a valid device-tree node.
pub(crate) unsafe fn cb_device(
    bus: Option<&CbBus>,
    np: *mut bindings::device_node,
) -> Option<*mut bindings::device> {
    let dev = match bus {
        // SAFETY: `b.0` is qda's registered bus, pinned by `bus`; the
        // match helper compares `of_node`. Returns a device reference
        // or NULL.
        Some(b) => unsafe {
            bindings::bus_find_device(
                b.0,
                ptr::null_mut(),
                np.cast(),
                Some(bindings::device_match_of_node),
            )
        },
        None => ptr::null_mut(),
    };
    if !dev.is_null() {
        return Some(dev);
    }
    // drivers/misc/fastrpc.c makes its context banks platform
    // devices (comparison runs steer a channel to it).
    // SAFETY: `np` is valid; returns a referenced device or NULL.
    let pdev = unsafe { crate::sys::of_find_device_by_node(np) };
    if pdev.is_null() {
        return None;
    }
    // SAFETY: `pdev` is a valid platform device.
    Some(unsafe { &raw mut (*pdev).dev })
}
