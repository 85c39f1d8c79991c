// SPDX-License-Identifier: GPL-2.0

//! The platform: what the device tree says ([`dt`], [`domain`], [`soc`],
//! [`topology`]), the context-bank devices ([`context_bank`]) and the
//! sessions on them ([`session`], shared fairly: [`fair_share`]), waiting
//! for an earlier instance's context banks ([`rebind`]) and the remote
//! heap of static PDs ([`remote_heap`]).

pub(crate) mod context_bank;
pub(crate) mod domain;
pub(crate) mod dt;
pub(crate) mod fair_share;
pub(crate) mod rebind;
pub(crate) mod regions;
pub(crate) mod remote_heap;
pub(crate) mod session;
pub(crate) mod soc;
pub(crate) mod topology;
