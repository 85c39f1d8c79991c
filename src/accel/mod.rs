// SPDX-License-Identifier: GPL-2.0

//! The accel frontend: `/dev/accel/accelN` and its UAPI
//! (`include/uapi/drm/qda_accel.h`).
//!
//! It decodes the UAPI ([`uapi`]) into the DSP service's typed requests,
//! one function per ioctl ([`file`]), owns the node's errnos, names
//! buffers by GEM handle or dma-buf fd ([`names`]) and imports dma-bufs
//! ([`prime`]).

pub(crate) mod file;
pub(crate) mod names;
pub(crate) mod prime;
pub(crate) mod uapi;

use kernel::{
    device::Device,
    prelude::*,
    sync::Arc, //
};

use crate::{
    dsp::Dsp,
    ffi::accel, //
};

use file::QdaFile;

/// The ioctls, indexed by their number relative to `DRM_COMMAND_BASE`.
static IOCTLS: accel::IoctlTable<13> = accel::IoctlTable::new([
    accel::ioctl!(Dsp, QdaFile; uapi::DRM_IOCTL_QDA_QUERY, uapi::drm_qda_query, file::query),
    accel::ioctl!(Dsp, QdaFile;
        uapi::DRM_IOCTL_QDA_GEM_CREATE, uapi::drm_qda_gem_create, file::gem_create),
    accel::ioctl!(Dsp, QdaFile;
        uapi::DRM_IOCTL_QDA_GEM_MMAP_OFFSET, uapi::drm_qda_gem_mmap_offset, file::gem_mmap_offset),
    accel::ioctl!(Dsp, QdaFile; uapi::DRM_IOCTL_QDA_INIT_ATTACH, uapi::NoArgs, file::init_attach),
    accel::ioctl!(Dsp, QdaFile;
        uapi::DRM_IOCTL_QDA_INIT_CREATE, uapi::drm_qda_init_create, file::init_create),
    accel::ioctl!(Dsp, QdaFile; uapi::DRM_IOCTL_QDA_MAP, uapi::drm_qda_map, file::map),
    accel::ioctl!(Dsp, QdaFile; uapi::DRM_IOCTL_QDA_MUNMAP, uapi::drm_qda_munmap, file::munmap),
    accel::ioctl!(Dsp, QdaFile; uapi::DRM_IOCTL_QDA_INVOKE, uapi::drm_qda_invoke, file::invoke),
    accel::ioctl!(Dsp, QdaFile; uapi::DRM_IOCTL_QDA_GEM_INFO, uapi::drm_qda_gem_info, file::gem_info),
    accel::ioctl!(Dsp, QdaFile;
        uapi::DRM_IOCTL_QDA_GEM_CREATE_EX, uapi::drm_qda_gem_create_ex, file::gem_create_ex),
    accel::ioctl!(Dsp, QdaFile; uapi::DRM_IOCTL_QDA_GET_ATTR, uapi::drm_qda_get_attr, file::get_attr),
    accel::ioctl!(Dsp, QdaFile;
        uapi::DRM_IOCTL_QDA_INIT_CREATE_STATIC, uapi::drm_qda_init_create_static,
        file::init_create_static),
    accel::ioctl!(Dsp, QdaFile;
        uapi::DRM_IOCTL_QDA_INIT_ATTACH_SNS, uapi::NoArgs, file::init_attach_sns),
]);

static FOPS: accel::FileOps = accel::FileOps::new(&raw const kernel::bindings::__this_module);

static DRIVER: accel::DriverTable<Dsp, QdaFile> =
    accel::DriverTable::new(c"qda", c"Qualcomm Hexagon DSP accelerator", &IOCTLS, &FOPS);

/// Registers the accel node of DSP `dsp` under device `parent`.
pub(crate) fn register(parent: &Device, dsp: Arc<Dsp>) -> Result<accel::Registration<Dsp>> {
    accel::Registration::new(parent, &DRIVER, dsp)
}
