// SPDX-License-Identifier: GPL-2.0

//! Handing the remote heap to the DSP's VMs through the hypervisor (SCM),
//! and taking it back.
//!
//! With `qcom,vmids` and no IOMMU of the remoteproc to program, the heap
//! belongs to the VMs listed there, each with read/write/execute, from the
//! probe until the channel goes; then it is given back to HLOS. A
//! [`HeapAssignment`] is that ownership: made by [`HeapAssignment::new`],
//! given back by [`HeapAssignment::give_back`] (or when dropped). A failed
//! give-back is logged and not retried, and the heap's memory is then
//! never freed (see [`super::guarded`]): a DSP VM may still own it, and
//! pages the kernel handed out again would fault or be written by the DSP.
//!
//! The SCM calls go through [`Assigner`], so KUnit can check the order of
//! calls, the permissions and the give-back on every path with a fake.

use kernel::prelude::*;

use crate::ffi::scm::{
    ScmAssigner,
    ScmVmPerm, //
};

/// VM id of the Linux host (`QCOM_SCM_VMID_HLOS`).
pub(crate) const VMID_HLOS: u32 = 3;
/// Read, write and execute (`QCOM_SCM_PERM_RWX`).
pub(crate) const PERM_RWX: u32 = 7;
/// Most VMs a heap is assigned to (`qcom,vmids` entries).
pub(crate) const MAX_VMS: usize = 8;

/// A VM and its permissions on the memory (`struct qcom_scm_vmperm`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct VmPerm {
    /// VM id.
    pub(crate) vmid: u32,
    /// `QCOM_SCM_PERM_*` bits.
    pub(crate) perm: u32,
}

/// Moves ownership of physical memory between VMs (`qcom_scm_assign_mem`).
pub(crate) trait Assigner {
    /// Gives `[base, base + size)`, now owned by the VMs of bitmap `src`
    /// (bit `vmid` set per owner), to the VMs of `dst`; returns the new
    /// owners' bitmap.
    ///
    /// # Safety
    ///
    /// The caller owns the range: nothing else in the kernel uses it
    /// while other VMs own it (HLOS accesses would fault, and those VMs
    /// may write it).
    unsafe fn assign(&self, base: u64, size: u64, src: u64, dst: &[VmPerm]) -> Result<u64>;
}

impl Assigner for ScmAssigner {
    unsafe fn assign(&self, base: u64, size: u64, src: u64, dst: &[VmPerm]) -> Result<u64> {
        let mut perms = KVec::with_capacity(dst.len(), GFP_KERNEL)?;
        for d in dst {
            perms.push(ScmVmPerm::new(d.vmid, d.perm)?, GFP_KERNEL)?;
        }
        let mut owners = src;
        // SAFETY: the caller owns the range (this method's contract).
        unsafe { self.assign_mem(base, size, &mut owners, &perms) }?;
        Ok(owners)
    }
}

/// The heap `[base, base + size)` owned by the DSP's VMs until dropped.
pub(crate) struct HeapAssignment<A: Assigner> {
    assigner: A,
    base: u64,
    size: u64,
    owners: u64,
    /// The give-back was tried (it is never retried).
    given_back: bool,
}

/// The bit of `vmid` in an owner bitmap; `-EINVAL` past 63.
fn vm_bit(vmid: u32) -> Result<u64> {
    1u64.checked_shl(vmid).ok_or(EINVAL)
}

impl<A: Assigner> HeapAssignment<A> {
    /// Assigns the heap from HLOS to `vmids` (each read/write/execute).
    /// On failure nothing was assigned and nothing will be given back.
    ///
    /// # Safety
    ///
    /// The caller owns `[base, base + size)` until this value is dropped,
    /// and frees it only after (see [`Assigner::assign`]).
    pub(crate) unsafe fn new(assigner: A, base: u64, size: u64, vmids: &[u32]) -> Result<Self> {
        if vmids.is_empty() || vmids.len() > MAX_VMS {
            return Err(EINVAL);
        }
        let mut dst = [VmPerm::default(); MAX_VMS];
        for (d, &vmid) in dst.iter_mut().zip(vmids) {
            vm_bit(vmid)?;
            *d = VmPerm {
                vmid,
                perm: PERM_RWX,
            };
        }
        let hlos = vm_bit(VMID_HLOS)?;
        // SAFETY: the caller owns the range (this function's contract).
        let owners = unsafe { assigner.assign(base, size, hlos, &dst[..vmids.len()]) }
            .inspect_err(|e| {
                pr_err!("remote heap {base:#x}+{size:#x}: SCM assignment failed: {e:?}\n");
            })?;
        Ok(Self {
            assigner,
            base,
            size,
            owners,
            given_back: false,
        })
    }

    /// Gives the heap back to HLOS (once; later calls return `Ok`). On
    /// failure the heap may still belong to the DSP's VMs: its memory must
    /// not be freed.
    pub(crate) fn give_back(&mut self) -> Result {
        if core::mem::replace(&mut self.given_back, true) {
            return Ok(());
        }
        let hlos = [VmPerm {
            vmid: VMID_HLOS,
            perm: PERM_RWX,
        }];
        // SAFETY: the range is still owned by whoever made `self` (the
        // contract of `new`); it goes back to HLOS.
        unsafe {
            self.assigner
                .assign(self.base, self.size, self.owners, &hlos)
        }
        .map(|_| ())
        .inspect_err(|e| {
            pr_err!(
                "remote heap {:#x}+{:#x}: giving it back to HLOS failed: {:?}\n",
                self.base,
                self.size,
                e
            );
        })
    }
}

impl<A: Assigner> Drop for HeapAssignment<A> {
    /// Gives the heap back if [`HeapAssignment::give_back`] was not called
    /// (its owner then learns nothing of a failure: use `give_back` before
    /// freeing the memory).
    fn drop(&mut self) {
        let _ = self.give_back();
    }
}

impl<A: Assigner> super::guarded::Access for HeapAssignment<A> {
    fn revoke(&mut self) -> Result {
        self.give_back()
    }
}
