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

use kernel::mm::virt::VmaNew;

use super::of::NoMapRegion;

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
    attrs: usize,
}

// SAFETY: the allocation is plain memory usable and freeable from any
// thread; the device is reference counted.
unsafe impl Send for CoherentBuf {}
// SAFETY: `&self` methods do not mutate the allocation.
unsafe impl Sync for CoherentBuf {}

/// Not a DMA attribute: asks [`CoherentBuf::with_attrs`] to charge the
/// pages to the caller's memory cgroup (`__GFP_ACCOUNT`).
const ACCOUNTED: usize = 1 << (usize::BITS - 1);

impl CoherentBuf {
    /// Allocates `size` bytes (a multiple of the page size) for `dev`,
    /// mapped in its DMA (IOMMU) domain and zeroed.
    pub(crate) fn new(dev: &device::Device, size: usize) -> Result<Self> {
        Self::with_attrs(dev, size, 0)
    }

    /// Like [`CoherentBuf::new`], for memory a user asked for: its pages
    /// are charged to the calling task's memory cgroup.
    pub(crate) fn new_accounted(dev: &device::Device, size: usize) -> Result<Self> {
        Self::with_attrs(dev, size, ACCOUNTED)
    }

    /// Like [`CoherentBuf::new`], physically contiguous: from the device's
    /// CMA area if it has one.
    pub(crate) fn new_contiguous(dev: &device::Device, size: usize) -> Result<Self> {
        Self::with_attrs(dev, size, bindings::DMA_ATTR_FORCE_CONTIGUOUS as usize)
    }

    fn with_attrs(dev: &device::Device, size: usize, attrs: usize) -> Result<Self> {
        let raw = core::ptr::from_ref(dev)
            .cast_mut()
            .cast::<bindings::device>();
        let mut dma = 0u64;
        let mut gfp = bindings::GFP_KERNEL | bindings::__GFP_ZERO;
        if attrs & ACCOUNTED != 0 {
            // SAFETY: returns a constant.
            gfp |= unsafe { super::sys::qda_gfp_account() };
        }
        let attrs = attrs & !ACCOUNTED;
        if attrs & bindings::DMA_ATTR_FORCE_CONTIGUOUS as usize != 0 {
            // A contiguous request may exhaust its CMA area; the caller
            // handles that, the page allocator must not warn about it.
            gfp |= bindings::__GFP_NOWARN;
        }
        // SAFETY: `raw` is a valid device with a DMA mask; `dma` is a valid
        // out pointer.
        let cpu = unsafe { bindings::dma_alloc_attrs(raw, size, &mut dma, gfp, attrs) };
        let cpu = NonNull::new(cpu).ok_or(ENOMEM)?;
        // INVARIANT: allocated above.
        Ok(Self {
            dev: dev.into(),
            cpu,
            dma,
            size,
            attrs,
        })
    }

    /// The device (IOMMU virtual) address.
    pub(crate) fn dma_addr(&self) -> u64 {
        self.dma
    }

    /// Size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The buffer's pages as a table (for dma-buf importers).
    pub(crate) fn sg_table(&self) -> Result<super::gem::SgTable> {
        // SAFETY: by the invariant of `CoherentBuf`, a live allocation of
        // `size` bytes on `dev` with `attrs`; the exporter drops the table
        // before the buffer (it holds a reference to the buffer's owner).
        unsafe {
            super::gem::SgTable::for_dma(
                &self.dev,
                self.cpu.as_ptr(),
                self.dma,
                self.size,
                self.attrs,
            )
        }
    }

    /// The kernel virtual address of the buffer.
    pub(crate) fn vaddr(&self) -> NonNull<c_void> {
        self.cpu
    }

    /// The DMA address of byte `off`, if `len` bytes fit there.
    fn at(&self, off: usize, len: usize) -> Result<*mut u8> {
        if off.checked_add(len).is_none_or(|end| end > self.size) {
            return Err(EINVAL);
        }
        // SAFETY: by the invariant `cpu` maps `size` bytes; `off` is inside.
        Ok(unsafe { self.cpu.as_ptr().cast::<u8>().add(off) })
    }

    // The device (a possibly hostile DSP) may write the buffer at any time,
    // so the CPU never holds a reference into it: every access below is a
    // raw copy. A concurrent device write only changes the bytes copied.

    /// Zeroes the whole buffer.
    pub(crate) fn zero(&mut self) {
        // SAFETY: by the invariant `cpu` maps `size` writable bytes.
        unsafe { core::ptr::write_bytes(self.cpu.as_ptr().cast::<u8>(), 0, self.size) };
    }

    /// Copies `src` to byte `off`.
    pub(crate) fn write(&mut self, off: usize, src: &[u8]) -> Result {
        let dst = self.at(off, src.len())?;
        // SAFETY: `dst` has room for `src` (checked by `at`); a kernel
        // slice never overlaps the DMA buffer.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
        Ok(())
    }

    /// Copies bytes from byte `off` into `dst`.
    pub(crate) fn read(&self, off: usize, dst: &mut [u8]) -> Result {
        let src = self.at(off, dst.len())?;
        // SAFETY: `src` holds `dst.len()` bytes (checked by `at`).
        unsafe { core::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
        Ok(())
    }

    /// Copies `len` bytes of user memory at `user` to byte `off`.
    pub(crate) fn write_from_user(&mut self, off: usize, user: u64, len: usize) -> Result {
        let dst = self.at(off, len)?;
        // SAFETY: `dst` has room for `len` bytes (checked by `at`);
        // `copy_from_user` checks the user range and faults cleanly.
        let left = unsafe { bindings::copy_from_user(dst.cast(), user as *const c_void, len) };
        if left != 0 {
            return Err(EFAULT);
        }
        Ok(())
    }

    /// Copies `len` bytes from byte `off` to user memory at `user`.
    pub(crate) fn read_to_user(&self, off: usize, user: u64, len: usize) -> Result {
        let src = self.at(off, len)?;
        // SAFETY: `src` holds `len` bytes (checked by `at`); `copy_to_user`
        // checks the user range and faults cleanly.
        let left = unsafe { bindings::copy_to_user(user as *mut c_void, src.cast(), len) };
        if left != 0 {
            return Err(EFAULT);
        }
        Ok(())
    }

    /// Maps the buffer into a user mapping (cached for coherent devices).
    pub(crate) fn mmap(&self, vma: &VmaNew) -> Result {
        let raw = core::ptr::from_ref(&*self.dev)
            .cast_mut()
            .cast::<bindings::device>();
        // SAFETY: by the invariant the allocation is live; `vma` is being
        // set up by mmap. `dma_mmap_attrs` checks offset and size against
        // the buffer (-ENXIO past the end).
        to_result(unsafe {
            bindings::dma_mmap_attrs(
                raw,
                vma.as_ptr(),
                self.cpu.as_ptr(),
                self.dma,
                self.size,
                self.attrs,
            )
        })
    }
}

impl Drop for CoherentBuf {
    fn drop(&mut self) {
        let raw = core::ptr::from_ref(&*self.dev)
            .cast_mut()
            .cast::<bindings::device>();
        // SAFETY: by the invariant this is a live allocation on `dev`.
        // Freed with the attributes it was allocated with (DMA-API
        // debugging checks this).
        unsafe {
            bindings::dma_free_attrs(raw, self.size, self.cpu.as_ptr(), self.dma, self.attrs)
        };
    }
}

/// Physical memory without `struct page`s (part of a `no-map` carve-out)
/// mapped into a device's DMA domain with `dma_map_resource()`; unmapped
/// on drop with the same direction.
///
/// For a device that is not `dma-coherent`, the memory is zeroed through a
/// write-combined kernel mapping and mapped write-combined to userspace,
/// so that neither side leaves data in CPU caches the device cannot see.
///
/// # Invariants
///
/// `iova` maps `size` bytes at `phys` on `dev`, bidirectionally; the range
/// lies inside a [`NoMapRegion`].
pub(crate) struct ResourceMapping {
    dev: ARef<device::Device>,
    phys: u64,
    iova: u64,
    size: usize,
    coherent: bool,
}

impl ResourceMapping {
    /// Zeroes `size` bytes at `offset` in `region` (whole pages, inside it)
    /// through a temporary kernel mapping, then maps them for `dev`.
    pub(crate) fn new_zeroed(
        dev: &device::Device,
        region: &NoMapRegion,
        offset: u64,
        size: usize,
    ) -> Result<Self> {
        let page = bindings::PAGE_SIZE as u64;
        let len = size as u64;
        let end = offset.checked_add(len).ok_or(EINVAL)?;
        if size == 0 || offset % page != 0 || len % page != 0 || end > region.size() {
            return Err(EINVAL);
        }
        let phys = region.base() + offset;
        let raw = core::ptr::from_ref(dev)
            .cast_mut()
            .cast::<bindings::device>();
        // SAFETY: `raw` is a valid device.
        let coherent = unsafe { super::sys::qda_dev_is_dma_coherent(raw) };
        let caching = if coherent {
            super::phys::Caching::WriteBack
        } else {
            super::phys::Caching::WriteCombined
        };
        // SAFETY: the range lies inside a `no-map` reservation (checked
        // above), which nothing else in the kernel maps or uses.
        unsafe { super::phys::zero(phys, size, caching)? };
        // SAFETY: `raw` is a valid device; the range is checked above.
        let iova = unsafe {
            bindings::dma_map_resource(
                raw,
                phys,
                size,
                bindings::dma_data_direction::DMA_BIDIRECTIONAL,
                0,
            )
        };
        // SAFETY: checks the mapping just made, as DMA-API debugging requires.
        if unsafe { super::sys::qda_dma_mapping_error(raw, iova) } != 0 {
            return Err(ENOMEM);
        }
        // INVARIANT: mapped above, inside `region`.
        Ok(Self {
            dev: dev.into(),
            phys,
            iova,
            size,
            coherent,
        })
    }

    /// The device address.
    pub(crate) fn iova(&self) -> u64 {
        self.iova
    }

    /// Maps the memory into a user mapping (bounds checked by the kernel),
    /// write-combined for a device that is not `dma-coherent`.
    pub(crate) fn mmap(&self, vma: &VmaNew) -> Result {
        // SAFETY: `vma` is being set up by mmap (its protection may still
        // change); `vm_iomap_memory` checks that the mapping (with its
        // offset) fits in the range.
        unsafe {
            if !self.coherent {
                super::sys::qda_vma_set_writecombine(vma.as_ptr());
            }
            to_result(bindings::vm_iomap_memory(
                vma.as_ptr(),
                self.phys,
                self.size,
            ))
        }
    }
}

impl Drop for ResourceMapping {
    fn drop(&mut self) {
        let raw = core::ptr::from_ref(&*self.dev)
            .cast_mut()
            .cast::<bindings::device>();
        // SAFETY: by the invariant; same size and direction as mapped.
        unsafe {
            bindings::dma_unmap_resource(
                raw,
                self.iova,
                self.size,
                bindings::dma_data_direction::DMA_BIDIRECTIONAL,
                0,
            )
        };
    }
}
