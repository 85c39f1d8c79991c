// SPDX-License-Identifier: GPL-2.0

//! Mappings a client makes in its DSP process (`MMAP`/`MEM_MAP` and their
//! undoing), shared by the accel and the legacy UAPI. The kernel keeps
//! track of each until it is unmapped or the process ends.

use kernel::prelude::*;

use crate::{
    client::Client,
    fastrpc::process::{
        self,
        MapArgs,
        RemoteMap, //
    },
};

/// Maps `a` into the client's DSP process; returns the DSP address.
pub(crate) fn map(c: &Client, a: MapArgs) -> Result<u64> {
    let s = c.session();
    let pd = c.pd()?;
    // Room for the record first, so that tracking cannot fail after the
    // DSP made the mapping.
    c.with_process(|p| Ok(p.maps.reserve(1, GFP_KERNEL)?))?;
    let m = process::map(&c.channel, s.cb(), s.client_id(), pd, a)?;
    let vaddrout = m.vaddrout;
    c.with_process(|p| Ok(p.maps.push(m, GFP_KERNEL)?))?;
    Ok(vaddrout)
}

/// Undoes the first mapping of the client `which` selects; `-EINVAL` if
/// the kernel made none such. If the DSP refuses, the mapping is kept.
pub(crate) fn unmap(c: &Client, which: impl Fn(&RemoteMap) -> bool) -> Result<u32> {
    let s = c.session();
    let pd = c.pd()?;
    let m = c.with_process(|p| {
        let i = p.maps.iter().position(&which).ok_or(EINVAL)?;
        Ok(p.maps.remove(i)?)
    })?;
    if let Err(e) = process::unmap(&c.channel, s.cb(), s.client_id(), pd, &m) {
        // The DSP still uses it: keep tracking it.
        c.with_process(|p| Ok(p.maps.push(m, GFP_KERNEL)?))?;
        return Err(e);
    }
    Ok(0)
}
