// SPDX-License-Identifier: GPL-2.0

//! Imported memory: a dma-buf from another exporter (a dma-buf heap,
//! udmabuf, another process's qda buffer) attached to the importing
//! process's context-bank device, so that its pages are mapped in that
//! CB's IOMMU domain. CPU mappings go through the exporter.

use core::{
    ffi::c_void,
    ptr::NonNull, //
};
use kernel::{
    mm::virt::VmaNew,
    prelude::*,
    sync::Arc, //
};

use super::Memory;
use crate::{
    ffi::{
        dmabuf::{
            Attachment,
            DmaBuf, //
        },
        gem::SgTable, //
    },
    platform::context_bank::ContextBank, //
};

/// A dma-buf mapped in a CB's domain; keeps the CB alive.
struct ImportedMemory {
    attachment: Attachment,
    iova: u64,
    _cb: Arc<ContextBank>,
}

impl Memory for ImportedMemory {
    fn iova(&self) -> u64 {
        self.iova
    }

    fn mmap(&self, vma: &VmaNew) -> Result {
        self.attachment.mmap(vma)
    }

    fn sg_table(&self) -> Result<SgTable> {
        // Re-exporting an import hands out the original dma-buf; the PRIME
        // core never asks us for its pages.
        Err(EINVAL)
    }

    fn vaddr(&self) -> Option<NonNull<c_void>> {
        None
    }

    fn attachment(&self) -> Option<&Attachment> {
        Some(&self.attachment)
    }
}

/// Attaches `buf` to `cb`. The mapping must be one IOVA range below 4 GiB
/// (what the IOMMU DMA layer gives a 32-bit device) so that the DSP can
/// address it as one buffer.
pub(crate) fn import(cb: &Arc<ContextBank>, buf: &DmaBuf) -> Result<KBox<dyn Memory>> {
    let attachment = buf.attach(cb.dev.as_ref())?;
    let (iova, len) = attachment.contiguous_range().inspect_err(|_| {
        crate::ratelimit::dev_ratelimited!(
            debug,
            cb.dev.as_ref(),
            "import: dma-buf not mapped contiguously for SID {}\n",
            cb.sid
        );
    })?;
    if len < buf.size() || cb.window().dsp_addr(iova).is_none() {
        return Err(EINVAL);
    }
    let mem: KBox<dyn Memory> = KBox::new(
        ImportedMemory {
            attachment,
            iova,
            _cb: cb.clone(),
        },
        GFP_KERNEL,
    )?;
    Ok(mem)
}
