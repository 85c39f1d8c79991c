// SPDX-License-Identifier: GPL-2.0

//! The FastRPC engine.
//!
//! Pure encoders and decoders, shared with the simulated DSP and tested on
//! the host: the wire format ([`wire`], structures declared with
//! [`codec`]), scalars ([`scalars`]), the invoke payload layout
//! ([`layout`]) and its planning ([`plan`]), the messages of the
//! kernel-only calls on handles 1 and 2 ([`proc_msgs`]) and return values
//! ([`retval`]). The engine: a channel of in-flight calls ([`channel`]),
//! marshalling ([`invoke`]) and process control on handle 1
//! ([`process`]).

pub(crate) mod channel;
pub(crate) mod codec;
pub(crate) mod invoke;
pub(crate) mod layout;
pub(crate) mod plan;
pub(crate) mod proc_msgs;
pub(crate) mod process;
pub(crate) mod retval;
pub(crate) mod scalars;
pub(crate) mod wire;
