// SPDX-License-Identifier: GPL-2.0

//! Compute context banks (CBs) and the DSP address space.
//!
//! Each `qcom,fastrpc-compute-cb` child of a FastRPC node is one SMMU
//! context: `reg` is its stream id (SID), `qcom,nsessions` how many
//! processes may share it. A process gets one session; its buffers are
//! mapped in that CB's IOMMU domain below 4 GiB, and the DSP sees them at
//! `iova | sid << 32`. A CB without `iommus` (sdm845's sdsp) has no SMMU
//! context: DMA on it is direct, the "IOVA" is the bus (physical) address
//! below 4 GiB and the DSP sees that address with the same SID prefix.
//!
//! Pure code (no kernel API), also built and tested on the host.

/// Most sessions one FastRPC channel offers (as `drivers/misc/fastrpc.c`).
pub(crate) const MAX_SESSIONS: usize = 14;

/// Largest SID accepted: the SID lands in bits 32.. of a DSP address.
pub(crate) const MAX_SID: u32 = 0xffff;

/// IOVAs handed to the DSP must fit below this (the CB DMA mask is 32 bit).
pub(crate) const IOVA_LIMIT: u64 = 1 << 32;

/// One context bank as described by the device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CbSpec {
    /// Stream id (`reg`).
    pub(crate) sid: u32,
    /// Processes that may share this CB (`qcom,nsessions`, default 1).
    pub(crate) nsessions: u32,
    /// The CB is cache coherent (`dma-coherent`).
    pub(crate) coherent: bool,
    /// The CB sits behind an SMMU (`iommus`); without, the DSP reaches
    /// physical memory directly and nothing isolates its processes.
    pub(crate) smmu: bool,
}

/// Why a set of context banks is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TopologyError {
    /// No `qcom,fastrpc-compute-cb` child at all.
    NoContextBanks,
    /// The CBs add up to more than [`MAX_SESSIONS`] sessions.
    TooManySessions(usize),
    /// Two CBs claim the same SID.
    DuplicateSid(u32),
    /// A CB with `qcom,nsessions = <0>`.
    ZeroSessions(u32),
    /// A SID above [`MAX_SID`].
    SidTooLarge(u32),
}

/// Checks a channel's CBs and returns the total number of sessions.
pub(crate) fn check_cbs(cbs: &[CbSpec]) -> Result<usize, TopologyError> {
    if cbs.is_empty() {
        return Err(TopologyError::NoContextBanks);
    }
    let mut total = 0usize;
    for (i, cb) in cbs.iter().enumerate() {
        if cb.sid > MAX_SID {
            return Err(TopologyError::SidTooLarge(cb.sid));
        }
        if cb.nsessions == 0 {
            return Err(TopologyError::ZeroSessions(cb.sid));
        }
        if cbs[..i].iter().any(|o| o.sid == cb.sid) {
            return Err(TopologyError::DuplicateSid(cb.sid));
        }
        total = total.saturating_add(cb.nsessions as usize);
    }
    if total > MAX_SESSIONS {
        return Err(TopologyError::TooManySessions(total));
    }
    Ok(total)
}

/// The DSP's view of `iova` in the CB with stream id `sid`, or `None` if
/// the IOVA does not fit below [`IOVA_LIMIT`] or the SID is too large.
pub(crate) fn dsp_addr(sid: u32, iova: u64) -> Option<u64> {
    if iova >= IOVA_LIMIT || sid > MAX_SID {
        return None;
    }
    Some((u64::from(sid) << 32) | iova)
}
