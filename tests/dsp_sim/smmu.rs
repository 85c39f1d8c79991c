// SPDX-License-Identifier: GPL-2.0

//! Memory access as the DSP has it: through the SMMU.
//!
//! A DSP address is `iova | sid << shift`: the SID sits at bit 32, or at
//! bit 56 on SoCs whose FastRPC node is `qcom,kaanapali-fastrpc` (their
//! firmware's layout, as `drivers/misc/fastrpc.c` of 7.3 builds
//! addresses for them). The simulator finds the context
//! bank with that SID among its channel's `qcom,fastrpc-compute-cb` nodes,
//! finds qda's device for that node on the `qda-cb` bus (or fastrpc.ko's
//! platform device), and translates the
//! IOVA page by page with `iommu_iova_to_phys()` on that device's IOMMU
//! domain. An address that is not mapped there is a simulated SMMU fault
//! (`-EFAULT`). Nothing else is used to reach memory, so a wrong mapping in
//! the driver shows up as a failed call.
//!
//! A context bank whose DT node has no `iommus` is wired without an SMMU
//! (sdm845's sdsp): the DSP's bus address below the SID prefix is then the
//! physical address itself, as the hardware sees it. Only RAM and reserved
//! memory answer there; any other address is a bus fault (`-EFAULT`).

use core::ptr;
use kernel::{
    bindings,
    prelude::*, //
};

/// qda's context-bank bus (`qda_cb_bus`, exported by qda for this
/// simulator), looked up at each access and pinned only while held: the
/// simulator does not link against qda, so that udev and modprobe can load
/// qda (or fastrpc.ko) for the channels the simulator adds, and unload it,
/// as on a board, where the DSP does not depend on the host's driver.
struct CbBus(*const bindings::bus_type);

const CB_BUS: &CStr = c"qda_cb_bus";

impl CbBus {
    /// The bus if qda is loaded.
    fn get() -> Option<Self> {
        // SAFETY: `CB_BUS` is NUL-terminated; a non-NULL result is the
        // exported `struct bus_type`, its module pinned until the put.
        let p = unsafe { bindings::__symbol_get(CB_BUS.as_char_ptr()) };
        (!p.is_null()).then(|| Self(p.cast()))
    }
}

impl Drop for CbBus {
    fn drop(&mut self) {
        // SAFETY: one put for the successful `__symbol_get` of `get`.
        unsafe { bindings::__symbol_put(CB_BUS.as_char_ptr()) };
    }
}

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
fn direct(sid: u32, phys: u64) -> Result<u64> {
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
    crate::remoteproc::put(rm.cast());
    found
}

/// The context banks of one simulated DSP.
pub(crate) struct Smmu {
    /// `(sid, node, behind an SMMU)`; each node holds a reference,
    /// dropped in `drop`.
    cbs: KVec<(u32, *mut bindings::device_node, bool)>,
    /// Bit position of the SID in this DSP's addresses.
    sid_shift: u32,
}

/// Where this SoC's DSP firmware expects the SID in an address: bit 56 on
/// `qcom,kaanapali-fastrpc` SoCs (Kaanapali, Glymur), bit 32 elsewhere.
fn sid_shift_of(np: *mut bindings::device_node) -> u32 {
    // SAFETY: `np` is a valid node; the string is NUL-terminated.
    if unsafe { bindings::of_device_is_compatible(np, c"qcom,kaanapali-fastrpc".as_char_ptr()) } > 0
    {
        56
    } else {
        32
    }
}

// SAFETY: DT node pointers may be used from any thread.
unsafe impl Send for Smmu {}
// SAFETY: `&self` only reads.
unsafe impl Sync for Smmu {}

impl Smmu {
    /// The context banks under FastRPC node `np`.
    pub(crate) fn new(np: *mut bindings::device_node) -> Result<Self> {
        let mut cbs = KVec::new();
        let mut child: *mut bindings::device_node = ptr::null_mut();
        loop {
            // SAFETY: `np` is valid; `child` is NULL or the previous child,
            // whose reference this call takes over.
            child = unsafe { bindings::of_get_next_child(np, child) };
            if child.is_null() {
                break;
            }
            let mut sid = 0u32;
            // SAFETY: valid node, property name and output.
            let ok = unsafe {
                bindings::of_device_is_compatible(child, c"qcom,fastrpc-compute-cb".as_char_ptr())
                    > 0
                    && bindings::of_property_read_variable_u32_array(
                        child,
                        c"reg".as_char_ptr(),
                        &mut sid,
                        1,
                        1,
                    ) == 1
            };
            if ok {
                // SAFETY: keep a reference for `cbs`, dropped in `drop`.
                unsafe { bindings::fwnode_handle_get(&raw mut (*child).fwnode) };
                let smmu = crate::remoteproc::has(child, c"iommus");
                cbs.push((sid, child, smmu), GFP_KERNEL)?;
            }
        }
        Ok(Self {
            cbs,
            sid_shift: sid_shift_of(np),
        })
    }

    /// Calls `f(kernel address, length, offset into the range)` for each
    /// page-bounded piece of `[addr, addr + len)`, translated through the
    /// SMMU; `-EFAULT` (an SMMU fault) if any page is unmapped.
    fn access(&self, addr: u64, len: usize, mut f: impl FnMut(*mut u8, usize, usize)) -> Result {
        if len == 0 {
            return Ok(());
        }
        // An address whose SID does not fit names no context bank.
        let sid = u32::try_from(addr >> self.sid_shift).map_err(|_| EFAULT)?;
        let iova = addr & ((1u64 << self.sid_shift) - 1);
        let (np, smmu) = self
            .cbs
            .iter()
            .find(|c| c.0 == sid)
            .map(|c| (c.1, c.2))
            .ok_or(EFAULT)?;
        if !smmu {
            return for_each_page(iova, len, &mut f, |cur| direct(sid, cur));
        }
        // Held until the device reference is put: qda's code releases its
        // devices.
        let bus = CbBus::get();
        let mut dev = match &bus {
            // SAFETY: `b.0` is qda's registered bus, pinned by `bus`; the
            // match helper compares `of_node`. Returns a device reference
            // or NULL.
            Some(b) => unsafe {
                bindings::bus_find_device(
                    b.0,
                    ptr::null_mut(),
                    np.cast(),
                    Some(bindings::device_match_of_node),
                )
            },
            None => ptr::null_mut(),
        };
        if dev.is_null() {
            // drivers/misc/fastrpc.c makes its context banks platform
            // devices (comparison runs steer a channel to it).
            // SAFETY: `np` is valid; returns a referenced device or NULL.
            let pdev = unsafe { crate::sys::of_find_device_by_node(np) };
            if pdev.is_null() {
                return Err(EFAULT);
            }
            // SAFETY: `pdev` is a valid platform device.
            dev = unsafe { &raw mut (*pdev).dev };
        }
        let r = (|| {
            // SAFETY: `dev` is a live CB device in an IOMMU group.
            let domain = unsafe { bindings::iommu_get_domain_for_dev(dev) };
            if domain.is_null() {
                return Err(EFAULT);
            }
            for_each_page(iova, len, &mut f, |cur| {
                // SAFETY: `domain` is the device's live domain.
                match unsafe { bindings::iommu_iova_to_phys(domain, cur) } {
                    0 => {
                        pr_warn!("SMMU: SID {sid} IOVA {cur:#x} is not mapped\n");
                        Err(EFAULT)
                    }
                    phys => Ok(phys),
                }
            })
        })();
        // SAFETY: drops the reference `bus_find_device` (or
        // `of_find_device_by_node`) took.
        unsafe { bindings::put_device(dev) };
        drop(bus);
        r
    }

    /// Reads `out.len()` bytes at DSP address `addr`.
    pub(crate) fn read(&self, addr: u64, out: &mut [u8]) -> Result {
        let len = out.len();
        self.access(addr, len, |va, n, at| {
            // SAFETY: `va` maps `n` readable bytes.
            unsafe { ptr::copy_nonoverlapping(va, out[at..at + n].as_mut_ptr(), n) };
        })
    }

    /// Writes `data` at DSP address `addr`.
    pub(crate) fn write(&self, addr: u64, data: &[u8]) -> Result {
        self.access(addr, data.len(), |va, n, at| {
            // SAFETY: `va` maps `n` writable bytes.
            unsafe { ptr::copy_nonoverlapping(data[at..at + n].as_ptr(), va, n) };
        })
    }
}

impl Drop for Smmu {
    fn drop(&mut self) {
        for &(_, np, _) in self.cbs.iter() {
            // SAFETY: drops the reference taken in `new`.
            unsafe { bindings::fwnode_handle_put(&raw mut (*np).fwnode) };
        }
    }
}
