// SPDX-License-Identifier: GPL-2.0

//! Ioctl handlers, one function per ioctl.
//!
//! Each handler gets the device and a kernel copy of the argument struct;
//! the DRM core copies it from and back to userspace.

use kernel::prelude::*;

use crate::{
    driver::QdaDevice,
    uapi, //
};

/// IOCTL: `DRM_IOCTL_QDA_QUERY`, identify the DSP behind this node.
pub(crate) fn query(dev: &QdaDevice, args: &mut uapi::drm_qda_query) -> Result<u32> {
    args.dsp_name = dev.domain.dsp_name();
    // Filled from the DSP's capability query once the protocol engine runs.
    args.capabilities = 0;
    Ok(0)
}
