// SPDX-License-Identifier: GPL-2.0

//! PRIME import policy.
//!
//! `DRM_IOCTL_PRIME_FD_TO_HANDLE` runs in the importing process, which has
//! the accel node open and so owns a session. A dma-buf is imported for
//! that session's context bank:
//!
//! - a qda export whose memory is already mapped in that CB (the same
//!   process, or a process sharing the CB) is the same object;
//! - anything else (a dma-buf heap, udmabuf, another process's qda
//!   buffer) is attached to the CB device, which maps it in the CB's
//!   IOMMU domain.

use kernel::prelude::*;

use crate::{
    buffer::{
        bo::{
            Bo,
            BO_FUNCS, //
        },
        reference::own_export_in, //
    },
    dsp::Dsp,
    ffi::{
        accel::{
            DrmDevice,
            PrimeImport, //
        },
        dmabuf::DmaBuf,
        gem::{
            create_object,
            ObjectRef, //
        },
    },
};

impl PrimeImport for Dsp {
    type Backing = Bo;

    fn prime_import(&self, drm: &DrmDevice, buf: &DmaBuf) -> Result<ObjectRef<Bo>> {
        let current = kernel::current!();
        let cb = self.sessions.cb_of(current.group_leader()).ok_or_else(|| {
            crate::ratelimit::dev_ratelimited!(
                debug,
                self.channel.device(),
                "{}: import by process {} which has no session\n",
                self.domain.label(),
                current.tgid()
            );
            EINVAL
        })?;
        if let Some(own) = own_export_in(drm, &cb, buf) {
            return Ok(own);
        }
        let mem = self.memory.import(&cb, buf)?;
        create_object(drm, &BO_FUNCS, buf.size(), Bo::new(mem, cb.window(), None))
    }
}
