// SPDX-License-Identifier: GPL-2.0

//! qda buffer objects: GEM objects whose memory comes from the memory
//! manager and is mapped in one context bank's IOMMU domain.

use core::{
    ffi::c_void,
    ptr::NonNull, //
};
use kernel::{
    mm::virt::VmaNew,
    prelude::*,
    sync::Arc, //
};

use crate::{
    charge::Charge,
    context_bank::ContextBank,
    driver::QdaDevice,
    ffi::{
        dmabuf::Attachment,
        gem::{
            Backing,
            ObjectFuncs,
            SgTable, //
        },
    },
    limits::Quota,
    memory::{
        self,
        Accounted, //
    },
    topology::Window, //
};

/// The backing of a qda buffer object.
pub(crate) struct Bo {
    /// The memory, accounted to its backend.
    pub(crate) mem: Accounted,
    /// The window of the CB the memory is mapped in.
    pub(crate) window: Window,
    /// The share of the allocating file's quota (none for imports).
    pub(crate) _charge: Option<Charge>,
}

impl Bo {
    /// Allocates `size` bytes (rounded up to pages) from `backend` of
    /// `dev`, mapped in `cb` and charged to `quota`; also returns the
    /// rounded size.
    pub(crate) fn alloc(
        dev: &QdaDevice,
        (cb, quota): (&Arc<ContextBank>, &Arc<Quota>),
        size: u64,
        backend: u32,
    ) -> Result<(Self, usize)> {
        let size = memory::bo_size(size)?;
        let charge = Charge::new(quota, size as u64, dev.channel.device())?;
        let mem = dev.memory.alloc(cb, size, backend).inspect_err(|e| {
            crate::ratelimit::dev_ratelimited!(
                debug,
                dev.channel.device(),
                "{}: allocating {} bytes (backend {}) failed: {:?}\n",
                dev.domain.label(),
                size,
                backend,
                e
            );
        })?;
        let bo = Self {
            mem,
            window: cb.window(),
            _charge: Some(charge),
        };
        Ok((bo, size))
    }

    /// The address the DSP uses for this buffer.
    pub(crate) fn dsp_addr(&self) -> Result<u64> {
        self.window
            .dsp_addr(self.mem.memory().iova())
            .ok_or(EOVERFLOW)
    }
}

impl Backing for Bo {
    fn mmap(&self, vma: &VmaNew) -> Result {
        self.mem.memory().mmap(vma)
    }

    fn sg_table(&self) -> Result<SgTable> {
        self.mem.memory().sg_table()
    }

    fn exportable(&self) -> bool {
        self.mem.memory().exportable()
    }

    fn vaddr(&self) -> Option<NonNull<c_void>> {
        self.mem.memory().vaddr()
    }

    fn attachment(&self) -> Option<&Attachment> {
        self.mem.memory().attachment()
    }
}

/// The GEM object functions of every qda buffer object.
pub(crate) static BO_FUNCS: ObjectFuncs<Bo> = ObjectFuncs::new();
