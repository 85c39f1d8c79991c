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

use super::sys;

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

/// `[base, base + size)` mapped at IOVA == PA, read/write, in the paging
/// domain of a device; unmapped on drop.
///
/// # Invariants
///
/// The range is mapped in `domain`, the domain `dev` was attached to when
/// it was mapped; `dev` holds a reference so the device and its group
/// stay.
pub(crate) struct IdentityMap {
    dev: ARef<Device>,
    domain: *mut bindings::iommu_domain,
    iova: kernel::ffi::c_ulong,
    size: usize,
}

// SAFETY: the domain pointer is only compared and passed to the IOMMU
// core, which does its own locking.
unsafe impl Send for IdentityMap {}
// SAFETY: `&self` only reads.
unsafe impl Sync for IdentityMap {}

impl IdentityMap {
    /// Maps `[base, base + size)` at IOVA == PA in `dev`'s paging domain.
    /// `-EPROBE_DEFER` while `dev` has no domain, `-EINVAL` if its domain
    /// is not a paging domain (an identity domain needs no mapping).
    ///
    /// # Safety
    ///
    /// The caller owns `[base, base + size)` for as long as the mapping
    /// lives: the device behind the domain may read and write it, so no
    /// other user (kernel or Rust code) may have it.
    pub(crate) unsafe fn new(dev: ARef<Device>, base: u64, size: u64) -> Result<Self> {
        let (domain, kind) = domain_of(&dev);
        match kind {
            Translation::Unattached => return Err(EPROBE_DEFER),
            Translation::Identity => return Err(EINVAL),
            Translation::Paging => {}
        }
        let size = usize::try_from(size).map_err(|_| EINVAL)?;
        let iova = kernel::ffi::c_ulong::try_from(base).map_err(|_| EINVAL)?;
        let prot = (bindings::IOMMU_READ | bindings::IOMMU_WRITE) as kernel::ffi::c_int;
        // SAFETY: `domain` is `dev`'s current paging domain; the caller
        // owns the range (this function's contract).
        kernel::error::to_result(unsafe {
            bindings::iommu_map(domain, iova, base, size, prot, bindings::GFP_KERNEL)
        })?;
        Ok(Self {
            dev,
            domain,
            iova,
            size,
        })
    }
}

impl Drop for IdentityMap {
    fn drop(&mut self) {
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
