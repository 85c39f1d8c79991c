// SPDX-License-Identifier: GPL-2.0

//! Carve-out backend: memory from the DSP's `no-map` reserved region.
//!
//! The region has no kernel mapping and no `struct page`s. A first-fit
//! page bitmap ([`super::page_bitmap`]) hands out runs of pages; each
//! allocation is zeroed through a temporary kernel mapping (buffers never
//! carry another process's data), then mapped into the process's CB domain
//! with `dma_map_resource()`. User mappings map the physical range
//! directly. Carve-out buffers cannot be exported as dma-bufs (importers
//! need pages).

use core::{
    ffi::c_void,
    ptr::NonNull, //
};
use kernel::{
    mm::virt::VmaNew,
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    }, //
};

use super::{
    page_bitmap,
    Backend,
    Memory,
    PAGE_SIZE, //
};
use crate::{
    ffi::{
        dma::ResourceMapping,
        gem::SgTable,
        of::NoMapRegion, //
    },
    platform::context_bank::ContextBank, //
};

/// Largest alignment (in pages) given to an allocation: 64 KiB, so that
/// large buffers can use large IOMMU pages.
const MAX_ALIGN_PAGES: usize = 16;

/// The pages of a carve-out and which are in use.
#[pin_data]
pub(crate) struct CarveoutPool {
    region: NoMapRegion,
    pages: usize,
    #[pin]
    map: Mutex<KVec<u64>>,
}

/// The carve-out backend of one DSP.
pub(crate) struct CarveoutBackend {
    pool: Arc<CarveoutPool>,
}

/// A run of carve-out pages mapped in a CB's domain.
struct CarveoutMemory {
    mapping: Option<ResourceMapping>,
    start: usize,
    count: usize,
    pool: Arc<CarveoutPool>,
    _cb: Arc<ContextBank>,
}

impl CarveoutBackend {
    /// A backend for the carve-out `region`.
    pub(crate) fn new(region: NoMapRegion) -> Result<Self> {
        let pages = usize::try_from(region.size() / PAGE_SIZE).map_err(|_| EINVAL)?;
        let mut words = KVec::with_capacity(page_bitmap::words_for(pages), GFP_KERNEL)?;
        for _ in 0..page_bitmap::words_for(pages) {
            words.push(0u64, GFP_KERNEL)?;
        }
        Ok(Self {
            pool: Arc::pin_init(
                pin_init!(CarveoutPool {
                    region,
                    pages,
                    map <- new_mutex!(words),
                }),
                GFP_KERNEL,
            )?,
        })
    }

    /// `(base, size)` of the region.
    pub(crate) fn pool(&self) -> (u64, u64) {
        (self.pool.region.base(), self.pool.pages as u64 * PAGE_SIZE)
    }
}

impl Backend for CarveoutBackend {
    fn kind(&self) -> u32 {
        super::kind::CARVEOUT
    }

    fn alloc(&self, cb: &Arc<ContextBank>, size: usize) -> Result<KBox<dyn Memory>> {
        let count = size.div_ceil(PAGE_SIZE as usize);
        let align = count.next_power_of_two().min(MAX_ALIGN_PAGES);
        let start = {
            let mut map = self.pool.map.lock();
            page_bitmap::alloc(&mut map, self.pool.pages, count, align).ok_or(ENOMEM)?
        };
        let mut mem = CarveoutMemory {
            mapping: None,
            start,
            count,
            pool: self.pool.clone(),
            _cb: cb.clone(),
        };
        let offset = start as u64 * PAGE_SIZE;
        let size = count * PAGE_SIZE as usize;
        // On failure `mem`'s drop returns the pages.
        mem.mapping = Some(ResourceMapping::new_zeroed(
            cb.dev.as_ref(),
            &self.pool.region,
            offset,
            size,
        )?);
        let mem: KBox<dyn Memory> = KBox::new(mem, GFP_KERNEL)?;
        Ok(mem)
    }
}

impl Memory for CarveoutMemory {
    fn iova(&self) -> u64 {
        self.mapping.as_ref().map_or(0, ResourceMapping::iova)
    }

    fn mmap(&self, vma: &VmaNew) -> Result {
        self.mapping.as_ref().ok_or(EINVAL)?.mmap(vma)
    }

    fn sg_table(&self) -> Result<SgTable> {
        Err(EOPNOTSUPP)
    }

    fn vaddr(&self) -> Option<NonNull<c_void>> {
        None
    }

    fn exportable(&self) -> bool {
        false
    }
}

impl Drop for CarveoutMemory {
    fn drop(&mut self) {
        // Unmap from the CB before the pages can be handed out again.
        drop(self.mapping.take());
        let mut map = self.pool.map.lock();
        if page_bitmap::free(&mut map, self.pool.pages, self.start, self.count).is_err() {
            pr_err!(
                "carve-out: pages {}+{} were not in use\n",
                self.start,
                self.count
            );
        }
    }
}
