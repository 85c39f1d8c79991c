// SPDX-License-Identifier: GPL-2.0

//! The FFI layer: the only part of qda that calls C APIs directly.
//!
//! The 7.3 `kernel` crate cannot register a DRM *accel* device and has no
//! rpmsg abstraction. This module binds the missing C declarations with a
//! module-local bindgen run ([`sys`]) and wraps them in small safe types
//! ([`accel`], [`bus`], [`rpmsg`]) so that the rest of the driver is safe Rust.

pub(crate) mod accel;
pub(crate) mod bus;
pub(crate) mod dma;
pub(crate) mod dmabuf;
pub(crate) mod gem;
pub(crate) mod of;
pub(crate) mod rpmsg;
pub(crate) mod sys;
pub(crate) mod vma;

/// The calling task's name (`comm`), NUL padded.
pub(crate) fn current_comm() -> [u8; 16] {
    let mut out = [0u8; 16];
    // SAFETY: `current` is valid; `comm` is a fixed NUL-terminated array
    // that the task only rewrites whole (a torn read yields another name).
    let comm = unsafe { &(*kernel::task::Task::current_raw()).comm };
    for (o, c) in out.iter_mut().zip(comm.iter()) {
        *o = *c;
    }
    out[15] = 0;
    out
}

/// Monotonic time in nanoseconds (NMI-safe, for rate limiting).
pub(crate) fn monotonic_ns() -> u64 {
    // SAFETY: no preconditions; callable from any context.
    unsafe { kernel::bindings::ktime_get_mono_fast_ns() }
}
