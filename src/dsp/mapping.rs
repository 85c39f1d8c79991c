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
    let s = c.session();
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
    let r = process::map(&c.channel, s.cb(), s.client_id(), pd, a);
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

/// Undoes the first mapping of the client `which` selects; `-EINVAL` if
/// the kernel made none such. If the DSP refuses or does not answer, the
/// mapping is kept.
pub(crate) fn unmap(c: &Client, which: impl Fn(&RemoteMap) -> bool) -> Result<u32> {
    let s = c.session();
    let pd = c.pd()?;
    let m = c.with_process(|p| p.take_record(which))?;
    let r = process::unmap(&c.channel, s.cb(), s.client_id(), pd, &m);
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
