// SPDX-License-Identifier: GPL-2.0

//! Mappings a client makes in its DSP process (`MMAP`/`MEM_MAP` and their
//! undoing), shared by the accel and the legacy UAPI. The kernel keeps
//! track of each until it is unmapped or the process ends.

use kernel::prelude::*;

use crate::{
    buffer::reference::BufRef,
    dsp::client::Client,
    fastrpc::process::{
        self,
        Failed,
        MapArgs,
        RemoteMap, //
    },
    memory::charge::Charge, //
};

/// Maps `a` into the client's DSP process; returns the DSP address. New
/// kernel pages (a legacy map without a buffer) count against the
/// client's quota like a buffer (see [`crate::memory::limits`]).
pub(crate) fn map(c: &Client, mut a: MapArgs) -> Result<u64> {
    let pd = c.pd()?;
    // Another mapping of the same foreign dma-buf lends its attachment:
    // one attachment per buffer and process, however often it is mapped.
    if let Some(BufRef::DmaBuf(d)) = a.buf.as_ref() {
        a.reuse = c.with_process(|p| Ok(p.attachment_of(d)))?;
    }
    if a.buf.is_none() && a.request == process::MAP_LEGACY && a.size != 0 {
        let charge = Charge::new(&c.quota, a.size, c.channel.device())?;
        a.charge = Some(KBox::new(charge, GFP_KERNEL)?);
    }
    // Room for the record first, so that tracking cannot fail after the
    // DSP made the mapping.
    c.with_process(|p| p.reserve_record())?;
    let r = process::map(c.target(), pd, a);
    c.with_process(|p| match r {
        Ok(m) => {
            let vaddrout = m.vaddrout;
            p.track(m);
            Ok(vaddrout)
        }
        Err(Failed { err, kept }) => {
            // A map given up after it was sent: the DSP may map the
            // memory, which stays with the process until its release.
            match kept {
                Some(m) => p.track(m),
                None => p.unreserve_record(),
            }
            Err(err)
        }
    })
}

/// Which mapping to undo.
#[derive(Clone, Copy)]
pub(crate) enum Unmap {
    /// A legacy mapping (kernel pages or a buffer), by the DSP address the
    /// map returned and its size.
    Legacy {
        /// The DSP address.
        vaddrout: u64,
        /// The size mapped.
        size: u64,
    },
    /// A mapping with SMMU attributes, by DSP address and the buffer
    /// reference it was made with (`None`: any).
    Attr {
        /// The reference the map named.
        fd: Option<i32>,
        /// The DSP address.
        vaddr: u64,
    },
    /// The mapping of kind `request` just made at `vaddrout`.
    Made {
        /// [`process::MAP_LEGACY`] or [`process::MAP_ATTR`].
        request: u32,
        /// The DSP address.
        vaddrout: u64,
    },
    /// None (a request of a kind the kernel never makes: `-EINVAL` once
    /// the client has a process).
    Nothing,
}

impl Unmap {
    /// Whether `m` is the mapping this selects.
    fn selects(self, m: &RemoteMap) -> bool {
        match self {
            Self::Legacy { vaddrout, size } => {
                m.request == process::MAP_LEGACY && m.vaddrout == vaddrout && m.size == size
            }
            Self::Attr { fd, vaddr } => {
                m.request == process::MAP_ATTR
                    && fd.is_none_or(|fd| m.fd == fd)
                    && m.vaddrout == vaddr
            }
            Self::Made { request, vaddrout } => m.request == request && m.vaddrout == vaddrout,
            Self::Nothing => false,
        }
    }
}

/// Undoes the first mapping of the client `which` selects; `-EINVAL` if
/// the kernel made none such. If the DSP refuses or does not answer, the
/// mapping is kept.
pub(crate) fn unmap(c: &Client, which: Unmap) -> Result<u32> {
    let pd = c.pd()?;
    let m = c.with_process(|p| p.take_record(|m| which.selects(m)))?;
    let r = process::unmap(c.target(), pd, &m);
    c.with_process(|p| match r {
        Ok(()) => {
            p.unreserve_record();
            drop(m);
            Ok(0)
        }
        Err(e) => {
            // The DSP may still use it: keep tracking it.
            p.track(m);
            Err(e)
        }
    })
}
