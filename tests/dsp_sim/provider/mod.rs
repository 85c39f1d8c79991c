// SPDX-License-Identifier: GPL-2.0

//! The rpmsg provider: what a glink edge does on a board, done for the
//! simulated DSPs. It finds the FastRPC nodes of the device tree
//! ([`of_nodes`]), registers one rpmsg device per node on the real rpmsg
//! bus ([`device`], bound as [`steer`] says) and hands the driver
//! endpoints whose sends reach the simulated DSP and whose receive
//! callback carries its replies ([`endpoint`]).
//!
//! This is the simulator's layer over the rpmsg core's C objects: the
//! device and endpoint structures it lends the core and the callbacks the
//! core calls.

pub(crate) mod device;
pub(crate) mod endpoint;
pub(crate) mod of_nodes;
pub(crate) mod steer;
