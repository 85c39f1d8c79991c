// SPDX-License-Identifier: GPL-2.0

//! One simulated channel: its identity and fault control, stable across
//! simulated crashes ([`knob`]); its current incarnation, a DSP and the
//! driver's endpoint ([`state`]); and the work that answers each request
//! as firmware does, later and from a worker ([`answer`]); and all the
//! channels of the module, with their debugfs files ([`registry`]).

pub(crate) mod answer;
pub(crate) mod knob;
pub(crate) mod registry;
pub(crate) mod state;
