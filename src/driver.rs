// SPDX-License-Identifier: GPL-2.0

//! The rpmsg driver: one DRM accel device per FastRPC channel.

use core::sync::atomic::{
    AtomicU32,
    Ordering, //
};
use kernel::{
    prelude::*,
    str::CString,
    sync::Arc, //
};

use crate::{
    domain::Domain,
    ffi::{
        accel,
        rpmsg, //
    },
    file,
    uapi, //
};

/// Per-DSP state shared by every open file of its accel node.
pub(crate) struct QdaDevice {
    /// Which DSP this is.
    pub(crate) domain: Domain,
}

/// The ioctls, indexed by their number relative to `DRM_COMMAND_BASE`.
static IOCTLS: accel::IoctlTable<1> = accel::ioctl_table!(QdaDevice;
    (uapi::DRM_IOCTL_QDA_QUERY, uapi::drm_qda_query, file::query),
);

static FOPS: accel::FileOps = accel::FileOps::new(&raw const kernel::bindings::__this_module);

static DRIVER: accel::DriverTable<QdaDevice> =
    accel::DriverTable::new(c"qda", c"Qualcomm Hexagon DSP accelerator", &IOCTLS, &FOPS);

/// Count of messages received with no request in flight.
static DROPPED: AtomicU32 = AtomicU32::new(0);

/// The rpmsg driver for FastRPC channels.
pub(crate) struct QdaDriver;

/// What a bound channel owns.
pub(crate) struct Bound {
    _accel: accel::Registration<QdaDevice>,
}

impl rpmsg::Driver for QdaDriver {
    type Data = Bound;
    const NAME: &'static CStr = c"qda";
    const CHANNEL: &'static CStr = c"fastrpcglink-apps-dsp";
    const COMPATIBLE: &'static CStr = c"qcom,fastrpc";

    fn probe(rpdev: &rpmsg::Device) -> Result<KBox<Bound>> {
        let dev = rpdev.as_ref();
        let node = dev.fwnode().ok_or_else(|| {
            dev_err!(dev, "no device-tree node for this FastRPC channel\n");
            ENODEV
        })?;
        let label: CString = node.property_read(c"label").required_by(dev)?;
        let domain = Domain::from_label(label.to_bytes()).ok_or_else(|| {
            dev_err!(
                dev,
                "{}: unknown DSP label {:?}\n",
                node.display_name(),
                label
            );
            EINVAL
        })?;
        let data = Arc::new(QdaDevice { domain }, GFP_KERNEL)?;
        let accel = accel::Registration::new(dev, &DRIVER, data)?;
        dev_info!(
            dev,
            "{} DSP registered as /dev/accel/accel{}\n",
            domain.label(),
            accel.index()
        );
        Ok(KBox::new(Bound { _accel: accel }, GFP_KERNEL)?)
    }

    fn receive(_data: &Bound, msg: &[u8]) {
        // Nothing is sent to the DSP yet, so nothing can be answered. Log
        // the 1st, 2nd, 4th, 8th, ... such message: a misbehaving remote
        // cannot flood the log.
        let n = DROPPED.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if n.is_power_of_two() {
            pr_warn!(
                "qda: dropped unsolicited {}-byte message ({} so far)\n",
                msg.len(),
                n
            );
        }
    }
}
