// SPDX-License-Identifier: GPL-2.0

//! The FastRPC messages on the rpmsg channel, byte for byte.
//!
//! A request is one 40-byte `fastrpc_msg` ([`Msg`]) (native little-endian layout of
//! arm64); a response is a 16-byte `fastrpc_invoke_rsp` (`u64 ctx`, `i32
//! retval`, 4 bytes of padding). The `ctx` of a request is echoed in its
//! response: bits 3..0 hold the PD type, 15..8 the context index, 63..16 a
//! sequence number that tells a late reply from the current user of the
//! same index.
//!
//! Pure code (no kernel API), also built and tested on the host.

use super::codec::{
    wire_struct,
    Dec,
    Enc, //
};

/// Size of a response.
pub(crate) const RSP_SIZE: usize = 16;
/// `ctx` of a PD-exit notification from newer firmware (not a reply).
pub(crate) const PD_NOTIFY_CTX: u64 = 0xabcd_abcd;

/// Protection domain types, in the low bits of `ctx`.
pub(crate) const ROOT_PD: u32 = 0;
/// User (dynamic) protection domain.
pub(crate) const USER_PD: u32 = 1;
/// Sensors protection domain (static).
pub(crate) const SENSORS_PD: u32 = 2;

/// Largest context index (indices are 1..=255).
pub(crate) const MAX_CTX_INDEX: u32 = 255;

wire_struct! {
    /// A request header (`struct fastrpc_msg`).
    Msg, 40 {
        /// Remote session id (0 for kernel-originated calls).
        client_id: i32,
        /// Calling thread id.
        tid: i32,
        /// Context id | PD type.
        ctx: u64,
        /// Remote handle.
        handle: u32,
        /// Scalars.
        sc: u32,
        /// DSP address of the payload.
        addr: u64,
        /// Payload size, rounded up to pages.
        size: u64,
    }
}

/// A response (`struct fastrpc_invoke_rsp`: `u64 ctx`, `int retval` and
/// 4 bytes of tail padding, sent as zero).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rsp {
    /// The request's `ctx`.
    pub(crate) ctx: u64,
    /// The remote method's return value.
    pub(crate) retval: i32,
}

impl Rsp {
    /// The wire bytes.
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) fn encode(&self) -> [u8; RSP_SIZE] {
        Enc::new()
            .put(&self.ctx.to_le_bytes())
            .put(&self.retval.to_le_bytes())
            .put(&[0; 4])
            .done()
    }

    /// Parses a response; `None` if it is too short.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b, RSP_SIZE)?;
        Some(Self {
            ctx: d.u64(),
            retval: d.i32(),
        })
    }
}

/// The `ctx` of a request: context `index` (1..=255), sequence `seq` (48
/// bits) and PD type `pd`.
pub(crate) const fn ctx_encode(index: u32, seq: u64, pd: u32) -> u64 {
    (seq << 16) | (((index & 0xff) as u64) << 8) | (pd & 0xf) as u64
}

/// `(index, seq)` of a `ctx` echoed by the DSP.
pub(crate) const fn ctx_decode(ctx: u64) -> (u32, u64) {
    (((ctx >> 8) & 0xff) as u32, ctx >> 16)
}

/// The sequence part of `n` (48 bits).
pub(crate) const fn seq_wrap(n: u64) -> u64 {
    n & ((1 << 48) - 1)
}
