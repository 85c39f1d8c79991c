// SPDX-License-Identifier: GPL-2.0

//! The legacy misc devices of one channel (`/dev/fastrpc-<label>` and
//! `-secure`, see [`crate::dsp::policy::legacy_nodes`]).

use kernel::{miscdevice::MiscDeviceOptions, prelude::*, sync::Arc};

use super::{
    file::LegacyFile,
    names::node_name, //
};
use crate::{
    dsp::policy::legacy_nodes,
    dsp::Dsp,
    ffi::{
        accel::DrmDeviceRef,
        misc::MiscNode, //
    },
};

/// What one legacy node keeps for the files opened on it.
pub(super) struct LegacyNode {
    pub(super) dev: Arc<Dsp>,
    pub(super) drm: DrmDeviceRef,
    /// The `-secure` node.
    pub(super) secure: bool,
}

impl LegacyNode {
    /// Registers the node of `dev` that is `secure` or not.
    fn register(
        dev: &Arc<Dsp>,
        drm: &DrmDeviceRef,
        secure: bool,
    ) -> Result<Pin<KBox<MiscNode<LegacyFile>>>> {
        let opts = MiscDeviceOptions {
            name: node_name(dev.domain, secure),
        };
        let node = Self {
            dev: dev.clone(),
            drm: drm.clone(),
            secure,
        };
        MiscNode::register(opts, node)
    }
}

/// The legacy nodes of one channel; deregistered on drop.
pub(crate) struct LegacyNodes {
    _nodes: KVec<Pin<KBox<MiscNode<LegacyFile>>>>,
}

impl LegacyNodes {
    /// Registers the nodes upstream would register for `dev`. A name
    /// already taken (another driver, e.g. `fastrpc.ko`, serves a channel
    /// with the same label) is logged and skipped: the accel node still
    /// serves the DSP.
    pub(crate) fn register(dev: &Arc<Dsp>, drm: &DrmDeviceRef) -> Result<Self> {
        let mut nodes = KVec::new();
        if !crate::module_parameters::legacy_nodes.value() {
            return Ok(Self { _nodes: nodes });
        }
        for &secure in legacy_nodes(dev.domain, dev.secure) {
            let name = node_name(dev.domain, secure);
            match LegacyNode::register(dev, drm, secure) {
                Ok(n) => {
                    dev_info!(
                        dev.channel.device(),
                        "{}: legacy node /dev/{}\n",
                        dev.domain.label(),
                        name.to_str().unwrap_or("?")
                    );
                    nodes.push(n, GFP_KERNEL)?
                }
                Err(e) if e == EBUSY || e == EEXIST => dev_warn!(
                    dev.channel.device(),
                    "{}: /dev/{} is taken (another driver serves this DSP label): not created\n",
                    dev.domain.label(),
                    name.to_str().unwrap_or("?")
                ),
                Err(e) => return Err(e),
            }
        }
        Ok(Self { _nodes: nodes })
    }
}
