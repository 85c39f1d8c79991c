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
