// SPDX-License-Identifier: GPL-2.0

//! The DSP's attributes (capability query on handle 2), cached per
//! device, shared by `DRM_IOCTL_QDA_GET_ATTR`, `DRM_IOCTL_QDA_QUERY` and the
//! legacy `GET_DSP_INFO`.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use crate::{
    dsp::{
        client::Client,
        Dsp, //
    },
    fastrpc::{
        process,
        wire, //
    },
};

/// The DSP's attributes: the first capability query that succeeds
/// publishes them for the device's lifetime; until then every caller asks
/// the DSP itself (no lock is held across the call, which may take up to
/// the kernel call timeout). Concurrent first queries may each ask; the
/// first answer published is kept, the others are dropped.
pub(crate) fn all(dev: &Dsp, c: &Client) -> Result<Arc<KVec<u32>>> {
    if let Some(a) = dev.attributes.as_ref() {
        return Ok(a.clone());
    }
    let pd = c.pd().unwrap_or(wire::ROOT_PD);
    let fresh = Arc::new(
        process::capabilities(&c.channel, c.session().cb(), pd)?,
        GFP_KERNEL,
    )?;
    dev.attributes.populate(fresh.clone());
    // `None` only while a concurrent first query is publishing its
    // answer: ours is as good.
    Ok(dev.attributes.as_ref().cloned().unwrap_or(fresh))
}

/// Attribute `id`; `-EOVERFLOW` past the last one.
pub(crate) fn one(dev: &Dsp, c: &Client, id: u32) -> Result<u32> {
    if id as usize >= process::DSP_ATTRIBUTES {
        return Err(EOVERFLOW);
    }
    all(dev, c)?.get(id as usize).copied().ok_or(EOVERFLOW)
}
