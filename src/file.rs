// SPDX-License-Identifier: GPL-2.0

//! Open files and their ioctl handlers, one function per ioctl.
//!
//! Each handler gets the device, the file and a kernel copy of the
//! argument struct; the DRM core copies it from and back to userspace.

use kernel::prelude::*;

use crate::{
    driver::QdaDevice,
    ffi::{
        accel::{
            File,
            FileData, //
        },
        gem::{
            create_handle,
            ObjectRef, //
        },
    },
    gem::{
        Bo,
        BO_FUNCS, //
    },
    memory,
    session::SessionRef,
    uapi, //
};

/// An open accel file: a hold on its process's session.
pub(crate) struct QdaFile {
    /// The session (context bank) of the opening process.
    pub(crate) session: SessionRef,
}

impl FileData for QdaFile {
    type Device = QdaDevice;

    fn open(dev: &QdaDevice) -> Result<Self> {
        let tgid = kernel::current!().tgid();
        let session = dev.sessions.acquire(tgid).inspect_err(|_| {
            pr_info!(
                "{}: no free session for process {}\n",
                dev.domain.label(),
                tgid
            );
        })?;
        Ok(Self { session })
    }
}

/// IOCTL: `DRM_IOCTL_QDA_QUERY`, identify the DSP behind this node.
pub(crate) fn query(
    dev: &QdaDevice,
    _file: &File<QdaFile>,
    args: &mut uapi::drm_qda_query,
) -> Result<u32> {
    args.dsp_name = dev.domain.dsp_name();
    // Filled from the DSP's capability query once the protocol engine runs.
    args.capabilities = 0;
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_GEM_CREATE`, allocate a buffer object in the
/// process's context bank (memory policy: see [`memory`]).
pub(crate) fn gem_create(
    dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_gem_create,
) -> Result<u32> {
    if args.pad != 0 {
        return Err(EINVAL);
    }
    args.handle = create_bo(dev, file, args.size, 0)?;
    Ok(0)
}

/// Allocates a buffer of `size` bytes from `backend` for `file`'s session.
fn create_bo(dev: &QdaDevice, file: &File<QdaFile>, size: u64, backend: u32) -> Result<u32> {
    let size = memory::bo_size(size)?;
    let cb = file.data().session.cb();
    let mem = dev.memory.alloc(cb, size, backend).inspect_err(|e| {
        pr_info!(
            "{}: allocating {} bytes (backend {}) failed: {:?}\n",
            dev.domain.label(),
            size,
            backend,
            e
        );
    })?;
    let bo = Bo { mem, sid: cb.sid };
    create_handle(file, &BO_FUNCS, size, bo)
}

/// IOCTL: `DRM_IOCTL_QDA_GEM_CREATE_EX`, allocate a buffer object from a
/// chosen memory backend.
pub(crate) fn gem_create_ex(
    dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_gem_create_ex,
) -> Result<u32> {
    args.handle = create_bo(dev, file, args.size, args.backend)?;
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_GEM_MMAP_OFFSET`, the offset to `mmap()` a handle
/// at on this file.
pub(crate) fn gem_mmap_offset(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_gem_mmap_offset,
) -> Result<u32> {
    if args.pad != 0 {
        return Err(EINVAL);
    }
    let bo = ObjectRef::lookup(file, &BO_FUNCS, args.handle)?;
    args.offset = bo.mmap_offset();
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_GEM_INFO`, backend, size and DSP address of a
/// handle.
pub(crate) fn gem_info(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_gem_info,
) -> Result<u32> {
    let bo = ObjectRef::lookup(file, &BO_FUNCS, args.handle)?;
    args.backend = bo.backing().mem.kind();
    args.size = bo.size() as u64;
    args.dsp_addr = bo.backing().dsp_addr()?;
    Ok(0)
}
