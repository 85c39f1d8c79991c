// SPDX-License-Identifier: GPL-2.0

//! The FFI layer: the only part of qda that calls C APIs directly, and
//! the only part with `unsafe` code.
//!
//! The 7.3 `kernel` crate cannot register a DRM *accel* device and has no
//! rpmsg abstraction. This module binds the missing C declarations with a
//! module-local bindgen run ([`sys`]) and wraps them in small safe types
//! ([`accel`], [`bus`], [`rpmsg`], [`misc`], [`guarded`], ...) so that the
//! rest of the driver is safe Rust. It imports nothing from the rest of
//! the crate.

pub(crate) mod accel;
pub(crate) mod bus;
pub(crate) mod cma;
pub(crate) mod completion;
pub(crate) mod cred;
pub(crate) mod dma;
pub(crate) mod dmabuf;
pub(crate) mod gem;
pub(crate) mod guarded;
pub(crate) mod iommu;
pub(crate) mod misc;
pub(crate) mod of;
pub(crate) mod phys;
pub(crate) mod rpmsg;
pub(crate) mod scm;
pub(crate) mod sys;
pub(crate) mod vma;
pub(crate) mod workqueue;

/// The calling task's name (`comm`), NUL padded.
pub(crate) fn current_comm() -> [u8; 16] {
    let mut out = [0u8; 16];
    // SAFETY: `current` is valid for the duration of the call.
    let comm = unsafe { &raw const (*kernel::task::Task::current_raw()).comm };
    for (i, o) in out.iter_mut().enumerate() {
        // SAFETY: `i` is inside the 16-byte array. Another thread may
        // rename the task concurrently (`prctl(PR_SET_NAME)`): the kernel
        // always leaves the array NUL terminated and padded, so each byte
        // is read once, like `READ_ONCE`, and never through a reference;
        // a torn read gives a mix of the old and new names.
        *o = unsafe { core::ptr::read_volatile(comm.cast::<u8>().add(i)) };
    }
    out[15] = 0;
    out
}

/// Monotonic time in nanoseconds (NMI-safe, for rate limiting).
pub(crate) fn monotonic_ns() -> u64 {
    // SAFETY: no preconditions; callable from any context.
    unsafe { kernel::bindings::ktime_get_mono_fast_ns() }
}
