// SPDX-License-Identifier: GPL-2.0

//! The DSP's own view of memory outside its context banks: through the
//! remoteproc's SMMU context, as the DSP reaches its remote heap.
//!
//! The remoteproc node is the parent of the glink edge holding the FastRPC
//! node. When it has `iommus`, every access goes through the IOMMU domain
//! of its platform device (`iommu_iova_to_phys`), and the static PDs use
//! the physical addresses the apps side sends them: an address that does
//! not translate to itself there is a simulated SMMU fault (`-EFAULT`).
//! Without `iommus` the DSP reaches physical memory directly.
//!
//! The remote heap region is read from the FastRPC node's
//! `memory-region` (entry `"remote-heap"`, or the only unnamed entry), to
//! report how much of it is mapped (`remoteproc-<dsp>` in debugfs).

use core::ptr;
use kernel::{
    bindings,
    prelude::*, //
};

const PAGE: u64 = 4096;

/// The remoteproc of one simulated DSP.
pub(crate) struct Remoteproc {
    /// Its platform device (referenced), NULL without `iommus`.
    dev: *mut bindings::device,
    /// The remote heap region in the DT: `(base, size)`.
    heap: Option<(u64, u64)>,
}

// SAFETY: a referenced device pointer, used with the IOMMU core's locking.
unsafe impl Send for Remoteproc {}
// SAFETY: `&self` only reads.
unsafe impl Sync for Remoteproc {}

/// Whether node `np` has property `name`.
///
/// # Safety
///
/// `np` must be a valid device-tree node.
pub(crate) unsafe fn has(np: *mut bindings::device_node, name: &CStr) -> bool {
    // SAFETY: valid node and property name.
    !unsafe { bindings::of_find_property(np, name.as_char_ptr(), ptr::null_mut()) }.is_null()
}

/// Drops a node reference (NULL allowed).
///
/// # Safety
///
/// `np` must be NULL or a node whose reference the caller owns (and gives
/// up here).
pub(crate) unsafe fn put(np: *mut bindings::device_node) {
    if !np.is_null() {
        // SAFETY: drops a reference the caller owns.
        unsafe { bindings::fwnode_handle_put(&raw mut (*np).fwnode) };
    }
}

/// The remote-heap entry of FastRPC node `np`: `(base, size)`.
///
/// # Safety
///
/// `np` must be a valid device-tree node.
unsafe fn heap_region(np: *mut bindings::device_node) -> Option<(u64, u64)> {
    // SAFETY: valid node and property names.
    let idx = unsafe {
        bindings::of_property_match_string(
            np,
            c"memory-region-names".as_char_ptr(),
            c"remote-heap".as_char_ptr(),
        )
    };
    // SAFETY: `np` is valid (this function's contract).
    let named = unsafe { has(np, c"memory-region-names") };
    let idx = match (named, idx) {
        (false, _) => 0,
        (true, i) if i >= 0 => i,
        _ => return None,
    };
    let mut phandles = [0u32; 8];
    let idx = usize::try_from(idx).ok().filter(|&i| i < phandles.len())?;
    // SAFETY: valid node, property name and output array.
    let n = unsafe {
        bindings::of_property_read_variable_u32_array(
            np,
            c"memory-region".as_char_ptr(),
            phandles.as_mut_ptr(),
            1,
            phandles.len(),
        )
    };
    if n <= idx as i32 {
        return None;
    }
    // SAFETY: returns a referenced node or NULL.
    let rn = unsafe { bindings::of_find_node_by_phandle(phandles[idx]) };
    if rn.is_null() {
        return None;
    }
    // SAFETY: `rn` is valid; table entries live forever.
    let rmem = unsafe { crate::sys::of_reserved_mem_lookup(rn) };
    // SAFETY: `rn` came referenced from `of_find_node_by_phandle`.
    unsafe { put(rn) };
    // SAFETY: non-NULL table entries are valid.
    (!rmem.is_null()).then(|| unsafe { ((*rmem).base, (*rmem).size) })
}

impl Remoteproc {
    /// The remoteproc of FastRPC node `np`.
    ///
    /// # Safety
    ///
    /// `np` must be a valid device-tree node.
    pub(crate) unsafe fn new(np: *mut bindings::device_node) -> Self {
        // SAFETY: `np` is valid (this function's contract).
        let heap = unsafe { heap_region(np) };
        // SAFETY: valid node; each call returns a referenced node or NULL
        // (`of_get_parent(NULL)` is NULL).
        let (edge, rproc) = unsafe {
            let edge = bindings::of_get_parent(np);
            (edge, bindings::of_get_parent(edge))
        };
        let mut dev = ptr::null_mut();
        // SAFETY: `rproc` is checked non-NULL and referenced.
        if !rproc.is_null() && unsafe { has(rproc, c"iommus") } {
            // SAFETY: valid node; a referenced platform device or NULL.
            let pdev = unsafe { crate::sys::of_find_device_by_node(rproc) };
            if !pdev.is_null() {
                // SAFETY: `pdev` is valid; its reference moves to `dev`.
                dev = unsafe { &raw mut (*pdev).dev };
            }
        }
        // SAFETY: both are NULL or references `of_get_parent` gave us.
        unsafe {
            put(rproc);
            put(edge);
        }
        Self { dev, heap }
    }

    /// The remote heap region of the DT.
    pub(crate) fn heap(&self) -> Option<(u64, u64)> {
        self.heap
    }

    fn domain(&self) -> *mut bindings::iommu_domain {
        if self.dev.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: `dev` is a referenced device.
        unsafe { bindings::iommu_get_domain_for_dev(self.dev) }
    }

    /// `none`, `dma`, `identity` or `other`: the domain's kind.
    pub(crate) fn domain_kind(&self) -> &'static str {
        let d = self.domain();
        if d.is_null() {
            return "none";
        }
        // SAFETY: a live domain of the device; only its type is read.
        let ty = unsafe { (*d).type_ };
        match ty {
            bindings::IOMMU_DOMAIN_IDENTITY => "identity",
            t if t & bindings::__IOMMU_DOMAIN_DMA_API != 0 => "dma",
            _ => "other",
        }
    }

    /// Where the DSP's address `addr` lands: the same address if it is
    /// identity-mapped (or there is no IOMMU), else `None` (a fault).
    fn translate(&self, addr: u64) -> Option<u64> {
        let d = self.domain();
        if self.dev.is_null() {
            return Some(addr);
        }
        if d.is_null() {
            return None;
        }
        // SAFETY: a live domain of the device.
        let phys = unsafe { bindings::iommu_iova_to_phys(d, addr) };
        (phys == addr).then_some(phys)
    }

    /// `(mapped, total)` pages of the remote heap that translate to
    /// themselves.
    pub(crate) fn heap_pages(&self) -> (u64, u64) {
        let Some((base, size)) = self.heap else {
            return (0, 0);
        };
        let total = size / PAGE;
        let mapped = (0..total)
            .filter(|i| self.translate(base + i * PAGE).is_some())
            .count() as u64;
        (mapped, total)
    }

    /// Calls `f(kernel address, length, offset)` for each page-bounded
    /// piece of `[addr, addr + len)` as the DSP reaches it.
    fn access(&self, addr: u64, len: usize, mut f: impl FnMut(*mut u8, usize, usize)) -> Result {
        crate::hw::phys::for_each_page(addr, len, &mut f, |cur| {
            self.translate(cur).ok_or_else(|| {
                pr_warn!("remoteproc SMMU: {cur:#x} is not identity-mapped\n");
                EFAULT
            })
        })
    }

    /// Writes `byte` over `[addr, addr + len)`, then reads it back.
    pub(crate) fn fill_and_check(&self, addr: u64, len: usize, byte: u8) -> Result {
        // SAFETY: `va` maps `n` writable bytes.
        self.access(addr, len, |va, n, _| unsafe {
            ptr::write_bytes(va, byte, n)
        })?;
        let mut ok = true;
        self.access(addr, len, |va, n, _| {
            for i in 0..n {
                // SAFETY: `va` maps `n` readable bytes.
                ok &= unsafe { va.add(i).read() } == byte;
            }
        })?;
        if ok {
            Ok(())
        } else {
            Err(EIO)
        }
    }
}

impl Drop for Remoteproc {
    fn drop(&mut self) {
        if !self.dev.is_null() {
            // SAFETY: drops the reference taken in `new`.
            unsafe { bindings::put_device(self.dev) };
        }
    }
}
