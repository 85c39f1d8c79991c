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

use crate::hw::{
    cb_bus::{
        cb_device,
        CbBus, //
    },
    phys::{
        direct,
        for_each_page, //
    },
};

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
///
/// # Safety
///
/// `np` must be a valid device-tree node.
unsafe fn sid_shift_of(np: *mut bindings::device_node) -> u32 {
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
    ///
    /// # Safety
    ///
    /// `np` must be a valid device-tree node.
    pub(crate) unsafe fn new(np: *mut bindings::device_node) -> Result<Self> {
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
                // SAFETY: `child` is a valid node (we hold a reference).
                let smmu = unsafe { crate::hw::remoteproc::has(child, c"iommus") };
                cbs.push((sid, child, smmu), GFP_KERNEL)?;
            }
        }
        Ok(Self {
            cbs,
            // SAFETY: `np` is valid (this function's contract).
            sid_shift: unsafe { sid_shift_of(np) },
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
        // SAFETY: `np` is one of `cbs`, referenced until `drop`.
        let dev = unsafe { cb_device(bus.as_ref(), np) }.ok_or(EFAULT)?;
        // SAFETY: `dev` is referenced until the put below.
        let r = unsafe { through_domain(dev, sid, iova, len, &mut f) };
        // SAFETY: drops the reference `cb_device` took.
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

/// [`Smmu::access`] of `[iova, iova + len)` in context bank `sid`, whose
/// device is `dev`: through its IOMMU domain.
///
/// # Safety
///
/// `dev` must be a live device.
unsafe fn through_domain(
    dev: *mut bindings::device,
    sid: u32,
    iova: u64,
    len: usize,
    f: &mut impl FnMut(*mut u8, usize, usize),
) -> Result {
    // SAFETY: `dev` is a live CB device in an IOMMU group.
    let domain = unsafe { bindings::iommu_get_domain_for_dev(dev) };
    if domain.is_null() {
        return Err(EFAULT);
    }
    for_each_page(iova, len, f, |cur| {
        // SAFETY: `domain` is the device's live domain.
        match unsafe { bindings::iommu_iova_to_phys(domain, cur) } {
            0 => {
                pr_warn!("SMMU: SID {sid} IOVA {cur:#x} is not mapped\n");
                Err(EFAULT)
            }
            phys => Ok(phys),
        }
    })
}
