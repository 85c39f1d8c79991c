// SPDX-License-Identifier: GPL-2.0

//! Identity mappings (IOVA == physical address) in the IOMMU domain of
//! another device: how a remote heap becomes reachable by a DSP whose
//! remoteproc sits behind an SMMU that the kernel, running at EL2 without
//! a hypervisor, programs itself.
//!
//! C header: [`include/linux/iommu.h`](srctree/include/linux/iommu.h)

use kernel::{
    bindings,
    device::{
        property::FwNode,
        Device, //
    },
    prelude::*,
    sync::aref::ARef, //
};

use super::{
    guarded::{
        Access,
        DeviceMemory,
        Guarded, //
    },
    sys, //
};

/// The device the kernel created for DT node `node` (a platform device),
/// if any.
pub(crate) fn platform_device_of(node: &FwNode) -> Option<ARef<Device>> {
    let np = super::of::device_node(node).ok()?;
    // SAFETY: `np` is a valid DT node; returns NULL or a platform device
    // with a reference for us.
    let pdev = unsafe { sys::of_find_device_by_node(np) };
    if pdev.is_null() {
        return None;
    }
    // SAFETY: `pdev` is valid and referenced; the reference moves to the
    // `ARef` (whose drop is `put_device`).
    unsafe {
        let dev = Device::from_raw(&raw mut (*pdev).dev);
        Some(ARef::from_raw(core::ptr::NonNull::from(dev)))
    }
}

/// What translation a device's IOMMU does.
pub(crate) enum Translation {
    /// The device is not (yet) attached to an IOMMU domain.
    Unattached,
    /// Its domain passes addresses through: IOVA == PA already.
    Identity,
    /// Its domain translates through page tables the kernel owns.
    Paging,
}

/// The current domain of `dev` and what kind it is.
fn domain_of(dev: &Device) -> (*mut bindings::iommu_domain, Translation) {
    let raw = core::ptr::from_ref(dev)
        .cast_mut()
        .cast::<bindings::device>();
    // SAFETY: `Device` wraps a valid `struct device`.
    let domain = unsafe { bindings::iommu_get_domain_for_dev(raw) };
    if domain.is_null() {
        return (domain, Translation::Unattached);
    }
    // SAFETY: a domain returned for a device is valid while it is
    // attached; only its type is read.
    let ty = unsafe { (*domain).type_ };
    let kind = if ty == bindings::IOMMU_DOMAIN_IDENTITY {
        Translation::Identity
    } else if ty & bindings::__IOMMU_DOMAIN_PAGING != 0 {
        Translation::Paging
    } else {
        Translation::Unattached
    };
    (domain, kind)
}

/// What the IOMMU of `dev` does now.
pub(crate) fn translation(dev: &Device) -> Translation {
    domain_of(dev).1
}

/// A device's memory mapped at IOVA == PA, read/write, in the paging
/// domain of a device; unmapped when revoked or dropped.
///
/// # Invariants
///
/// While `mapped`, the range is mapped in `domain`, the domain `dev` was
/// attached to when it was mapped; `dev` holds a reference so the device
/// and its group stay.
pub(crate) struct IdentityMap {
    dev: ARef<Device>,
    domain: *mut bindings::iommu_domain,
    iova: kernel::ffi::c_ulong,
    size: usize,
    mapped: bool,
}

// SAFETY: the domain pointer is only compared and passed to the IOMMU
// core, which does its own locking.
unsafe impl Send for IdentityMap {}
// SAFETY: `&self` only reads.
unsafe impl Sync for IdentityMap {}

impl IdentityMap {
    /// Maps `memory` at IOVA == PA in `dev`'s paging domain; the mapping
    /// keeps `memory` until it is unmapped. `-EPROBE_DEFER` while `dev`
    /// has no domain, `-EINVAL` if its domain is not a paging domain (an
    /// identity domain needs no mapping).
    pub(crate) fn new<M: DeviceMemory>(dev: ARef<Device>, memory: M) -> Result<Guarded<Self, M>> {
        let (domain, kind) = domain_of(&dev);
        match kind {
            Translation::Unattached => return Err(EPROBE_DEFER),
            Translation::Identity => return Err(EINVAL),
            Translation::Paging => {}
        }
        let (base, size) = memory.range();
        let size = usize::try_from(size).map_err(|_| EINVAL)?;
        let iova = kernel::ffi::c_ulong::try_from(base).map_err(|_| EINVAL)?;
        let prot = (bindings::IOMMU_READ | bindings::IOMMU_WRITE) as kernel::ffi::c_int;
        // SAFETY: `domain` is `dev`'s current paging domain; no kernel or
        // Rust object lives in the range while `memory` does
        // (`DeviceMemory`), and `memory` is kept until the unmap.
        kernel::error::to_result(unsafe {
            bindings::iommu_map(domain, iova, base, size, prot, bindings::GFP_KERNEL)
        })?;
        let map = Self {
            dev,
            domain,
            iova,
            size,
            mapped: true,
        };
        Ok(Guarded::new(map, memory))
    }

    /// Unmaps the range, once.
    fn unmap(&mut self) {
        if !core::mem::replace(&mut self.mapped, false) {
            return;
        }
        let (now, _) = domain_of(&self.dev);
        if now != self.domain {
            // The device left the domain the range was mapped in; that
            // domain (and the mapping with it) is gone.
            dev_warn!(
                self.dev,
                "remote heap: IOMMU domain changed; mapping dropped with it\n"
            );
            return;
        }
        // SAFETY: by the invariant the range is mapped in `domain`, which
        // is still the device's.
        let done = unsafe { bindings::iommu_unmap(self.domain, self.iova, self.size) };
        if done != self.size {
            dev_err!(
                self.dev,
                "remote heap: unmapped {:#x} of {:#x} bytes\n",
                done,
                self.size
            );
        }
    }
}

impl Access for IdentityMap {
    /// Unmaps the range (a short unmap is logged, as on drop).
    fn revoke(&mut self) -> Result {
        self.unmap();
        Ok(())
    }
}

impl Drop for IdentityMap {
    fn drop(&mut self) {
        self.unmap();
    }
}
