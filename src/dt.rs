// SPDX-License-Identifier: GPL-2.0

//! Reading a FastRPC channel's device-tree node (binding
//! `qcom,fastrpc`): the channel's own properties and its context banks.
//!
//! Every error names the offending node in the log.

use kernel::{
    device::{
        property::FwNode,
        Device, //
    },
    prelude::*,
    sync::aref::ARef, //
};

use crate::topology::{
    self,
    CbSpec,
    TopologyError, //
};

/// Compatible of a context-bank child node.
const CB_COMPATIBLE: &CStr = c"qcom,fastrpc-compute-cb";

/// Upper bound on `qcom,vmids` entries.
const MAX_VMIDS: usize = 8;

/// What the device tree says about one FastRPC channel.
pub(crate) struct ChannelConfig {
    /// `qcom,non-secure-domain`: unsigned (non-secure) processes allowed.
    pub(crate) non_secure: bool,
    /// `qcom,vmids`: VMs the remote heap is shared with.
    pub(crate) vmids: KVec<u32>,
    /// The context banks, checked by [`topology::check_cbs`].
    pub(crate) cbs: KVec<(ARef<FwNode>, CbSpec)>,
    /// Total sessions over all context banks.
    pub(crate) sessions: usize,
}

/// Reads one `qcom,fastrpc-compute-cb` child.
fn read_cb(dev: &Device, child: &FwNode) -> Result<CbSpec> {
    let sid: u32 = child
        .property_read(c"reg")
        .required_by(dev)
        .inspect_err(|_| {
            dev_err!(
                dev,
                "{}: context bank without `reg` (its SID)\n",
                child.display_name()
            );
        })?;
    if !child.property_present(c"iommus") {
        dev_err!(
            dev,
            "{}: context bank without `iommus`\n",
            child.display_name()
        );
        return Err(EINVAL);
    }
    let nsessions = if child.property_present(c"qcom,nsessions") {
        child
            .property_read::<u32>(c"qcom,nsessions")
            .required_by(dev)?
    } else {
        1
    };
    Ok(CbSpec {
        sid,
        nsessions,
        coherent: child.property_read_bool(c"dma-coherent"),
    })
}

/// Reads and checks the channel node `node` of `dev`.
pub(crate) fn read_channel(dev: &Device, node: &FwNode) -> Result<ChannelConfig> {
    let mut vmids = KVec::new();
    if node.property_present(c"qcom,vmids") {
        let n = node.property_count_elem::<u32>(c"qcom,vmids")?;
        if n == 0 || n > MAX_VMIDS {
            dev_err!(
                dev,
                "{}: qcom,vmids has {} entries (1..={})\n",
                node.display_name(),
                n,
                MAX_VMIDS
            );
            return Err(EINVAL);
        }
        vmids = node
            .property_read_array_vec::<u32>(c"qcom,vmids", n)?
            .required_by(dev)?;
    }
    let mut cbs = KVec::new();
    let mut specs = KVec::new();
    for child in node.children() {
        if child
            .property_match_string(c"compatible", CB_COMPATIBLE)
            .is_err()
        {
            continue;
        }
        if cbs.len() == topology::MAX_SESSIONS {
            dev_err!(
                dev,
                "{}: more than {} context banks\n",
                node.display_name(),
                topology::MAX_SESSIONS
            );
            return Err(EINVAL);
        }
        let spec = read_cb(dev, &child)?;
        specs.push(spec, GFP_KERNEL)?;
        cbs.push((child, spec), GFP_KERNEL)?;
    }
    let sessions = topology::check_cbs(&specs).map_err(|e| {
        let n = node.display_name();
        match e {
            TopologyError::NoContextBanks => dev_err!(dev, "{}: no {} child\n", n, CB_COMPATIBLE),
            TopologyError::TooManySessions(t) => dev_err!(
                dev,
                "{}: context banks offer {} sessions, at most {} supported\n",
                n,
                t,
                topology::MAX_SESSIONS
            ),
            TopologyError::DuplicateSid(s) => {
                dev_err!(dev, "{}: SID {} used by two context banks\n", n, s)
            }
            TopologyError::ZeroSessions(s) => {
                dev_err!(dev, "{}: context bank {} has qcom,nsessions = 0\n", n, s)
            }
            TopologyError::SidTooLarge(s) => dev_err!(dev, "{}: SID {:#x} too large\n", n, s),
        }
        EINVAL
    })?;
    Ok(ChannelConfig {
        non_secure: node.property_read_bool(c"qcom,non-secure-domain"),
        vmids,
        cbs,
        sessions,
    })
}
