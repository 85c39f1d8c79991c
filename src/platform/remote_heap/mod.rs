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
//!   through SCM and given back to HLOS on remove (see [`assign`]).
//!   Otherwise the DSP reaches physical memory directly.
//!
//! The heap is zeroed before the DSP is given it, and freed only after
//! the DSP's access was revoked (leaked if that failed, see [`guarded`]).
//!
//! The heap goes to the DSP with the first INIT_CREATE_STATIC on the
//! channel only ([`HeapInfo::claim`]); the static PD keeps it across
//! daemon restarts, until the channel goes (subsystem restart).

pub(crate) mod assign;
pub(crate) mod guarded;
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
        iommu::{
            self,
            IdentityMap,
            Translation, //
        },
        of::NoMapRegion,
        scm::ScmAssigner, //
    },
    platform::dt::{
        ChannelConfig,
        RegionEntry, //
    },
};

/// Where the heap's pages come from.
enum HeapMemory {
    /// A reusable region, taken whole from its CMA area.
    Cma(WholeCmaRegion),
    /// A `no-map` region reserved at boot.
    NoMap(NoMapRegion),
}

/// How the DSP is allowed to reach the heap. Undone on drop.
enum HeapAccess {
    /// Identity-mapped in the remoteproc's IOMMU domain.
    Identity(#[expect(dead_code, reason = "held for its drop: the unmap")] IdentityMap),
    /// Assigned to the DSP's VMs through SCM.
    Assigned(assign::HeapAssignment<ScmAssigner>),
    /// Nothing to do: the remoteproc's IOMMU passes through, or there is
    /// no IOMMU and no hypervisor in between.
    Direct,
    /// Taken away.
    Revoked,
}

impl guarded::Access for HeapAccess {
    fn revoke(&mut self) -> Result {
        match core::mem::replace(self, Self::Revoked) {
            Self::Assigned(mut a) => a.give_back(),
            // Dropping an identity map unmaps it.
            _ => Ok(()),
        }
    }
}

/// The remote heap of a bound channel: on drop, the DSP's access is
/// revoked before the memory goes back (which is leaked if revoking
/// failed).
pub(crate) struct RemoteHeap {
    heap: guarded::Guarded<HeapAccess, HeapMemory>,
    info: Arc<HeapInfo>,
}

impl HeapMemory {
    /// Takes the pages of region `entry`, zeroed: the DSP never sees what
    /// the kernel or an earlier user left there.
    fn take(entry: &RegionEntry) -> Result<Self> {
        match entry.nomap {
            Some(nomap) => nomap.zero().map(|()| Self::NoMap(nomap)),
            None => {
                let mut cma = WholeCmaRegion::take(&entry.node)?;
                cma.zero()?;
                Ok(Self::Cma(cma))
            }
        }
    }

    /// `(base, size)`.
    fn range(&self) -> (u64, u64) {
        match self {
            Self::Cma(c) => (c.base(), c.size()),
            Self::NoMap(n) => (n.base(), n.size()),
        }
    }
}

/// Makes `[base, base + size)` reachable by the DSP of `cfg`.
///
/// # Safety
///
/// The caller owns the range (the heap's memory) until the returned access
/// is dropped, and frees it only after.
unsafe fn grant_access(
    dev: &Device,
    cfg: &ChannelConfig,
    base: u64,
    size: u64,
) -> Result<HeapAccess> {
    let rproc = cfg
        .remoteproc
        .as_ref()
        .filter(|r| r.property_present(c"iommus"));
    if let Some(rproc) = rproc {
        // SAFETY: the caller owns the range (this function's contract).
        return unsafe { identity_map(dev, rproc, base, size) };
    }
    if cfg.vmids.is_empty() {
        return Ok(HeapAccess::Direct);
    }
    let Some(scm) = ScmAssigner::get()? else {
        dev_info!(dev, "remote heap: waiting for SCM to assign it\n");
        return Err(EPROBE_DEFER);
    };
    // SAFETY: the caller owns the range (this function's contract).
    unsafe { assign::HeapAssignment::new(scm, base, size, &cfg.vmids) }.map(HeapAccess::Assigned)
}

/// Identity-maps the heap in the IOMMU domain of remoteproc node `rproc`.
///
/// # Safety
///
/// As [`grant_access`].
unsafe fn identity_map(dev: &Device, rproc: &FwNode, base: u64, size: u64) -> Result<HeapAccess> {
    let Some(rdev) = iommu::platform_device_of(rproc) else {
        dev_info!(
            dev,
            "remote heap: waiting for the device of {}\n",
            rproc.display_name()
        );
        return Err(EPROBE_DEFER);
    };
    match iommu::translation(&rdev) {
        Translation::Identity => Ok(HeapAccess::Direct),
        Translation::Unattached => {
            dev_info!(
                dev,
                "remote heap: waiting for {} to join its IOMMU\n",
                rproc.display_name()
            );
            Err(EPROBE_DEFER)
        }
        // SAFETY: the caller owns the range (this function's contract).
        Translation::Paging => unsafe { IdentityMap::new(rdev, base, size) }
            .map(HeapAccess::Identity)
            .inspect_err(|e| {
                dev_err!(dev, "remote heap: identity map failed: {:?}\n", e);
            }),
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
        let memory = HeapMemory::take(entry).inspect_err(|e| {
            dev_err!(
                dev,
                "{}: remote heap not available: {:?}\n",
                entry.node.display_name(),
                e
            );
        })?;
        let (base, size) = memory.range();
        // SAFETY: `memory` owns the range: a whole CMA region taken from
        // its area, or a no-map region nothing else uses. It is freed only
        // after the access is revoked (`Guarded`), or right here after a
        // failed grant.
        let access = unsafe { grant_access(dev, cfg, base, size)? };
        let heap = guarded::Guarded::new(access, memory);
        let info = Arc::new(HeapInfo::new(base, size), GFP_KERNEL)?;
        Ok(Some(Self { heap, info }))
    }

    /// What the engine needs of the heap.
    pub(crate) fn info(&self) -> &Arc<HeapInfo> {
        &self.info
    }

    /// How the DSP reaches the heap, for logs and debugfs.
    pub(crate) fn access(&self) -> &'static str {
        match self.heap.access() {
            HeapAccess::Identity(_) => "identity-mapped",
            HeapAccess::Assigned(_) => "scm-assigned",
            HeapAccess::Direct => "direct",
            HeapAccess::Revoked => "revoked",
        }
    }
}
