// SPDX-License-Identifier: GPL-2.0

//! Physical memory as the DSP's bus reaches it: a range mapped page by
//! page ([`for_each_page`]), and the direct path of a context bank wired
//! without an SMMU, where only RAM and reserved memory answer
//! ([`direct`]).

use core::ptr;
use kernel::{
    bindings,
    prelude::*, //
};

const PAGE: u64 = 4096;

/// Calls `f(kernel address, length, offset into the range)` for each
/// page-bounded piece of `[addr, addr + len)`, where `phys_of` gives each
/// piece's physical address (or the fault).
pub(crate) fn for_each_page(
    addr: u64,
    len: usize,
    f: &mut impl FnMut(*mut u8, usize, usize),
    mut phys_of: impl FnMut(u64) -> Result<u64>,
) -> Result {
    let mut done = 0usize;
    while done < len {
        let cur = addr.checked_add(done as u64).ok_or(EFAULT)?;
        let n = ((PAGE - cur % PAGE) as usize).min(len - done);
        let phys = phys_of(cur)?;
        // SAFETY: `phys` is memory the driver mapped for the DSP; memremap
        // maps it (RAM or a carve-out) for us.
        let va = unsafe { bindings::memremap(phys, n, bindings::MEMREMAP_WB as usize) };
        if va.is_null() {
            return Err(EFAULT);
        }
        f(va.cast(), n, done);
        // SAFETY: unmaps what memremap mapped.
        unsafe { bindings::memunmap(va) };
        done += n;
    }
    Ok(())
}

/// Where a CB without SMMU reaches `phys`: itself, if it is RAM or
/// reserved memory; anything else is a bus fault.
pub(crate) fn direct(sid: u32, phys: u64) -> Result<u64> {
    let pfn = usize::try_from(phys / PAGE).map_err(|_| EFAULT)?;
    // SAFETY: looks the pfn up in the resource tree.
    if unsafe { crate::sys::page_is_ram(pfn) } == 1 || in_reserved_memory(phys) {
        return Ok(phys);
    }
    pr_warn!("bus: SID {sid} (no SMMU) physical {phys:#x} is neither RAM nor reserved memory\n");
    Err(EFAULT)
}

/// Whether `phys` lies in a region of the DT's `/reserved-memory`.
fn in_reserved_memory(phys: u64) -> bool {
    // SAFETY: a NUL-terminated path; returns a referenced node or NULL.
    let rm = unsafe {
        crate::sys::of_find_node_opts_by_path(c"/reserved-memory".as_char_ptr(), ptr::null_mut())
    };
    if rm.is_null() {
        return false;
    }
    let mut found = false;
    let mut child: *mut bindings::device_node = ptr::null_mut();
    loop {
        // SAFETY: `rm` is valid; `child` is NULL or the previous child,
        // whose reference this call takes over.
        child = unsafe { bindings::of_get_next_child(rm.cast(), child) };
        if child.is_null() {
            break;
        }
        // SAFETY: `child` is valid; a table entry or NULL.
        let rmem = unsafe { crate::sys::of_reserved_mem_lookup(child.cast()) };
        if !rmem.is_null() {
            // SAFETY: non-NULL table entries are valid for the kernel's life.
            let (base, size) = unsafe { ((*rmem).base, (*rmem).size) };
            found |= phys >= base && phys - base < size;
        }
    }
    // SAFETY: `rm` is NULL or the reference the lookup above gave us.
    unsafe { crate::hw::remoteproc::put(rm.cast()) };
    found
}
