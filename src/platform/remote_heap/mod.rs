// SPDX-License-Identifier: GPL-2.0

//! The remote heap: memory of a DSP's static PDs (the ADSP's audio PD).
//!
//! It is the `"remote-heap"` entry of the FastRPC node's `memory-region`
//! (the only entry of a board DT written for `drivers/misc/fastrpc.c`).
//! qda owns it for as long as the channel is bound, and no app allocates
//! from it:
//!
//! - a reusable CMA region is taken whole at probe, so the kernel never
//!   lends its pages out while the DSP owns them; a `no-map` region is
//!   used as reserved;
//! - the DSP must be allowed to reach it. When the remoteproc node (the
//!   parent of the glink edge holding the FastRPC node) has `iommus`, the
//!   heap is identity-mapped (IOVA == PA) into that device's IOMMU
//!   domain. Otherwise, with `qcom,vmids`, it is assigned to those VMs
//!   through SCM and given back to HLOS on remove (see
//!   [`crate::ffi::scm`]).
//!   Otherwise the DSP reaches physical memory directly.
//!
//! The heap is zeroed before the DSP is given it, and freed only after
//! the DSP's access was revoked (leaked if that failed, see
//! [`crate::ffi::guarded`]).
//!
//! The heap goes to the DSP with the first INIT_CREATE_STATIC on the
//! channel only ([`HeapInfo::claim`]); the static PD keeps it across
//! daemon restarts, until the channel goes (subsystem restart).

pub(crate) mod info;

pub(crate) use info::HeapInfo;

use kernel::{
    device::{
        property::FwNode,
        Device, //
    },
    prelude::*,
    sync::Arc, //
};

use crate::{
    ffi::{
        cma::WholeCmaRegion,
        guarded::{
            DeviceMemory,
            Guarded, //
        },
        iommu::{
            self,
            IdentityMap,
            Translation, //
        },
        scm::{
            HeapAssignment,
            ScmAssigner, //
        },
    },
    platform::dt::{
        ChannelConfig,
        RegionEntry, //
    },
};

/// How the DSP is allowed to reach the heap's memory `M`, which it holds.
/// Undone (and the memory freed, or leaked if undoing failed) on drop.
enum HeapAccess<M: DeviceMemory> {
    /// Identity-mapped in the remoteproc's IOMMU domain.
    Identity(Guarded<IdentityMap, M>),
    /// Assigned to the DSP's VMs through SCM.
    Assigned(Guarded<HeapAssignment<ScmAssigner>, M>),
    /// Nothing to do: the remoteproc's IOMMU passes through, or there is
    /// no IOMMU and no hypervisor in between.
    Direct(M),
}

/// Where the heap's pages come from, and the DSP's access to them.
enum Heap {
    /// A reusable region, taken whole from its CMA area.
    Cma(HeapAccess<WholeCmaRegion>),
    /// A `no-map` region reserved at boot.
    NoMap(HeapAccess<crate::ffi::of::NoMapRegion>),
}

/// The remote heap of a bound channel: on drop, the DSP's access is
/// revoked before the memory goes back (which is leaked if revoking
/// failed).
pub(crate) struct RemoteHeap {
    heap: Heap,
    info: Arc<HeapInfo>,
}

/// Lets the DSP of `cfg` reach `memory`, which the access then holds.
fn grant_access<M: DeviceMemory>(
    dev: &Device,
    cfg: &ChannelConfig,
    memory: M,
) -> Result<HeapAccess<M>> {
    let rproc = cfg
        .remoteproc
        .as_ref()
        .filter(|r| r.property_present(c"iommus"));
    if let Some(rproc) = rproc {
        return identity_map(dev, rproc, memory);
    }
    if cfg.vmids.is_empty() {
        return Ok(HeapAccess::Direct(memory));
    }
    let Some(scm) = ScmAssigner::get()? else {
        dev_info!(dev, "remote heap: waiting for SCM to assign it\n");
        return Err(EPROBE_DEFER);
    };
    HeapAssignment::new(scm, memory, &cfg.vmids).map(HeapAccess::Assigned)
}

/// Identity-maps `memory` in the IOMMU domain of remoteproc node `rproc`.
fn identity_map<M: DeviceMemory>(dev: &Device, rproc: &FwNode, memory: M) -> Result<HeapAccess<M>> {
    let Some(rdev) = iommu::platform_device_of(rproc) else {
        dev_info!(
            dev,
            "remote heap: waiting for the device of {}\n",
            rproc.display_name()
        );
        return Err(EPROBE_DEFER);
    };
    match iommu::translation(&rdev) {
        Translation::Identity => Ok(HeapAccess::Direct(memory)),
        Translation::Unattached => {
            dev_info!(
                dev,
                "remote heap: waiting for {} to join its IOMMU\n",
                rproc.display_name()
            );
            Err(EPROBE_DEFER)
        }
        Translation::Paging => IdentityMap::new(rdev, memory)
            .map(HeapAccess::Identity)
            .inspect_err(|e| {
                dev_err!(dev, "remote heap: identity map failed: {:?}\n", e);
            }),
    }
}

impl<M: DeviceMemory> HeapAccess<M> {
    /// How the DSP reaches the heap, for logs and debugfs.
    fn name(&self) -> &'static str {
        match self {
            Self::Identity(_) => "identity-mapped",
            Self::Assigned(_) => "scm-assigned",
            Self::Direct(_) => "direct",
        }
    }
}

impl Heap {
    /// Takes the pages of region `entry`, zeroed (the DSP never sees what
    /// the kernel or an earlier user left there), and lets the DSP of
    /// `cfg` reach them; with their `(base, size)`. The memory is freed
    /// on failure.
    fn take(dev: &Device, cfg: &ChannelConfig, entry: &RegionEntry) -> Result<(Self, (u64, u64))> {
        let taken = |e: &Error| {
            dev_err!(
                dev,
                "{}: remote heap not available: {:?}\n",
                entry.node.display_name(),
                e
            );
        };
        match entry.nomap {
            Some(nomap) => {
                nomap.zero().inspect_err(taken)?;
                let range = nomap.range();
                Ok((Self::NoMap(grant_access(dev, cfg, nomap)?), range))
            }
            None => {
                let mut cma = WholeCmaRegion::take(&entry.node).inspect_err(taken)?;
                cma.zero().inspect_err(taken)?;
                let range = cma.range();
                Ok((Self::Cma(grant_access(dev, cfg, cma)?), range))
            }
        }
    }
}

impl RemoteHeap {
    /// Takes the remote heap of the channel `cfg` describes, if it names
    /// one, and lets the DSP reach it. `-EPROBE_DEFER` while the
    /// remoteproc's IOMMU domain or SCM is not there yet.
    pub(crate) fn new(dev: &Device, cfg: &ChannelConfig) -> Result<Option<Self>> {
        let Some(entry) = cfg.memory.remote_heap.as_ref() else {
            return Ok(None);
        };
        let (heap, (base, size)) = Heap::take(dev, cfg, entry)?;
        let info = Arc::new(HeapInfo::new(base, size), GFP_KERNEL)?;
        Ok(Some(Self { heap, info }))
    }

    /// What the engine needs of the heap.
    pub(crate) fn info(&self) -> &Arc<HeapInfo> {
        &self.info
    }

    /// How the DSP reaches the heap, for logs and debugfs.
    pub(crate) fn access(&self) -> &'static str {
        match &self.heap {
            Heap::Cma(a) => a.name(),
            Heap::NoMap(a) => a.name(),
        }
    }
}
