// SPDX-License-Identifier: GPL-2.0

//! The whole of a reusable (`shared-dma-pool`) reserved-memory region,
//! taken from its CMA area so that the kernel never lends its pages to
//! anybody else while a DSP owns them.
//!
//! C header: [`include/linux/cma.h`](srctree/include/linux/cma.h)

use core::ptr::NonNull;
use kernel::{
    bindings,
    device::property::FwNode,
    prelude::*, //
};

use super::{
    guarded::DeviceMemory,
    sys, //
};

/// Every page of one CMA region, allocated; released on drop.
///
/// # Invariants
///
/// `pages` is the first of `count` pages `cma_alloc` returned from `cma`,
/// not yet released; `cma` is a CMA area, which lives forever.
pub(crate) struct WholeCmaRegion {
    cma: NonNull<sys::cma>,
    pages: NonNull<bindings::page>,
    count: usize,
    base: u64,
    size: u64,
}

// SAFETY: the allocation is plain memory owned by this value; CMA areas
// may be released from any thread.
unsafe impl Send for WholeCmaRegion {}
// SAFETY: `&self` only reads plain fields.
unsafe impl Sync for WholeCmaRegion {}

impl WholeCmaRegion {
    /// Takes every page of the reusable `shared-dma-pool` region `node`.
    /// `-EINVAL` if `node` is not such a region, `-ENOMEM` if its pages
    /// cannot all be had (or do not start at the region's base).
    pub(crate) fn take(node: &FwNode) -> Result<Self> {
        let reusable = node.property_read_bool(c"reusable") && !node.property_read_bool(c"no-map");
        if !reusable
            || node
                .property_match_string(c"compatible", c"shared-dma-pool")
                .is_err()
        {
            return Err(EINVAL);
        }
        let np = super::of::device_node(node)?;
        // SAFETY: `np` is a valid DT node; table entries live forever.
        let rmem = unsafe { sys::of_reserved_mem_lookup(np) };
        if rmem.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: non-NULL entries of the reserved-memory table are valid.
        // A reusable, not no-map `shared-dma-pool` entry is set up only by
        // the CMA code, whose `priv` is its `struct cma` (or NULL when that
        // setup failed).
        let (base, size, cma) = unsafe { ((*rmem).base, (*rmem).size, (*rmem).priv_) };
        let cma = NonNull::new(cma.cast::<sys::cma>()).ok_or(EINVAL)?;
        let count = usize::try_from(size / kernel::page::PAGE_SIZE as u64).map_err(|_| EINVAL)?;
        // SAFETY: `cma` is a CMA area (above); any count is allowed.
        let pages =
            unsafe { sys::cma_alloc(cma.as_ptr(), count as kernel::ffi::c_ulong, 0, false) };
        let pages = NonNull::new(pages).ok_or(ENOMEM)?;
        let region = Self {
            cma,
            pages,
            count,
            base,
            size,
        };
        // SAFETY: `pages` is a valid page.
        if unsafe { sys::qda_page_to_phys(pages.as_ptr()) } != base {
            // Dropping `region` gives the pages back.
            return Err(ENOMEM);
        }
        Ok(region)
    }

    /// Zeroes every page (through the kernel's direct map: the pages are
    /// RAM, which may not be aliased write-combined).
    pub(crate) fn zero(&mut self) -> Result {
        let size = usize::try_from(self.size).map_err(|_| EINVAL)?;
        // SAFETY: by the invariant the pages are ours, allocated from the
        // CMA area and not released; `&mut self` excludes other writers.
        unsafe { super::phys::zero(self.base, size, super::phys::Caching::WriteBack) }
    }
}

// SAFETY: by the invariant the pages are this value's, allocated from
// the CMA area and released only on drop: no other kernel or Rust object
// lives in them meanwhile, nor after a leak.
unsafe impl DeviceMemory for WholeCmaRegion {
    fn range(&self) -> (u64, u64) {
        (self.base, self.size)
    }
}

impl Drop for WholeCmaRegion {
    fn drop(&mut self) {
        // SAFETY: by the invariant these pages came from `cma_alloc` on
        // `cma` and were not released yet.
        unsafe {
            sys::cma_release(
                self.cma.as_ptr(),
                self.pages.as_ptr(),
                self.count as kernel::ffi::c_ulong,
            )
        };
    }
}
