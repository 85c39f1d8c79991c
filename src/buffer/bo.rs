// SPDX-License-Identifier: GPL-2.0

//! qda buffer objects: GEM objects whose memory comes from the memory
//! manager and is mapped in one context bank's IOMMU domain.

use core::{
    ffi::c_void,
    ptr::NonNull, //
};
use kernel::{
    mm::virt::VmaNew,
    prelude::*, //
};

use crate::{
    ffi::{
        dmabuf::Attachment,
        gem::{
            Backing,
            ObjectFuncs,
            SgTable, //
        },
    },
    memory::{
        charge::Charge,
        Accounted, //
    },
    platform::topology::Window, //
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
    /// A buffer object of memory `mem` mapped in the CB of `window`,
    /// holding `charge` (none for imports).
    pub(crate) fn new(mem: Accounted, window: Window, charge: Option<Charge>) -> Self {
        Self {
            mem,
            window,
            _charge: charge,
        }
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
