// SPDX-License-Identifier: GPL-2.0

//! CMA backend: physically contiguous memory from the DSP's
//! `shared-dma-pool` (reusable) region.
//!
//! At probe the region is assigned to every context bank of the DSP, so a
//! contiguous DMA allocation on a CB device comes from that CMA area and is
//! mapped in the CB's IOMMU domain. The DMA layer silently falls back to
//! other memory when the area is exhausted; the backend checks where the
//! pages landed and fails with `-ENOMEM` instead, so a CMA buffer is always
//! in the pool.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use super::{
    coherent::CoherentMemory,
    Backend,
    Memory, //
};
use crate::{
    ffi::dma::CoherentBuf,
    platform::context_bank::ContextBank, //
};

/// The CMA backend of one DSP.
pub(crate) struct CmaBackend {
    base: u64,
    size: u64,
}

impl CmaBackend {
    /// A backend for the CMA area at `base`, `size` bytes.
    pub(crate) fn new(base: u64, size: u64) -> Self {
        Self { base, size }
    }

    /// `(base, size)` of the pool.
    pub(crate) fn pool(&self) -> (u64, u64) {
        (self.base, self.size)
    }
}

impl Backend for CmaBackend {
    fn kind(&self) -> u32 {
        super::kind::CMA
    }

    fn alloc(&self, cb: &Arc<ContextBank>, size: usize) -> Result<KBox<dyn Memory>> {
        let buf = CoherentBuf::new_contiguous(cb.dev.as_ref(), size)?;
        let phys = cb.dev.iova_to_phys(buf.dma_addr());
        let end = phys.checked_add(size as u64).ok_or(ENOMEM)?;
        if phys < self.base || end > self.base + self.size {
            // Fallback pages: not what was asked for. A user can cause
            // this, so the line is at debug level and names no physical
            // address.
            crate::ratelimit::dev_ratelimited!(
                debug,
                cb.dev.as_ref(),
                "CMA pool of {} bytes exhausted (a {} byte buffer landed outside it)\n",
                self.size,
                size
            );
            return Err(ENOMEM);
        }
        CoherentMemory::boxed(buf, cb)
    }
}
