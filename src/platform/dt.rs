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

use crate::{
    ffi::of,
    platform::{
        domain::Domain,
        regions::{
            self,
            Region,
            RegionError,
            RegionKind,
            RoleError,
            Roles, //
        },
        soc::{
            SocData, //
            POLL_MACHINES,
        },
        topology::{
            self,
            AddrLayout,
            CbSpec,
            TopologyError, //
        },
    },
};

/// Compatible of a context-bank child node.
const CB_COMPATIBLE: &CStr = c"qcom,fastrpc-compute-cb";

/// Upper bound on `qcom,vmids` entries.
const MAX_VMIDS: usize = 8;

/// What the device tree says about one FastRPC channel.
pub(crate) struct ChannelConfig {
    /// What the node's compatible says about the SoC.
    pub(crate) soc: &'static SocData,
    /// How the DSP's addresses are built on this channel.
    pub(crate) layout: AddrLayout,
    /// The DSP firmware supports poll mode.
    pub(crate) poll_mode: bool,
    /// `qcom,non-secure-domain`: unsigned (non-secure) processes allowed.
    pub(crate) non_secure: bool,
    /// `qcom,vmids`: VMs the remote heap is shared with.
    pub(crate) vmids: KVec<u32>,
    /// The context banks, checked by [`topology::check_cbs`].
    pub(crate) cbs: KVec<(ARef<FwNode>, CbSpec)>,
    /// Total sessions over all context banks.
    pub(crate) sessions: usize,
    /// The reserved-memory regions the node names.
    pub(crate) memory: MemoryRegions,
    /// The remoteproc node (parent of the glink edge holding the FastRPC
    /// node), if the node sits in that topology.
    pub(crate) remoteproc: Option<ARef<FwNode>>,
}

/// One `memory-region` entry, checked.
pub(crate) struct RegionEntry {
    /// The reserved-memory node.
    pub(crate) node: ARef<FwNode>,
    /// Where it was placed at boot.
    pub(crate) region: Region,
    /// The reservation, if it is `no-map`.
    pub(crate) nomap: Option<of::NoMapRegion>,
}

/// The node's `memory-region` entries by role (see [`regions::roles`]).
#[derive(Default)]
pub(crate) struct MemoryRegions {
    /// Memory of the static PDs (`"remote-heap"`, or the only unnamed
    /// entry).
    pub(crate) remote_heap: Option<RegionEntry>,
    /// The CMA pool of apps (`"apps-cma"`).
    pub(crate) apps_cma: Option<RegionEntry>,
    /// Its index in `memory-region`.
    pub(crate) apps_cma_index: Option<usize>,
    /// The carve-out pool of apps (`"apps-carveout"`).
    pub(crate) apps_carveout: Option<RegionEntry>,
}

/// Logs a region error for `node`.
fn region_error(dev: &Device, node: &FwNode, e: RegionError) -> Error {
    let n = node.display_name();
    match e {
        RegionError::BadCells => dev_err!(dev, "{}: malformed `reg`\n", n),
        RegionError::Empty => dev_err!(dev, "{}: empty region\n", n),
        RegionError::Wraps => dev_err!(dev, "{}: region wraps around the address space\n", n),
        RegionError::Overlaps(_) => {
            dev_err!(dev, "{}: region overlaps another reserved region\n", n)
        }
        RegionError::NoMapAndReusable => {
            dev_err!(dev, "{}: region is both no-map and reusable\n", n)
        }
    }
    EINVAL
}

/// Reads reserved-memory node `node`: its kind, its `reg` if it has one
/// (checked against the parent's cell sizes), and its placement at boot.
fn read_region(dev: &Device, node: &FwNode, parent: &FwNode) -> Result<Option<Region>> {
    let shared = node
        .property_match_string(c"compatible", c"shared-dma-pool")
        .is_ok();
    let kind = regions::classify(
        node.property_read_bool(c"no-map"),
        node.property_read_bool(c"reusable"),
        shared,
    )
    .map_err(|e| region_error(dev, node, e))?;
    if node.property_present(c"reg") {
        let ac: u32 = parent.property_read(c"#address-cells").or(2);
        let sc: u32 = parent.property_read(c"#size-cells").or(2);
        let n = node.property_count_elem::<u32>(c"reg").unwrap_or(0);
        let cells = node
            .property_read_array_vec::<u32>(c"reg", n)?
            .required_by(dev)?;
        let (base, size) =
            regions::reg_entry(&cells, ac, sc).map_err(|e| region_error(dev, node, e))?;
        regions::check_region(&Region { base, size, kind })
            .map_err(|e| region_error(dev, node, e))?;
    }
    Ok(of::reserved_region(node).map(|(base, size)| Region { base, size, kind }))
}

/// Checks `region` (of node `target`) against every other reserved region
/// as placed at boot (no overlaps).
fn check_siblings(dev: &Device, target: &FwNode) -> Result {
    let parent = of::parent(target).ok_or(EINVAL)?;
    let mut all = KVec::new();
    let mut names = KVec::new();
    for sibling in parent.children() {
        if let Some(r) = read_region(dev, &sibling, &parent)? {
            all.push(r, GFP_KERNEL)?;
            names.push(sibling, GFP_KERNEL)?;
        }
    }
    if let Err((i, e)) = regions::check_regions(&all) {
        return Err(region_error(dev, &names[i], e));
    }
    Ok(())
}

/// Reads the region entry `index` of the node's `memory-region` points
/// to and checks it.
fn read_entry(dev: &Device, node: &FwNode, index: usize) -> Result<RegionEntry> {
    let target = of::reference(node, c"memory-region", index).ok_or_else(|| {
        dev_err!(
            dev,
            "{}: memory-region points nowhere\n",
            node.display_name()
        );
        EINVAL
    })?;
    let parent = of::parent(&target).ok_or(EINVAL)?;
    let region = read_region(dev, &target, &parent)?.ok_or_else(|| {
        dev_err!(
            dev,
            "{}: region was not reserved at boot\n",
            target.display_name()
        );
        EINVAL
    })?;
    if region.kind == RegionKind::Other {
        dev_err!(
            dev,
            "{}: memory-region is neither no-map nor a reusable shared-dma-pool\n",
            target.display_name()
        );
        return Err(EINVAL);
    }
    check_siblings(dev, &target)?;
    let nomap = of::no_map_region(&target);
    if region.kind == RegionKind::Carveout && nomap.is_none() {
        dev_err!(
            dev,
            "{}: carve-out is not a no-map reservation\n",
            target.display_name()
        );
        return Err(EINVAL);
    }
    Ok(RegionEntry {
        node: target,
        region,
        nomap,
    })
}

/// Which `memory-region` entry has which role.
fn read_roles(dev: &Device, node: &FwNode, entries: usize) -> Result<Roles> {
    let has_names = node.property_present(c"memory-region-names");
    let mut named = [None; 3];
    for (slot, name) in named.iter_mut().zip([
        c"remote-heap",
        c"apps-cma",
        c"apps-carveout", //
    ]) {
        *slot = node
            .property_match_string(c"memory-region-names", name)
            .ok();
    }
    regions::roles(entries, named, has_names).map_err(|e| {
        let n = node.display_name();
        match e {
            RoleError::Unnamed(i) => dev_err!(
                dev,
                "{}: memory-region entry {} has no known name ({:?})\n",
                n,
                i,
                regions::ROLE_NAMES
            ),
            RoleError::NoSuchEntry(i) => dev_err!(
                dev,
                "{}: memory-region-names \"{}\" has no memory-region entry\n",
                n,
                regions::ROLE_NAMES[i]
            ),
            RoleError::Shared(i) => dev_err!(dev, "{}: memory-region entry {} named twice\n", n, i),
        }
        EINVAL
    })
}

/// Entry `index` of the node's memory regions, required to be of `kind`
/// for role `role`.
fn entry_of_kind(
    dev: &Device,
    node: &FwNode,
    index: Option<usize>,
    (kind, role): (RegionKind, &str),
) -> Result<Option<RegionEntry>> {
    let Some(i) = index else {
        return Ok(None);
    };
    let entry = read_entry(dev, node, i)?;
    if entry.region.kind != kind {
        let what = match kind {
            RegionKind::Cma => "reusable shared-dma-pool",
            _ => "no-map region",
        };
        dev_err!(
            dev,
            "{}: {} must be a {}\n",
            entry.node.display_name(),
            role,
            what
        );
        return Err(EINVAL);
    }
    Ok(Some(entry))
}

/// Reads the FastRPC node's `memory-region` entries and their roles.
fn read_memory_regions(dev: &Device, node: &FwNode) -> Result<MemoryRegions> {
    let mut out = MemoryRegions::default();
    if !node.property_present(c"memory-region") {
        return Ok(out);
    }
    let n = node.property_count_elem::<u32>(c"memory-region")?;
    let roles = read_roles(dev, node, n)?;
    if let Some(i) = roles.remote_heap {
        out.remote_heap = Some(read_entry(dev, node, i)?);
    }
    out.apps_cma = entry_of_kind(dev, node, roles.apps_cma, (RegionKind::Cma, "apps-cma"))?;
    out.apps_cma_index = roles.apps_cma;
    out.apps_carveout = entry_of_kind(
        dev,
        node,
        roles.apps_carveout,
        (RegionKind::Carveout, "apps-carveout"),
    )?;
    Ok(out)
}

/// The remoteproc node of a FastRPC node: the parent of its glink edge.
fn read_remoteproc(node: &FwNode) -> Option<ARef<FwNode>> {
    let edge = of::parent(node)?;
    of::parent(&edge)
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
        smmu: child.property_present(c"iommus"),
    })
}

/// The node's `qcom,vmids` (1..=`MAX_VMIDS` entries, or none).
fn read_vmids(dev: &Device, node: &FwNode) -> Result<KVec<u32>> {
    if !node.property_present(c"qcom,vmids") {
        return Ok(KVec::new());
    }
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
    node.property_read_array_vec::<u32>(c"qcom,vmids", n)?
        .required_by(dev)
}

/// The node's context-bank children, read one by one.
fn read_cbs(dev: &Device, node: &FwNode) -> Result<KVec<(ARef<FwNode>, CbSpec)>> {
    let mut cbs = KVec::new();
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
        cbs.push((child, spec), GFP_KERNEL)?;
    }
    Ok(cbs)
}

/// Logs a topology error of `node`.
fn topology_error(dev: &Device, node: &FwNode, e: TopologyError) -> Error {
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
}

/// The SoC data the node's `compatible` selects (the driver matched one
/// of them, so one is there).
fn read_soc(dev: &Device, node: &FwNode) -> Result<&'static SocData> {
    SocData::of_node(|c| node.property_match_string(c"compatible", c).ok()).ok_or_else(|| {
        dev_err!(dev, "{}: no FastRPC compatible\n", node.display_name());
        ENODEV
    })
}

/// Whether the DSP firmware answers polling calls: by SoC data, or for
/// the machines upstream lists.
fn poll_mode(soc: &SocData) -> bool {
    soc.poll_mode || POLL_MACHINES.iter().any(|m| of::machine_is_compatible(m))
}

/// Reads and checks the channel node `node` of `dev`, the channel of
/// `domain`.
pub(crate) fn read_channel(dev: &Device, node: &FwNode, domain: Domain) -> Result<ChannelConfig> {
    let soc = read_soc(dev, node)?;
    let layout = soc.layout(domain);
    let vmids = read_vmids(dev, node)?;
    let cbs = read_cbs(dev, node)?;
    let mut specs = KVec::with_capacity(cbs.len(), GFP_KERNEL)?;
    for (_, spec) in cbs.iter() {
        specs.push(*spec, GFP_KERNEL)?;
    }
    let sessions = topology::check_cbs(&specs, layout).map_err(|e| topology_error(dev, node, e))?;
    Ok(ChannelConfig {
        soc,
        layout,
        poll_mode: poll_mode(soc),
        non_secure: node.property_read_bool(c"qcom,non-secure-domain"),
        vmids,
        cbs,
        sessions,
        memory: read_memory_regions(dev, node)?,
        remoteproc: read_remoteproc(node),
    })
}
