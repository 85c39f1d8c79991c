// SPDX-License-Identifier: GPL-2.0

//! The memory manager: where the pages of a buffer object come from.
//!
//! A [`Backend`] allocates [`Memory`] for a process's context bank, mapped
//! in that CB's IOMMU domain below 4 GiB. Backends:
//!
//! - [`coherent`]: DMA-coherent memory allocated on the CB device itself
//!   (the default for `DRM_IOCTL_QDA_GEM_CREATE`).
//! - [`cma`]: physically contiguous memory from the DSP's `"apps-cma"`
//!   region (a reusable `shared-dma-pool`), when its FastRPC node names one.
//! - [`carveout`]: memory from the DSP's `"apps-carveout"` region (`no-map`),
//!   when its FastRPC node names one.
//! - [`imported`]: a foreign dma-buf attached to the CB device (PRIME
//!   import).
//!
//! The `"remote-heap"` region is never a pool: it belongs to the DSP's
//! static PDs (see [`crate::platform::remote_heap`]).
//!
//! Policy: `DRM_IOCTL_QDA_GEM_CREATE` allocates DMA-coherent memory;
//! `DRM_IOCTL_QDA_GEM_CREATE_EX` names the backend ([`kind`], 0 for the
//! default) and fails with `-ENODEV` if the DSP has no such region.
//!
//! The manager counts live allocations and bytes per backend; debugfs
//! `qda/<dsp>/memory` shows them, so tests can check that nothing leaks.

pub(crate) mod carveout;
pub(crate) mod charge;
pub(crate) mod cma;
pub(crate) mod coherent;
pub(crate) mod imported;
pub(crate) mod limits;
pub(crate) mod page_bitmap;

use core::{
    ffi::c_void,
    ptr::NonNull,
    sync::atomic::{
        AtomicUsize,
        Ordering, //
    }, //
};
use kernel::{
    mm::virt::VmaNew,
    prelude::*,
    sync::Arc, //
};

use crate::{
    ffi::{
        dmabuf::{
            Attachment,
            DmaBuf, //
        },
        gem::SgTable,
        of::NoMapRegion, //
    },
    platform::context_bank::ContextBank, //
};

/// The memory kinds (backends), as numbered on the accel UAPI
/// (`QDA_MEM_*`, checked there); 0 asks for the default.
pub(crate) mod kind {
    /// DMA-coherent memory of the CB device (the default).
    pub(crate) const COHERENT: u32 = 1;
    /// Contiguous memory from the apps CMA region.
    pub(crate) const CMA: u32 = 2;
    /// Memory from the apps carve-out.
    pub(crate) const CARVEOUT: u32 = 3;
    /// A foreign dma-buf.
    pub(crate) const IMPORTED: u32 = 4;
}

/// Largest buffer object: IOVAs of a CB must stay below 4 GiB.
pub(crate) const MAX_BO_SIZE: u64 = 1 << 30;

/// Page size of the CPU and of the SMMU mappings.
pub(crate) const PAGE_SIZE: u64 = kernel::page::PAGE_SIZE as u64;

/// Checks a requested buffer size and rounds it up to pages:
/// `-EINVAL` for 0, `-E2BIG` above [`MAX_BO_SIZE`].
pub(crate) fn bo_size(requested: u64) -> Result<usize> {
    if requested == 0 {
        return Err(EINVAL);
    }
    if requested > MAX_BO_SIZE {
        return Err(E2BIG);
    }
    let pages = requested.div_ceil(PAGE_SIZE);
    usize::try_from(pages * PAGE_SIZE).map_err(|_| E2BIG)
}

/// Memory given to one buffer object.
pub(crate) trait Memory: Send + Sync {
    /// The IOVA of the memory in its CB's domain.
    fn iova(&self) -> u64;

    /// Maps the memory into a user mapping (offsets relative to the start).
    fn mmap(&self, vma: &VmaNew) -> Result;

    /// The pages as a table, for importers of a PRIME export.
    fn sg_table(&self) -> Result<SgTable>;

    /// A kernel virtual address of the memory, if it has one.
    fn vaddr(&self) -> Option<NonNull<c_void>>;

    /// Whether the memory can be shared as a dma-buf (importers need
    /// `struct page`s).
    fn exportable(&self) -> bool {
        true
    }

    /// The dma-buf attachment of imported memory.
    fn attachment(&self) -> Option<&Attachment> {
        None
    }
}

/// A source of [`Memory`].
pub(crate) trait Backend: Send + Sync {
    /// The [`kind`] of this backend.
    fn kind(&self) -> u32;

    /// Allocates `size` bytes (page multiple) mapped in `cb`'s domain.
    fn alloc(&self, cb: &Arc<ContextBank>, size: usize) -> Result<KBox<dyn Memory>>;
}

/// Live allocations and bytes of one backend.
#[derive(Default)]
pub(crate) struct Usage {
    allocations: AtomicUsize,
    bytes: AtomicUsize,
}

impl Usage {
    /// `(allocations, bytes)` now.
    pub(crate) fn get(&self) -> (usize, usize) {
        (
            self.allocations.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// A buffer's memory, accounted to its backend until dropped.
pub(crate) struct Accounted {
    mem: KBox<dyn Memory>,
    kind: u32,
    size: usize,
    usage: Arc<Usage>,
}

impl Accounted {
    /// The backend kind ([`kind`]).
    pub(crate) fn kind(&self) -> u32 {
        self.kind
    }

    /// The memory.
    pub(crate) fn memory(&self) -> &dyn Memory {
        &*self.mem
    }
}

impl Drop for Accounted {
    fn drop(&mut self) {
        self.usage.allocations.fetch_sub(1, Ordering::Relaxed);
        self.usage.bytes.fetch_sub(self.size, Ordering::Relaxed);
    }
}

impl Usage {
    /// Accounts `mem` of `size` bytes of backend `kind` to `usage`.
    fn account(usage: &Arc<Self>, kind: u32, mem: KBox<dyn Memory>, size: usize) -> Accounted {
        usage.allocations.fetch_add(1, Ordering::Relaxed);
        usage.bytes.fetch_add(size, Ordering::Relaxed);
        Accounted {
            mem,
            kind,
            size,
            usage: usage.clone(),
        }
    }
}

/// A backend and its usage.
struct Accounting<B> {
    backend: B,
    usage: Arc<Usage>,
}

impl<B: Backend> Accounting<B> {
    fn new(backend: B) -> Result<Self> {
        Ok(Self {
            backend,
            usage: Arc::new(Usage::default(), GFP_KERNEL)?,
        })
    }

    fn alloc(&self, cb: &Arc<ContextBank>, size: usize) -> Result<Accounted> {
        let mem = self.backend.alloc(cb, size)?;
        Ok(Usage::account(&self.usage, self.backend.kind(), mem, size))
    }
}

/// The backends of one DSP and their usage.
pub(crate) struct MemoryManager {
    coherent: Accounting<coherent::CoherentBackend>,
    cma: Option<Accounting<cma::CmaBackend>>,
    carveout: Option<Accounting<carveout::CarveoutBackend>>,
    imported_usage: Arc<Usage>,
}

impl MemoryManager {
    /// A manager with the DMA-coherent backend, plus a CMA backend for the
    /// apps' CMA pool `cma` and a carve-out backend for the apps'
    /// carve-out `carveout`, where the DSP's node names them. The remote
    /// heap is never one of them.
    pub(crate) fn new(
        cma: Option<crate::platform::regions::Region>,
        carveout: Option<NoMapRegion>,
    ) -> Result<Self> {
        let cma = match cma {
            Some(r) => Some(Accounting::new(cma::CmaBackend::new(r.base, r.size))?),
            None => None,
        };
        let carveout = match carveout {
            Some(nomap) => Some(Accounting::new(carveout::CarveoutBackend::new(nomap)?)?),
            None => None,
        };
        Ok(Self {
            coherent: Accounting::new(coherent::CoherentBackend)?,
            cma,
            carveout,
            imported_usage: Arc::new(Usage::default(), GFP_KERNEL)?,
        })
    }

    /// Allocates `size` bytes for a process on `cb` from `backend`
    /// ([`kind`], 0 for the default: DMA-coherent). `-EINVAL` for an
    /// unknown backend, `-ENODEV` for one this DSP does not have.
    pub(crate) fn alloc(
        &self,
        cb: &Arc<ContextBank>,
        size: usize,
        backend: u32,
    ) -> Result<Accounted> {
        match backend {
            0 | kind::COHERENT => self.coherent.alloc(cb, size),
            kind::CMA => self.cma.as_ref().ok_or(ENODEV)?.alloc(cb, size),
            kind::CARVEOUT => self.carveout.as_ref().ok_or(ENODEV)?.alloc(cb, size),
            _ => Err(EINVAL),
        }
    }

    /// Attaches a foreign dma-buf to `cb` (see [`imported`]).
    pub(crate) fn import(&self, cb: &Arc<ContextBank>, buf: &DmaBuf) -> Result<Accounted> {
        let mem = imported::import(cb, buf)?;
        Ok(Usage::account(
            &self.imported_usage,
            kind::IMPORTED,
            mem,
            buf.size(),
        ))
    }

    /// Calls `f(name, usage)` for every backend of this DSP.
    pub(crate) fn for_each_usage(&self, mut f: impl FnMut(&str, &Usage)) {
        f("dma-coherent", &self.coherent.usage);
        if let Some(c) = &self.cma {
            f("cma", &c.usage);
        }
        if let Some(c) = &self.carveout {
            f("carveout", &c.usage);
        }
        f("imported", &self.imported_usage);
    }

    /// Calls `f(name, base, size)` for the DSP's memory pools.
    pub(crate) fn for_each_pool(&self, mut f: impl FnMut(&str, u64, u64)) {
        if let Some(c) = &self.cma {
            let (b, s) = c.backend.pool();
            f("cma", b, s);
        }
        if let Some(c) = &self.carveout {
            let (b, s) = c.backend.pool();
            f("carveout", b, s);
        }
    }
}
