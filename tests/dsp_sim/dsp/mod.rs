// SPDX-License-Identifier: GPL-2.0

//! The simulated DSP's side of FastRPC: one request decoded as firmware
//! sees it ([`call`], checked as a skel would, [`skel`]), routed by handle
//! ([`router`]) to the handlers of the static handles the DSP itself
//! serves: remote control ([`remotectl`]) and the kernel's process control
//! and capability calls ([`kernel_calls`]); what the DSP keeps ([`state`]),
//! how it answers ([`reply`], [`errors`]) and what it records for the
//! differential tests ([`trace`]).

pub(crate) mod call;
pub(crate) mod errors;
pub(crate) mod kernel_calls;
pub(crate) mod remotectl;
pub(crate) mod reply;
pub(crate) mod router;
pub(crate) mod skel;
pub(crate) mod state;
pub(crate) mod trace;
