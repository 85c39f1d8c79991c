// SPDX-License-Identifier: GPL-2.0

//! The FastRPC messages on the rpmsg channel, byte for byte.
//!
//! A request is one 40-byte `fastrpc_msg` (native little-endian layout of
//! arm64); a response is a 16-byte `fastrpc_invoke_rsp` (`u64 ctx`, `i32
//! retval`, 4 bytes of padding). The `ctx` of a request is echoed in its
//! response: bits 3..0 hold the PD type, 15..8 the context index, 63..16 a
//! sequence number that tells a late reply from the current user of the
//! same index.
//!
//! Pure code (no kernel API), also built and tested on the host.

/// Size of a request.
pub(crate) const MSG_SIZE: usize = 40;
/// Size of a response.
pub(crate) const RSP_SIZE: usize = 16;
/// `ctx` of a PD-exit notification from newer firmware (not a reply).
pub(crate) const PD_NOTIFY_CTX: u64 = 0xabcd_abcd;

/// Protection domain types, in the low bits of `ctx`.
pub(crate) const ROOT_PD: u32 = 0;
/// User (dynamic) protection domain.
pub(crate) const USER_PD: u32 = 1;

/// Largest context index (indices are 1..=255).
pub(crate) const MAX_CTX_INDEX: u32 = 255;

/// A request header (`struct fastrpc_msg`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Msg {
    /// Remote session id (0 for kernel-originated calls).
    pub(crate) client_id: i32,
    /// Calling thread id.
    pub(crate) tid: i32,
    /// Context id | PD type.
    pub(crate) ctx: u64,
    /// Remote handle.
    pub(crate) handle: u32,
    /// Scalars.
    pub(crate) sc: u32,
    /// DSP address of the payload (0 if none).
    pub(crate) addr: u64,
    /// Payload size, rounded up to pages.
    pub(crate) size: u64,
}

impl Msg {
    /// The wire bytes.
    pub(crate) fn encode(&self) -> [u8; MSG_SIZE] {
        let mut b = [0u8; MSG_SIZE];
        b[0..4].copy_from_slice(&self.client_id.to_le_bytes());
        b[4..8].copy_from_slice(&self.tid.to_le_bytes());
        b[8..16].copy_from_slice(&self.ctx.to_le_bytes());
        b[16..20].copy_from_slice(&self.handle.to_le_bytes());
        b[20..24].copy_from_slice(&self.sc.to_le_bytes());
        b[24..32].copy_from_slice(&self.addr.to_le_bytes());
        b[32..40].copy_from_slice(&self.size.to_le_bytes());
        b
    }

    /// Parses a request (the simulated DSP's side).
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        if b.len() < MSG_SIZE {
            return None;
        }
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| u64::from(u32_at(o)) | (u64::from(u32_at(o + 4)) << 32);
        Some(Self {
            client_id: u32_at(0) as i32,
            tid: u32_at(4) as i32,
            ctx: u64_at(8),
            handle: u32_at(16),
            sc: u32_at(20),
            addr: u64_at(24),
            size: u64_at(32),
        })
    }
}

/// A response (`struct fastrpc_invoke_rsp`).
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
        let mut b = [0u8; RSP_SIZE];
        b[0..8].copy_from_slice(&self.ctx.to_le_bytes());
        b[8..12].copy_from_slice(&self.retval.to_le_bytes());
        b
    }

    /// Parses a response; `None` if it is too short.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        if b.len() < RSP_SIZE {
            return None;
        }
        let mut ctx = [0u8; 8];
        ctx.copy_from_slice(&b[0..8]);
        Some(Self {
            ctx: u64::from_le_bytes(ctx),
            retval: i32::from_le_bytes([b[8], b[9], b[10], b[11]]),
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
