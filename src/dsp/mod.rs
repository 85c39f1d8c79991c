// SPDX-License-Identifier: GPL-2.0

//! The DSP service both frontends call: one [`Dsp`] per FastRPC channel,
//! its clients ([`client`]) and their privilege ([`access`], rules in
//! [`policy`]), remote calls ([`invoke`]), process start ([`start`]),
//! mappings ([`mapping`]) and the DSP's attributes ([`attributes`]).
//!
//! Requests arrive typed; no UAPI structure and no frontend errno policy
//! reaches this layer.

pub(crate) mod access;
pub(crate) mod attributes;
pub(crate) mod client;
pub(crate) mod invoke;
pub(crate) mod mapping;
pub(crate) mod policy;
pub(crate) mod start;

use kernel::{
    prelude::*,
    sync::{
        Arc,
        SetOnce, //
    },
};

use crate::{
    buffer::bo::Bo,
    fastrpc::channel::Channel,
    memory::{
        charge::Charge,
        MemoryManager, //
    },
    platform::{
        domain::Domain,
        remote_heap::HeapInfo,
        session::Sessions, //
    },
};

use client::Client;

/// Per-DSP state shared by every open file of its accel node.
#[pin_data]
pub(crate) struct Dsp {
    /// Which DSP this is.
    pub(crate) domain: Domain,
    /// The channel is secure (no `qcom,non-secure-domain`).
    pub(crate) secure: bool,
    /// The sessions on the DSP's context banks.
    pub(crate) sessions: Arc<Sessions>,
    /// Where buffer memory comes from.
    pub(crate) memory: Arc<MemoryManager>,
    /// The FastRPC channel to the DSP.
    pub(crate) channel: Arc<Channel>,
    /// The remote heap of the DSP's static PDs, if its node names one.
    pub(crate) heap: Option<Arc<HeapInfo>>,
    /// The DSP's attributes, published by the first capability query
    /// that succeeds (see [`attributes`]); never changed after.
    pub(crate) attributes: SetOnce<Arc<KVec<u32>>>,
}

impl Dsp {
    /// Allocates a buffer of `size` bytes (rounded up to pages) from
    /// `backend` (a [`crate::memory`] kind, 0: the default) in the session
    /// of client `c`, charged to its quota; also returns the rounded size.
    pub(crate) fn alloc_bo(&self, c: &Client, size: u64, backend: u32) -> Result<(Bo, usize)> {
        let cb = c.session().cb();
        let size = crate::memory::bo_size(size)?;
        let charge = Charge::new(&c.quota, size as u64, self.channel.device())?;
        let mem = self.memory.alloc(cb, size, backend).inspect_err(|e| {
            crate::ratelimit::dev_ratelimited!(
                debug,
                self.channel.device(),
                "{}: allocating {} bytes (backend {}) failed: {:?}\n",
                self.domain.label(),
                size,
                backend,
                e
            );
        })?;
        Ok((Bo::new(mem, cb.window(), Some(charge)), size))
    }
}
