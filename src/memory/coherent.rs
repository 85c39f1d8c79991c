// SPDX-License-Identifier: GPL-2.0

//! DMA-coherent backend: memory allocated with `dma_alloc_coherent()` on
//! the process's context-bank device, so the DMA API maps it in that CB's
//! IOMMU domain (and nowhere else).

use core::{
    ffi::c_void,
    ptr::NonNull, //
};
use kernel::{
    mm::virt::VmaNew,
    prelude::*,
    sync::Arc, //
};

use super::{
    Backend,
    Memory, //
};
use crate::{
    ffi::{
        dma::CoherentBuf,
        gem::SgTable, //
    },
    platform::context_bank::ContextBank, //
};

/// The DMA-coherent backend (stateless: the CB device is the allocator).
pub(crate) struct CoherentBackend;

/// A DMA allocation on a CB device; keeps its CB (and IOMMU domain)
/// alive. Also used by the CMA backend.
pub(super) struct CoherentMemory {
    buf: CoherentBuf,
    _cb: Arc<ContextBank>,
}

impl CoherentMemory {
    /// `buf`, allocated on `cb`'s device, as a backend allocation.
    pub(super) fn boxed(buf: CoherentBuf, cb: &Arc<ContextBank>) -> Result<KBox<dyn Memory>> {
        let mem: KBox<dyn Memory> = KBox::new(
            Self {
                buf,
                _cb: cb.clone(),
            },
            GFP_KERNEL,
        )?;
        Ok(mem)
    }
}

impl Memory for CoherentMemory {
    fn iova(&self) -> u64 {
        self.buf.dma_addr()
    }

    fn mmap(&self, vma: &VmaNew) -> Result {
        self.buf.mmap(vma)
    }

    fn sg_table(&self) -> Result<SgTable> {
        self.buf.sg_table()
    }

    fn vaddr(&self) -> Option<NonNull<c_void>> {
        Some(self.buf.vaddr())
    }
}

impl Backend for CoherentBackend {
    fn kind(&self) -> u32 {
        super::kind::COHERENT
    }

    fn alloc(&self, cb: &Arc<ContextBank>, size: usize) -> Result<KBox<dyn Memory>> {
        CoherentMemory::boxed(CoherentBuf::new_accounted(cb.dev.as_ref(), size)?, cb)
    }
}
