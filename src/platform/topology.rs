// SPDX-License-Identifier: GPL-2.0

//! Compute context banks (CBs) and the DSP address space.
//!
//! Each `qcom,fastrpc-compute-cb` child of a FastRPC node is one SMMU
//! context: `reg` is its stream id (SID), `qcom,nsessions` how many
//! processes may share it. A process gets one session; its buffers are
//! mapped in that CB's IOMMU domain, and the DSP sees them at
//! `iova | sid << shift`. The shift and how wide an IOVA may be are the
//! SoC's ([`AddrLayout`]): on most SoCs the SID sits at bit 32 above a
//! 32-bit IOVA; on Kaanapali and Glymur at bit 56, with 34-bit IOVAs on
//! the CDSP (see [`crate::platform::soc`]).
//! A CB without `iommus` (sdm845's sdsp) has no SMMU context: DMA on it is
//! direct, the "IOVA" is the bus (physical) address below the DMA mask and
//! the DSP sees that address with the same SID prefix.
//!
//! Pure code (no kernel API), also built and tested on the host.

/// Most sessions one FastRPC channel offers (as `drivers/misc/fastrpc.c`).
pub(crate) const MAX_SESSIONS: usize = 14;

/// Largest SID accepted whatever the layout (SMMU stream ids are 16 bit).
pub(crate) const MAX_SID: u32 = 0xffff;

/// How a DSP address is built: the SID shifted to bit `sid_shift`, or'ed
/// with an IOVA of at most `iova_bits` bits (the CB's DMA mask).
///
/// # Invariants
///
/// `0 < iova_bits <= sid_shift < 64`: the IOVA and the SID never overlap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AddrLayout {
    sid_shift: u32,
    iova_bits: u32,
}

impl AddrLayout {
    /// SID at bit 32 over a 32-bit IOVA: every SoC without SoC data of its
    /// own (`qcom,fastrpc`).
    pub(crate) const DEFAULT: Self = Self {
        sid_shift: 32,
        iova_bits: 32,
    };

    /// The layout with the SID at bit `sid_shift` over `iova_bits`-bit
    /// IOVAs, or `None` if the two would overlap or do not fit 64 bits.
    pub(crate) const fn new(sid_shift: u32, iova_bits: u32) -> Option<Self> {
        if iova_bits == 0 || iova_bits > sid_shift || sid_shift >= 64 {
            return None;
        }
        // INVARIANT: checked just above.
        Some(Self {
            sid_shift,
            iova_bits,
        })
    }

    /// Bit position of the SID.
    pub(crate) const fn sid_shift(self) -> u32 {
        self.sid_shift
    }

    /// Width of an IOVA (the CB's DMA mask), in bits.
    pub(crate) const fn iova_bits(self) -> u32 {
        self.iova_bits
    }

    /// IOVAs handed to the DSP must be below this.
    pub(crate) const fn iova_limit(self) -> u64 {
        1 << self.iova_bits
    }

    /// Largest SID the layout can carry (at most [`MAX_SID`]).
    pub(crate) const fn max_sid(self) -> u32 {
        let bits = 64 - self.sid_shift;
        if bits >= 16 {
            MAX_SID
        } else {
            (1 << bits) - 1
        }
    }

    /// The DSP's view of `iova` in the CB with stream id `sid`, or `None`
    /// if the IOVA is not below [`Self::iova_limit`] or the SID is above
    /// [`Self::max_sid`].
    pub(crate) const fn dsp_addr(self, sid: u32, iova: u64) -> Option<u64> {
        if iova >= self.iova_limit() || sid > self.max_sid() {
            return None;
        }
        Some(((sid as u64) << self.sid_shift) | iova)
    }

    /// Splits a DSP address into its SID and the IOVA below it (the bits
    /// between the IOVA and the SID must be zero for a valid address; they
    /// are returned as part of the IOVA, so [`Self::dsp_addr`] of the
    /// result refuses them).
    pub(crate) const fn split(self, addr: u64) -> (u64, u64) {
        let low = (1u64 << self.sid_shift) - 1;
        (addr >> self.sid_shift, addr & low)
    }
}

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
    /// A SID above what the layout can carry ([`AddrLayout::max_sid`]).
    SidTooLarge(u32),
}

/// Checks a channel's CBs against the channel's address layout and
/// returns the total number of sessions.
pub(crate) fn check_cbs(cbs: &[CbSpec], layout: AddrLayout) -> Result<usize, TopologyError> {
    if cbs.is_empty() {
        return Err(TopologyError::NoContextBanks);
    }
    let mut total = 0usize;
    for (i, cb) in cbs.iter().enumerate() {
        if cb.sid > layout.max_sid() {
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

/// One context bank's window in the DSP's address space: its SID placed
/// as the SoC places it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    /// Stream id (`reg` of the CB node).
    pub(crate) sid: u32,
    /// The channel's address layout.
    pub(crate) layout: AddrLayout,
}

impl Window {
    /// The DSP's view of `iova` in this window (see
    /// [`AddrLayout::dsp_addr`]).
    pub(crate) const fn dsp_addr(self, iova: u64) -> Option<u64> {
        self.layout.dsp_addr(self.sid, iova)
    }
}
