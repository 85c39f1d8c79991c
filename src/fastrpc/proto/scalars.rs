// SPDX-License-Identifier: GPL-2.0

//! FastRPC scalars: a method id and argument counts in one `u32`.
//!
//! Bits 31..29 attributes, 28..24 method, 23..16 input buffers, 15..8
//! output buffers, 7..4 input handles, 3..0 output handles. Arguments are
//! ordered `[in buffers][out buffers][in handles][out handles]`.
//!
//! Pure code (no kernel API), also built and tested on the host.

/// Encoded scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scalars(pub(crate) u32);

impl Scalars {
    /// `FASTRPC_BUILD_SCALARS(attr, method, in, out, in_handles, out_handles)`.
    pub(crate) const fn build(
        attr: u32,
        method: u32,
        inbufs: u32,
        outbufs: u32,
        inh: u32,
        outh: u32,
    ) -> Self {
        Self(
            ((attr & 0x7) << 29)
                | ((method & 0x1f) << 24)
                | ((inbufs & 0xff) << 16)
                | ((outbufs & 0xff) << 8)
                | ((inh & 0xf) << 4)
                | (outh & 0xf),
        )
    }

    /// `FASTRPC_SCALARS(method, in, out)`.
    pub(crate) const fn new(method: u32, inbufs: u32, outbufs: u32) -> Self {
        Self::build(0, method, inbufs, outbufs, 0, 0)
    }

    /// The method id.
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) const fn method(self) -> u32 {
        (self.0 >> 24) & 0x1f
    }

    /// Input buffers.
    pub(crate) const fn inbufs(self) -> usize {
        ((self.0 >> 16) & 0xff) as usize
    }

    /// Output buffers.
    pub(crate) const fn outbufs(self) -> usize {
        ((self.0 >> 8) & 0xff) as usize
    }

    /// Input handles.
    pub(crate) const fn in_handles(self) -> usize {
        ((self.0 >> 4) & 0xf) as usize
    }

    /// Output handles.
    pub(crate) const fn out_handles(self) -> usize {
        (self.0 & 0xf) as usize
    }

    /// Buffers (in + out).
    pub(crate) const fn buffers(self) -> usize {
        self.inbufs() + self.outbufs()
    }

    /// All arguments (`REMOTE_SCALARS_LENGTH`), at most 540.
    pub(crate) const fn len(self) -> usize {
        self.buffers() + self.in_handles() + self.out_handles()
    }
}
