// SPDX-License-Identifier: GPL-2.0

//! Memory a device was given access to, freed only once that access is
//! revoked.
//!
//! Giving a device (a DSP, or the VMs it runs in) access to physical
//! memory is sound only while no object of the kernel or of Rust code
//! lives there: [`DeviceMemory`] is memory owned that way. The accesses
//! ([`super::iommu::IdentityMap`], [`super::scm::HeapAssignment`]) are
//! made only from such memory, which they move into a [`Guarded`] with
//! themselves: the access cannot be taken out, and the memory goes only
//! after the access was revoked.
//!
//! If revoking fails (an SCM give-back the hypervisor refused), the DSP or
//! its VM may still own the memory: freeing it would hand the kernel pages
//! it cannot touch or that the DSP still writes. The memory is then leaked
//! on purpose, with a line saying so.

use kernel::prelude::*;

/// Memory a device may be given access to.
///
/// # Safety
///
/// While the value lives (and forever if it is leaked), no object of the
/// kernel or of Rust code lives in [`DeviceMemory::range`] (the same range
/// on every call): a device may read and write it at any time.
pub(crate) unsafe trait DeviceMemory {
    /// `(base, size)`: physical address of the first byte, and size.
    fn range(&self) -> (u64, u64);
}

/// A device's access to some memory.
pub(crate) trait Access {
    /// Takes the access away; an error if the device may still have it.
    /// Tried once: later calls return `Ok`.
    fn revoke(&mut self) -> Result;
}

/// `memory` and `access` to it: dropping revokes the access first, then
/// frees the memory, or leaks it if the access could not be revoked.
pub(crate) struct Guarded<A: Access, M: DeviceMemory> {
    access: A,
    memory: Option<M>,
}

impl<A: Access, M: DeviceMemory> Guarded<A, M> {
    /// Pairs `memory` with `access` to it. Only the accesses of `ffi` make
    /// one, from memory they were given.
    pub(super) fn new(access: A, memory: M) -> Self {
        Self {
            access,
            memory: Some(memory),
        }
    }

    /// Revokes the access now; if that fails, the memory is leaked at once
    /// (a later call returns `Ok`: the revoke is not retried).
    pub(crate) fn revoke(&mut self) -> Result {
        let r = self.access.revoke();
        if let Err(e) = r {
            if let Some(memory) = self.memory.take() {
                pr_err!("remote heap: the DSP's access could not be revoked ({e:?}): its memory is leaked on purpose\n");
                core::mem::forget(memory);
            }
        }
        r
    }
}

impl<A: Access, M: DeviceMemory> Drop for Guarded<A, M> {
    fn drop(&mut self) {
        if self.revoke().is_ok() {
            drop(self.memory.take());
        }
    }
}
