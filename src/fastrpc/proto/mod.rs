// SPDX-License-Identifier: GPL-2.0

//! The FastRPC protocol: pure encoders and decoders, shared by the driver,
//! the simulated DSP (which includes this folder) and the host tests.
//!
//! The wire format ([`wire`], structures declared with [`codec`]),
//! scalars ([`scalars`]), the invoke payload layout ([`layout`]) and its
//! planning ([`plan`]), the messages of the kernel-only calls on handles 1
//! and 2 ([`proc_msgs`]) and return values ([`retval`]). Nothing here
//! touches a kernel object.

pub(crate) mod codec;
pub(crate) mod layout;
pub(crate) mod plan;
pub(crate) mod proc_msgs;
pub(crate) mod retval;
pub(crate) mod scalars;
pub(crate) mod wire;
