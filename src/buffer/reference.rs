// SPDX-License-Identifier: GPL-2.0

//! What a buffer reference of a request names, once a frontend resolved
//! it: a qda buffer object or a foreign dma-buf, and where the argument's
//! pointer lies in it.
//!
//! How a number becomes a buffer is the frontend's rule (the accel node
//! takes GEM handles and dma-buf fds, see `crate::accel::names`; a legacy
//! node dma-buf fds only); both share the dma-buf half here, and the DSP
//! service sees only [`Resolve`].

use kernel::prelude::*;

use crate::{
    buffer::bo::{
        Bo,
        BO_FUNCS, //
    },
    ffi::{
        accel::DrmDevice,
        dmabuf::{
            DmaBuf,
            DmaBufRef, //
        },
        gem::ObjectRef,
        vma::MappingAt, //
    },
    platform::context_bank::ContextBank, //
};

/// A buffer named by a reference.
pub(crate) enum BufRef {
    /// A qda buffer object mapped in the caller's context bank.
    Bo(ObjectRef<Bo>),
    /// A dma-buf of another device or context bank: attached for use.
    DmaBuf(DmaBufRef),
}

/// A resolved reference: the buffer, and where the argument's pointer
/// lies in it (0 without a pointer).
pub(crate) struct Resolved {
    pub(crate) buf: BufRef,
    pub(crate) offset: u64,
}

/// How a client names buffers: implemented by each frontend's file.
pub(crate) trait Resolve {
    /// Resolves reference `fd` for memory at user address `ptr` (0: none
    /// given); `-EBADF` if it names no buffer mapped there, `-EFAULT` if
    /// nothing is mapped at `ptr`.
    fn resolve(&self, fd: i32, ptr: u64, what: &str) -> Result<Resolved>;
}

/// The caller's mapping at user address `ptr` (0: none given);
/// `-EFAULT` if nothing is mapped there.
pub(crate) fn mapping_at(ptr: u64) -> Result<Option<MappingAt>> {
    match ptr {
        0 => Ok(None),
        p => Ok(Some(MappingAt::lookup(p)?)),
    }
}

/// `buf` as the qda object it is, if it is an export of `drm` whose memory
/// is mapped in `cb` (the same process, or one sharing the CB).
pub(crate) fn own_export_in(
    drm: &DrmDevice,
    cb: &ContextBank,
    buf: &DmaBuf,
) -> Option<ObjectRef<Bo>> {
    ObjectRef::from_own_export(drm, &BO_FUNCS, buf).filter(|bo| bo.backing().window.sid == cb.sid)
}

/// Resolves `fd` as a dma-buf fd mapped at `at` (if given) for use in
/// `cb`: a qda export of `drm` already mapped in `cb` is that object, any
/// other dma-buf is attached for the call. `-EBADF` with a log line if `fd`
/// is no such dma-buf.
pub(crate) fn resolve_dmabuf(
    drm: &DrmDevice,
    cb: &ContextBank,
    fd: i32,
    at: Option<MappingAt>,
    what: &str,
) -> Result<Resolved> {
    let offset = at.as_ref().map_or(0, |m| m.offset);
    let buf = DmaBufRef::from_fd(fd)
        .ok()
        .filter(|b| at.as_ref().is_none_or(|m| b.is_mapped_by(m)))
        .ok_or_else(|| {
            crate::ratelimit::dev_ratelimited!(
                debug,
                cb.dev.as_ref(),
                "{what}: {fd} is neither a buffer handle nor a dma-buf fd mapped at the argument\n"
            );
            EBADF
        })?;
    let buf = match own_export_in(drm, cb, &buf) {
        Some(bo) => BufRef::Bo(bo),
        None => BufRef::DmaBuf(buf),
    };
    Ok(Resolved { buf, offset })
}
