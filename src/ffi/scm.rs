// SPDX-License-Identifier: GPL-2.0

//! Qualcomm SCM memory assignment, resolved at run time.
//!
//! qda must load on kernels without `CONFIG_QCOM_SCM` (like the QEMU test
//! kernel), so it does not link against `qcom_scm`: the two functions it
//! needs are looked up with `__symbol_get()` when a channel with
//! `qcom,vmids` probes, which also pins the `qcom_scm` module while qda
//! holds them, and dropped with `__symbol_put()`.
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

/// `qcom_scm_is_available()`.
type IsAvailable = unsafe extern "C" fn() -> bool;
/// `qcom_scm_assign_mem()`.
type AssignMem = unsafe extern "C" fn(u64, usize, *mut u64, *const ScmVmPerm, c_uint) -> c_int;

/// `struct qcom_scm_vmperm`: a VM and its permissions (two `int`s).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct ScmVmPerm {
    vmid: c_int,
    perm: c_int,
}

impl ScmVmPerm {
    /// VM `vmid` with `QCOM_SCM_PERM_*` bits `perm`; `-EINVAL` if either
    /// does not fit an `int`.
    pub(crate) fn new(vmid: u32, perm: u32) -> Result<Self> {
        Ok(Self {
            vmid: c_int::try_from(vmid).map_err(|_| EINVAL)?,
            perm: c_int::try_from(perm).map_err(|_| EINVAL)?,
        })
    }
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

    /// Gives `[base, base + size)`, owned by the VMs of bitmap `*owners`,
    /// to the VMs of `perms`; on success `*owners` is the new owners'
    /// bitmap.
    ///
    /// # Safety
    ///
    /// The caller owns the range: nothing else in the kernel uses it while
    /// other VMs own it (HLOS accesses would fault, and those VMs may
    /// write it).
    pub(crate) unsafe fn assign_mem(
        &self,
        base: u64,
        size: u64,
        owners: &mut u64,
        perms: &[ScmVmPerm],
    ) -> Result {
        let size = usize::try_from(size).map_err(|_| EINVAL)?;
        let count = c_uint::try_from(perms.len()).map_err(|_| EINVAL)?;
        // SAFETY: by the invariant `assign` is `qcom_scm_assign_mem`;
        // `owners` and `perms` outlive the call, `count` is their length;
        // the caller owns the range (this function's contract).
        kernel::error::to_result(unsafe {
            (self.assign)(base, size, owners, perms.as_ptr(), count)
        })
    }
}

impl Drop for ScmAssigner {
    fn drop(&mut self) {
        symbol_put(ASSIGN_MEM);
    }
}
