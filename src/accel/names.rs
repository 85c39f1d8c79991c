// SPDX-License-Identifier: GPL-2.0

//! How a buffer reference of the accel UAPI (`fd` fields) names a buffer.
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
    accel::file::QdaFile,
    buffer::{
        bo::{
            Bo,
            BO_FUNCS, //
        },
        reference::{
            mapping_at,
            resolve_dmabuf,
            BufRef,
            Resolve,
            Resolved, //
        },
    },
    ffi::{
        accel::File,
        gem::{
            Backing,
            ObjectRef, //
        },
        vma::MappingAt, //
    },
};

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

impl Resolve for File<QdaFile> {
    fn resolve(&self, fd: i32, ptr: u64, what: &str) -> Result<Resolved> {
        resolve(self, fd, ptr, what)
    }
}
