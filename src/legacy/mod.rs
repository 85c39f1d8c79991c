// SPDX-License-Identifier: GPL-2.0

//! The legacy UAPI of `drivers/misc/fastrpc.c`, served by qda on misc
//! devices named as upstream names them, so that programs built for
//! `fastrpc.ko` run unchanged. Module parameter `legacy_nodes=0` turns the
//! nodes off (e.g. while `fastrpc.ko` serves channels with the same
//! labels). See `Documentation/accel/qda/legacy.rst`.

mod file;
pub(crate) mod names;
mod node;
mod uapi;

pub(crate) use node::LegacyNodes;
