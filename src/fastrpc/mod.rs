// SPDX-License-Identifier: GPL-2.0

//! The FastRPC engine.
//!
//! The protocol itself is pure and lives in [`proto`]. The engine: a
//! channel of in-flight calls ([`channel`]), marshalling ([`marshal`]) over a [`transport`] and
//! process control on handle 1 ([`process`]).

pub(crate) mod channel;
pub(crate) mod marshal;
pub(crate) mod process;
pub(crate) mod proto;
pub(crate) mod transport;

pub(crate) use proto::{
    layout,
    plan,
    proc_msgs,
    retval,
    scalars,
    wire, //
};
