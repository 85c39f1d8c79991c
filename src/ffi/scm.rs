// SPDX-License-Identifier: GPL-2.0

//! Qualcomm SCM memory assignment: handing a DSP's memory to its VMs
//! through the hypervisor, and taking it back.
//!
//! With `qcom,vmids` and no IOMMU of the remoteproc to program, the remote
//! heap belongs to the VMs listed there, each with read/write/execute,
//! from the probe until the channel goes; then it is given back to HLOS.
//! A [`HeapAssignment`] is that ownership, made by [`HeapAssignment::new`]
//! from [`DeviceMemory`] it keeps in a [`Guarded`] until given back. A
//! failed give-back is logged and not retried, and the memory is then
//! never freed (see [`super::guarded`]): a DSP VM may still own it, and
//! pages the kernel handed out again would fault or be written by the
//! DSP.
//!
//! The SCM calls go through [`Assigner`], so KUnit can check the order of
//! calls, the permissions and the give-back on every path with a fake.
//!
//! qda must load on kernels without `CONFIG_QCOM_SCM` (like the QEMU test
//! kernel), so it does not link against `qcom_scm`: the two functions it
//! needs are looked up with `__symbol_get()` when a channel with
//! `qcom,vmids` probes, which also pins the `qcom_scm` module while qda
//! holds them, and dropped with `__symbol_put()` ([`ScmAssigner`]).
//!
//! C header: [`include/linux/firmware/qcom/qcom_scm.h`](srctree/include/linux/firmware/qcom/qcom_scm.h)

use kernel::{
    bindings,
    ffi::{
        c_int,
        c_uint, //
    },
    prelude::*,
};

use super::guarded::{
    Access,
    DeviceMemory,
    Guarded, //
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
    /// No object of the kernel or of Rust code lives in the range while
    /// other VMs own it (HLOS accesses would fault, and those VMs may
    /// write it).
    unsafe fn assign(&self, base: u64, size: u64, src: u64, dst: &[VmPerm]) -> Result<u64>;
}

/// A heap owned by the DSP's VMs until given back (revoked).
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

/// `vmids`, each with read/write/execute; `-EINVAL` if there are none,
/// too many, or one has no owner bit.
fn rwx_perms(vmids: &[u32]) -> Result<([VmPerm; MAX_VMS], usize)> {
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
    Ok((dst, vmids.len()))
}

impl<A: Assigner> HeapAssignment<A> {
    /// Assigns `memory` from HLOS to `vmids` (each read/write/execute),
    /// which keep it until it is given back. On failure nothing was
    /// assigned and `memory` is freed.
    pub(crate) fn new<M: DeviceMemory>(
        assigner: A,
        memory: M,
        vmids: &[u32],
    ) -> Result<Guarded<Self, M>> {
        let (dst, n) = rwx_perms(vmids)?;
        let hlos = vm_bit(VMID_HLOS)?;
        let (base, size) = memory.range();
        // SAFETY: no kernel or Rust object lives in the range while
        // `memory` does (`DeviceMemory`), and the `Guarded` keeps it until
        // the VMs gave it back (or forever).
        let owners = unsafe { assigner.assign(base, size, hlos, &dst[..n]) }.inspect_err(|e| {
            pr_err!("remote heap {base:#x}+{size:#x}: SCM assignment failed: {e:?}\n");
        })?;
        let assignment = Self {
            assigner,
            base,
            size,
            owners,
            given_back: false,
        };
        Ok(Guarded::new(assignment, memory))
    }

    /// Gives the heap back to HLOS (once; later calls return `Ok`). On
    /// failure the heap may still belong to the DSP's VMs.
    fn give_back(&mut self) -> Result {
        if core::mem::replace(&mut self.given_back, true) {
            return Ok(());
        }
        let hlos = [VmPerm {
            vmid: VMID_HLOS,
            perm: PERM_RWX,
        }];
        // SAFETY: the memory is still kept by the `Guarded` holding `self`
        // (see `new`); it goes back to HLOS.
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

impl<A: Assigner> Access for HeapAssignment<A> {
    fn revoke(&mut self) -> Result {
        self.give_back()
    }
}

impl<A: Assigner> Drop for HeapAssignment<A> {
    /// Gives the heap back if that was not tried yet (never the case
    /// inside a [`Guarded`], which revokes first).
    fn drop(&mut self) {
        let _ = self.give_back();
    }
}

/// `qcom_scm_is_available()`.
type IsAvailable = unsafe extern "C" fn() -> bool;
/// `qcom_scm_assign_mem()`; `VmPerm` has the layout of
/// `struct qcom_scm_vmperm` (two `int`s).
type AssignMem = unsafe extern "C" fn(u64, usize, *mut u64, *const ScmVmPerm, c_uint) -> c_int;

/// `struct qcom_scm_vmperm`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct ScmVmPerm {
    vmid: c_int,
    perm: c_int,
}

const IS_AVAILABLE: &CStr = c"qcom_scm_is_available";
const ASSIGN_MEM: &CStr = c"qcom_scm_assign_mem";

/// `qcom_scm_assign_mem`, held (its module pinned) until dropped.
///
/// # Invariants
///
/// `assign` is the address `__symbol_get(ASSIGN_MEM)` returned, not yet
/// put.
pub(crate) struct ScmAssigner {
    assign: AssignMem,
}

/// Looks up `name`; NULL if no loaded code exports it.
fn symbol_get(name: &CStr) -> *mut core::ffi::c_void {
    // SAFETY: `name` is NUL-terminated.
    unsafe { bindings::__symbol_get(name.as_char_ptr()) }
}

/// Drops a reference `symbol_get(name)` took.
fn symbol_put(name: &CStr) {
    // SAFETY: called once per successful `symbol_get` of `name`.
    unsafe { bindings::__symbol_put(name.as_char_ptr()) }
}

impl ScmAssigner {
    /// SCM's memory assignment, if SCM is loaded and has probed
    /// (`None`: not yet, or not on this kernel).
    pub(crate) fn get() -> Result<Option<Self>> {
        let avail = symbol_get(IS_AVAILABLE);
        if avail.is_null() {
            return Ok(None);
        }
        // SAFETY: the exported symbol of that name is
        // `bool qcom_scm_is_available(void)`, pinned until the put.
        let up = unsafe { core::mem::transmute::<*mut core::ffi::c_void, IsAvailable>(avail)() };
        symbol_put(IS_AVAILABLE);
        if !up {
            return Ok(None);
        }
        let assign = symbol_get(ASSIGN_MEM);
        if assign.is_null() {
            return Ok(None);
        }
        // SAFETY: the exported symbol of that name has the type
        // `AssignMem`; it stays until `drop` puts it.
        let assign = unsafe { core::mem::transmute::<*mut core::ffi::c_void, AssignMem>(assign) };
        Ok(Some(Self { assign }))
    }
}

impl Assigner for ScmAssigner {
    unsafe fn assign(&self, base: u64, size: u64, src: u64, dst: &[VmPerm]) -> Result<u64> {
        let mut perms = KVec::with_capacity(dst.len(), GFP_KERNEL)?;
        for d in dst {
            perms.push(
                ScmVmPerm {
                    vmid: c_int::try_from(d.vmid).map_err(|_| EINVAL)?,
                    perm: c_int::try_from(d.perm).map_err(|_| EINVAL)?,
                },
                GFP_KERNEL,
            )?;
        }
        let size = usize::try_from(size).map_err(|_| EINVAL)?;
        let count = c_uint::try_from(perms.len()).map_err(|_| EINVAL)?;
        let mut owners = src;
        // SAFETY: by the invariant `assign` is `qcom_scm_assign_mem`;
        // `owners` and `perms` outlive the call, `count` is their length;
        // no object lives in the range (the trait method's contract).
        kernel::error::to_result(unsafe {
            (self.assign)(base, size, &mut owners, perms.as_ptr(), count)
        })?;
        Ok(owners)
    }
}

impl Drop for ScmAssigner {
    fn drop(&mut self) {
        symbol_put(ASSIGN_MEM);
    }
}
