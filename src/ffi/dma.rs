// SPDX-License-Identifier: GPL-2.0

//! DMA-coherent buffers on a context bank's device.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)

use core::{
    ffi::c_void,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    device,
    error::to_result,
    prelude::*,
    sync::aref::ARef, //
};

use super::gem::Vma;

/// A `dma_alloc_attrs()` allocation; freed on drop.
///
/// # Invariants
///
/// `cpu`/`dma` is a live allocation of `size` bytes on `dev`.
pub(crate) struct CoherentBuf {
    dev: ARef<device::Device>,
    cpu: NonNull<c_void>,
    dma: u64,
    size: usize,
}

// SAFETY: the allocation is plain memory usable and freeable from any
// thread; the device is reference counted.
unsafe impl Send for CoherentBuf {}
// SAFETY: `&self` methods do not mutate the allocation.
unsafe impl Sync for CoherentBuf {}

impl CoherentBuf {
    /// Allocates `size` bytes (a multiple of the page size) for `dev`,
    /// mapped in its DMA (IOMMU) domain and zeroed.
    pub(crate) fn new(dev: &device::Device, size: usize) -> Result<Self> {
        let raw = core::ptr::from_ref(dev)
            .cast_mut()
            .cast::<bindings::device>();
        let mut dma = 0u64;
        // SAFETY: `raw` is a valid device with a DMA mask; `dma` is a valid
        // out pointer.
        let cpu = unsafe {
            bindings::dma_alloc_attrs(
                raw,
                size,
                &mut dma,
                bindings::GFP_KERNEL | bindings::__GFP_ZERO,
                0,
            )
        };
        let cpu = NonNull::new(cpu).ok_or(ENOMEM)?;
        // INVARIANT: allocated above.
        Ok(Self {
            dev: dev.into(),
            cpu,
            dma,
            size,
        })
    }

    /// The device (IOMMU virtual) address.
    pub(crate) fn dma_addr(&self) -> u64 {
        self.dma
    }

    /// The buffer's pages as a table (for dma-buf importers).
    pub(crate) fn sg_table(&self) -> Result<super::gem::SgTable> {
        // INVARIANT of `CoherentBuf`: a live allocation on `dev`.
        super::gem::SgTable::for_dma(&self.dev, self.cpu.as_ptr(), self.dma, self.size)
    }

    /// The kernel virtual address of the buffer.
    pub(crate) fn vaddr(&self) -> NonNull<c_void> {
        self.cpu
    }

    /// Maps the buffer into a user mapping (cached for coherent devices).
    pub(crate) fn mmap(&self, vma: &Vma) -> Result {
        let raw = core::ptr::from_ref(&*self.dev)
            .cast_mut()
            .cast::<bindings::device>();
        // SAFETY: by the invariant the allocation is live; `vma` is being
        // set up by mmap. `dma_mmap_attrs` checks offset and size against
        // the buffer (-ENXIO past the end).
        to_result(unsafe {
            bindings::dma_mmap_attrs(raw, vma.as_raw(), self.cpu.as_ptr(), self.dma, self.size, 0)
        })
    }
}

impl Drop for CoherentBuf {
    fn drop(&mut self) {
        let raw = core::ptr::from_ref(&*self.dev)
            .cast_mut()
            .cast::<bindings::device>();
        // SAFETY: by the invariant this is a live allocation on `dev`.
        unsafe { bindings::dma_free_attrs(raw, self.size, self.cpu.as_ptr(), self.dma, 0) };
    }
}
