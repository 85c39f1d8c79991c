// SPDX-License-Identifier: GPL-2.0

//! What the caller's memory at a user address is a mapping of.

use kernel::prelude::*;

/// The mapping of the calling process that holds a user address, as
/// identities to compare with (never to dereference).
#[derive(Clone, Copy)]
pub(crate) struct MappingAt {
    /// Offset of the address in what is mapped: its distance from the
    /// start of the mapping plus the mapping's own offset (`vm_pgoff`, in
    /// pages: a dma-buf mapped at an offset, or a mapping whose front was
    /// unmapped; relative to the object for a GEM mapping).
    pub(crate) offset: u64,
    /// The mapped file (`vm_file`).
    file: *const core::ffi::c_void,
    /// The mapping's private pointer (a GEM mmap's object).
    private: *const core::ffi::c_void,
}

/// The offset in what a mapping maps of the byte `in_vma` bytes into it,
/// for a mapping at page offset `pgoff`; `None` if it does not fit.
fn offset_in_mapping(in_vma: usize, pgoff: usize) -> Option<u64> {
    let front = u64::try_from(pgoff)
        .ok()?
        .checked_mul(kernel::page::PAGE_SIZE as u64)?;
    front.checked_add(u64::try_from(in_vma).ok()?)
}

impl MappingAt {
    /// The mapping of the current process at user address `ptr`;
    /// `-EFAULT` if nothing is mapped there.
    pub(crate) fn lookup(ptr: u64) -> Result<Self> {
        let task = kernel::current!();
        let mm = task.mm().ok_or(EFAULT)?;
        let guard = mm.mmap_read_lock();
        let addr = usize::try_from(ptr).map_err(|_| EFAULT)?;
        let vma = guard.vma_lookup(addr).ok_or(EFAULT)?;
        // SAFETY: `vma` is valid while the mmap lock is held; the two
        // pointers are copied out as identities and never dereferenced.
        let (file, private, pgoff) = unsafe {
            let raw = vma.as_ptr();
            (
                (*raw).vm_file.cast_const().cast(),
                (*raw).vm_private_data.cast_const(),
                (*raw).vm_pgoff,
            )
        };
        Ok(Self {
            offset: offset_in_mapping(addr - vma.start(), pgoff).ok_or(EFAULT)?,
            file,
            private,
        })
    }

    /// Whether this is a mapping of `file` or of an object stored as the
    /// mapping's private pointer (`private`).
    pub(crate) fn is_of(
        &self,
        file: *const core::ffi::c_void,
        private: *const core::ffi::c_void,
    ) -> bool {
        (!file.is_null() && self.file == file) || (!private.is_null() && self.private == private)
    }
}
