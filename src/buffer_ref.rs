// SPDX-License-Identifier: GPL-2.0

//! How a buffer reference of the UAPI (`fd` fields) names a buffer.
//!
//! The FastRPC library fills these fields two ways: its `rpcmem` buffers
//! are GEM objects of a file of its own, so INVOKE arguments carry the
//! dma-buf fd it exported for them, while the shell of INIT_CREATE and
//! some mappings carry that other file's GEM handle. qda's own library
//! passes GEM handles of the calling file. A reference is resolved as:
//!
//! 1. a GEM handle of the calling file, if the caller's memory at the
//!    argument's pointer is an mmap of that object (or no pointer is
//!    given);
//! 2. otherwise a dma-buf fd, as `drivers/misc/fastrpc.c` reads it, if the
//!    memory at the pointer is a mapping of that dma-buf (or no pointer is
//!    given): a qda export already mapped in the caller's context bank is
//!    that object, any other dma-buf is attached to the context bank for
//!    the call.
//!
//! So a number is never taken for a buffer the pointer does not lie in,
//! whichever way it was meant.

use kernel::prelude::*;

use crate::{
    context_bank::ContextBank,
    ffi::{
        accel::{
            DrmDevice,
            File, //
        },
        dmabuf::DmaBufRef,
        gem::{
            Backing,
            ObjectRef, //
        },
        vma::MappingAt, //
    },
    file::QdaFile,
    gem::{
        Bo,
        BO_FUNCS, //
    },
};

/// A buffer named by a UAPI reference.
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

/// Resolves reference `fd` of `file` for memory at user address `ptr`
/// (0: none given); `-EBADF` with a log line if it names no buffer mapped
/// there, `-EFAULT` if nothing is mapped at `ptr`.
pub(crate) fn resolve(file: &File<QdaFile>, fd: i32, ptr: u64, what: &str) -> Result<Resolved> {
    let at = mapping_at(ptr)?;
    let offset = at.map_or(0, |m| m.offset);
    let maps = |f: &dyn Fn(&MappingAt) -> bool| at.as_ref().is_none_or(f);
    let handle = u32::try_from(fd)
        .ok()
        .and_then(|h| ObjectRef::lookup(file, &BO_FUNCS, h).ok());
    // An imported object may be mapped through its dma-buf's own fd.
    let holds = |bo: &ObjectRef<Bo>, m: &MappingAt| {
        bo.is_mapped_by(m)
            || bo
                .backing()
                .attachment()
                .is_some_and(|a| a.dma_buf().is_mapped_by(m))
    };
    if let Some(bo) = handle.filter(|bo| maps(&|m| holds(bo, m))) {
        return Ok(Resolved {
            buf: BufRef::Bo(bo),
            offset,
        });
    }
    resolve_dmabuf(file.drm_device(), file.data().session().cb(), fd, at, what)
}

/// The caller's mapping at user address `ptr` (0: none given);
/// `-EFAULT` if nothing is mapped there.
pub(crate) fn mapping_at(ptr: u64) -> Result<Option<MappingAt>> {
    match ptr {
        0 => Ok(None),
        p => Ok(Some(MappingAt::lookup(p)?)),
    }
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
    let buf = match ObjectRef::from_own_export(drm, &BO_FUNCS, &buf) {
        Some(bo) if bo.backing().window.sid == cb.sid => BufRef::Bo(bo),
        _ => BufRef::DmaBuf(buf),
    };
    Ok(Resolved { buf, offset })
}

/// How a file names buffers: the accel file by GEM handle or dma-buf fd,
/// a legacy file by dma-buf fd only.
pub(crate) trait Resolve {
    /// Resolves reference `fd` for memory at user address `ptr` (0: none
    /// given).
    fn resolve(&self, fd: i32, ptr: u64, what: &str) -> Result<Resolved>;
}

impl Resolve for File<QdaFile> {
    fn resolve(&self, fd: i32, ptr: u64, what: &str) -> Result<Resolved> {
        resolve(self, fd, ptr, what)
    }
}
