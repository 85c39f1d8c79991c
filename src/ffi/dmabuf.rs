// SPDX-License-Identifier: GPL-2.0

//! Importing dma-bufs: attaching them to a context-bank device.
//!
//! C header: [`include/linux/dma-buf.h`](srctree/include/linux/dma-buf.h)

use core::ptr::NonNull;
use kernel::{
    bindings,
    device,
    error::{
        from_err_ptr,
        to_result, //
    },
    prelude::*,
    types::Opaque, //
};

use kernel::mm::virt::VmaNew;

/// A dma-buf taken by file descriptor; released on drop.
///
/// # Invariants
///
/// Holds one reference on a valid dma-buf.
pub(crate) struct DmaBufRef(NonNull<bindings::dma_buf>);

// SAFETY: dma-buf references may be dropped from any thread.
unsafe impl Send for DmaBufRef {}
// SAFETY: `&self` only reads.
unsafe impl Sync for DmaBufRef {}

impl DmaBufRef {
    /// The dma-buf behind file descriptor `fd` of the calling process;
    /// `-EBADF`/`-EINVAL` if there is none.
    pub(crate) fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: looks up `fd` in the current process's file table.
        let buf = from_err_ptr(unsafe { bindings::dma_buf_get(fd) })?;
        // INVARIANT: `dma_buf_get` took a reference.
        // SAFETY: not an error pointer.
        Ok(Self(unsafe { NonNull::new_unchecked(buf) }))
    }
}

impl core::ops::Deref for DmaBufRef {
    type Target = DmaBuf;

    fn deref(&self) -> &DmaBuf {
        // SAFETY: by the invariant the buffer is valid while `self` lives.
        unsafe { DmaBuf::from_raw(self.0.as_ptr()) }
    }
}

impl Drop for DmaBufRef {
    fn drop(&mut self) {
        // SAFETY: by the invariant we hold one reference.
        unsafe { bindings::dma_buf_put(self.0.as_ptr()) };
    }
}

/// A dma-buf being imported (borrowed from the DRM core).
#[repr(transparent)]
pub(crate) struct DmaBuf(Opaque<bindings::dma_buf>);

impl DmaBuf {
    /// # Safety
    ///
    /// `ptr` must be a valid dma-buf for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::dma_buf) -> &'a Self {
        // SAFETY: transparent wrapper; validity from the caller.
        unsafe { &*ptr.cast() }
    }

    /// The raw `struct dma_buf`.
    pub(crate) fn as_raw(&self) -> *mut bindings::dma_buf {
        self.0.get()
    }

    /// Whether `m` is a mapping of this dma-buf: an mmap of its fd, or of
    /// the object its exporter keeps as private data (a PRIME export's GEM
    /// object, mapped through its DRM file).
    pub(crate) fn is_mapped_by(&self, m: &super::vma::MappingAt) -> bool {
        // SAFETY: `file` and `priv` of a live dma-buf are set at export and
        // never change; they are only compared.
        let (file, private) = unsafe { ((*self.0.get()).file, (*self.0.get()).priv_) };
        m.is_of(file.cast_const().cast(), private.cast_const())
    }

    /// Size in bytes.
    pub(crate) fn size(&self) -> usize {
        // SAFETY: the size of a dma-buf never changes.
        unsafe { (*self.0.get()).size }
    }

    /// Attaches the buffer to `dev` and maps it (bidirectionally) into
    /// `dev`'s DMA domain.
    pub(crate) fn attach(&self, dev: &device::Device) -> Result<Attachment> {
        let raw_dev = core::ptr::from_ref(dev)
            .cast_mut()
            .cast::<bindings::device>();
        let buf = self.0.get();
        // SAFETY: `buf` and `raw_dev` are valid.
        let attach = from_err_ptr(unsafe { bindings::dma_buf_attach(buf, raw_dev) })?;
        // SAFETY: the attachment holds no reference on the buffer's file;
        // take one for as long as the `Attachment` lives.
        unsafe { bindings::get_file((*buf).file) };
        // SAFETY: `attach` was just created.
        let sgt = unsafe {
            bindings::dma_buf_map_attachment_unlocked(
                attach,
                bindings::dma_data_direction::DMA_BIDIRECTIONAL,
            )
        };
        match from_err_ptr(sgt) {
            // INVARIANT: attached, mapped, and one buffer reference taken.
            Ok(sgt) => Ok(Attachment {
                // SAFETY: a valid, non-error pointer.
                attach: unsafe { NonNull::new_unchecked(attach) },
                // SAFETY: a valid, non-error pointer.
                sgt: unsafe { NonNull::new_unchecked(sgt) },
            }),
            Err(e) => {
                // SAFETY: undoes the attach and the reference above.
                unsafe {
                    bindings::dma_buf_detach(buf, attach);
                    bindings::dma_buf_put(buf);
                }
                Err(e)
            }
        }
    }
}

/// A dma-buf attached and mapped to a device; unmapped (with the same
/// direction), detached and released on drop.
///
/// # Invariants
///
/// `attach` is an attachment of a dma-buf we hold one reference on, and
/// `sgt` its bidirectional mapping.
pub(crate) struct Attachment {
    attach: NonNull<bindings::dma_buf_attachment>,
    sgt: NonNull<bindings::sg_table>,
}

// SAFETY: attachments may be used and released from any thread.
unsafe impl Send for Attachment {}
// SAFETY: `&self` methods only read.
unsafe impl Sync for Attachment {}

impl Attachment {
    /// The raw attachment (for `drm_gem_object.import_attach`).
    pub(crate) fn as_raw(&self) -> *mut bindings::dma_buf_attachment {
        self.attach.as_ptr()
    }

    /// The device address range of the mapping, if it is one contiguous
    /// IOVA range (what the IOMMU DMA layer produces); `-EINVAL` if not.
    pub(crate) fn contiguous_range(&self) -> Result<(u64, usize)> {
        let sgt = self.sgt.as_ptr();
        // SAFETY: by the invariant `sgt` is a mapped table; we walk its
        // `nents` DMA segments.
        unsafe {
            let n = (*sgt).nents;
            let mut sg = (*sgt).sgl;
            let start = bindings::sg_dma_address(sg);
            let mut end = start;
            for _ in 0..n {
                if sg.is_null() || bindings::sg_dma_address(sg) != end {
                    return Err(EINVAL);
                }
                end += u64::from(bindings::sg_dma_len(sg));
                sg = bindings::sg_next(sg);
            }
            Ok((start, usize::try_from(end - start).map_err(|_| EINVAL)?))
        }
    }

    /// The attached dma-buf.
    pub(crate) fn dma_buf(&self) -> &DmaBuf {
        // SAFETY: by the invariant we hold a reference on the dma-buf for
        // as long as `self` lives.
        unsafe { DmaBuf::from_raw((*self.attach.as_ptr()).dmabuf) }
    }

    /// Maps the whole buffer into `vma` through its exporter.
    pub(crate) fn mmap(&self, vma: &VmaNew) -> Result {
        // SAFETY: by the invariant the buffer is alive; `vma` is being set
        // up by mmap and `dma_buf_mmap` checks its size against the buffer.
        to_result(unsafe {
            bindings::dma_buf_mmap((*self.attach.as_ptr()).dmabuf, vma.as_ptr(), 0)
        })
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        // SAFETY: by the invariant; unmapped with the direction it was
        // mapped with, then detached and the reference dropped.
        unsafe {
            let buf = (*self.attach.as_ptr()).dmabuf;
            bindings::dma_buf_unmap_attachment_unlocked(
                self.attach.as_ptr(),
                self.sgt.as_ptr(),
                bindings::dma_data_direction::DMA_BIDIRECTIONAL,
            );
            bindings::dma_buf_detach(buf, self.attach.as_ptr());
            bindings::dma_buf_put(buf);
        }
    }
}
