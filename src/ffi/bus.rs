// SPDX-License-Identifier: GPL-2.0

//! The compute context-bank bus (`/sys/bus/qda-cb`).
//!
//! Every `qcom,fastrpc-compute-cb` node becomes a `struct device` on this
//! bus, parented to the `/sys/devices/qda` root device so that a CB may
//! outlive its rpmsg channel while buffers of an open file still use it.
//!
//! IOMMU: the iommu core probes devices of its own buses (platform, PCI,
//! ...) from a bus notifier when they are added, and releases them when
//! they are removed. This bus gets the same from a notifier of its own:
//! on `BUS_NOTIFY_ADD_DEVICE` it configures the device from its DT node
//! (`of_dma_configure()`, which reaches `iommu_probe_device()` through
//! `iommus`), giving each CB its own IOMMU group and DMA domain; on
//! `BUS_NOTIFY_REMOVED_DEVICE` it removes the device from its group. The
//! bus's `dma_configure`, run when the (trivial) bus driver binds, then
//! finds the device configured. No change to the kernel is needed.
//!
//! A CB node without `iommus` (sdm845's sdsp) gets no group: DMA on it is
//! direct (`dma-direct`), the DMA address is the bus address of the memory,
//! as `drivers/misc/fastrpc.c` uses such a CB.
//!
//! C header: [`include/linux/device/bus.h`](srctree/include/linux/device/bus.h)

use core::{
    ffi::c_int,
    ptr::{
        self,
        NonNull, //
    }, //
};
use kernel::{
    bindings,
    device,
    device::property::FwNode,
    error::to_result,
    prelude::*,
    str::CString,
    sync::atomic::{
        Acquire,
        Atomic,
        Full,
        Release, //
    },
    types::Opaque, //
};

/// A `bus_type` usable from a `static`.
#[repr(transparent)]
struct BusType(bindings::bus_type);

// SAFETY: constant table, only read by the driver core.
unsafe impl Sync for BusType {}

/// The bus. Exported (as `qda_cb_bus`, see `helpers.c`) for the test-only
/// DSP simulator.
#[export_name = "qda_cb_bus"]
static CB_BUS: BusType = BusType({
    let mut b: bindings::bus_type = pin_init::zeroed();
    b.name = c"qda-cb".to_bytes_with_nul().as_ptr();
    b.match_ = Some(bus_match);
    b.dma_configure = Some(bus_dma_configure);
    b
});

/// Parent of every CB device; set while the bus is registered.
static ROOT: Atomic<*mut bindings::device> = Atomic::new(ptr::null_mut());

/// # Safety
///
/// Called by the driver core only.
unsafe extern "C" fn bus_match(
    _dev: *mut bindings::device,
    _drv: *const bindings::device_driver,
) -> c_int {
    // Only CB devices and the one CB driver live on this bus.
    1
}

/// The bus notifier doing for CB devices what the iommu core's does for
/// its own buses.
///
/// # Safety
///
/// Called by the driver core only, with a device on this bus.
unsafe extern "C" fn bus_notify(
    _nb: *mut bindings::notifier_block,
    action: kernel::ffi::c_ulong,
    data: *mut core::ffi::c_void,
) -> c_int {
    let dev = data.cast::<bindings::device>();
    match action as u32 {
        bindings::bus_notifier_event_BUS_NOTIFY_ADD_DEVICE => {
            // SAFETY: `dev` is being added; its `of_node` was set (with a
            // reference) before `device_add`.
            let ret =
                unsafe { bindings::of_dma_configure_id(dev, (*dev).of_node, true, ptr::null()) };
            if ret != 0 {
                // SAFETY: `dev` is valid for the notification.
                let d: &device::Device = unsafe { device::Device::from_raw(dev) };
                dev_err!(d, "DMA/IOMMU configuration failed: {}\n", ret);
            }
        }
        bindings::bus_notifier_event_BUS_NOTIFY_REMOVED_DEVICE => {
            // SAFETY: `dev` was just removed from the bus; its group (if
            // any) still holds it.
            unsafe { bindings::iommu_group_remove_device(dev) };
        }
        _ => {}
    }
    bindings::NOTIFY_DONE as c_int
}

/// # Safety
///
/// Called by the driver core only, for a device on this bus.
unsafe extern "C" fn bus_dma_configure(dev: *mut bindings::device) -> c_int {
    // SAFETY: `dev` is a live CB device; its `of_node` was set (with a
    // reference) before `device_add`.
    unsafe { bindings::of_dma_configure_id(dev, (*dev).of_node, true, ptr::null()) }
}

/// The registered bus, its driver and the root device; unregistered on
/// drop.
pub(crate) struct CbBus {
    driver: Pin<KBox<Opaque<bindings::device_driver>>>,
    notifier: Pin<KBox<Opaque<bindings::notifier_block>>>,
    root: NonNull<bindings::device>,
}

// SAFETY: the pointers are to objects owned by the driver core until drop.
unsafe impl Send for CbBus {}
// SAFETY: no `&self` methods.
unsafe impl Sync for CbBus {}

impl CbBus {
    /// Registers the bus, its driver and the `qda` root device.
    pub(crate) fn register(module: &'static ThisModule) -> Result<Self> {
        let notifier = KBox::pin(Opaque::<bindings::notifier_block>::zeroed(), GFP_KERNEL)?;
        let driver = KBox::pin(Opaque::<bindings::device_driver>::zeroed(), GFP_KERNEL)?;
        // SAFETY: `CB_BUS` is a static, fully initialised bus type.
        to_result(unsafe { bindings::bus_register(&CB_BUS.0) })?;
        let nb = notifier.get();
        // SAFETY: `nb` is zeroed, pinned and ours; it stays registered until
        // drop. Registered before any device exists on the bus.
        let ret = unsafe {
            (*nb).notifier_call = Some(bus_notify);
            bindings::bus_register_notifier(&CB_BUS.0, nb)
        };
        if let Err(e) = to_result(ret) {
            // SAFETY: registered above.
            unsafe { bindings::bus_unregister(&CB_BUS.0) };
            return Err(e);
        }
        let drv = driver.get();
        // SAFETY: `drv` is zeroed, pinned and exclusively ours until
        // registered; it stays registered until drop.
        let ret = unsafe {
            (*drv).name = c"qda-cb".as_char_ptr();
            (*drv).bus = &CB_BUS.0;
            (*drv).owner = module.as_ptr();
            // No probe: binding only runs the bus's dma_configure.
            (*drv).suppress_bind_attrs = true;
            bindings::driver_register(drv)
        };
        if let Err(e) = to_result(ret) {
            // SAFETY: registered above.
            unsafe {
                bindings::bus_unregister_notifier(&CB_BUS.0, nb);
                bindings::bus_unregister(&CB_BUS.0);
            }
            return Err(e);
        }
        // SAFETY: valid name and owner.
        let root =
            unsafe { bindings::__root_device_register(c"qda".as_char_ptr(), module.as_ptr()) };
        let root = match kernel::error::from_err_ptr(root) {
            Ok(r) => r,
            Err(e) => {
                // SAFETY: all registered above.
                unsafe {
                    bindings::driver_unregister(drv);
                    bindings::bus_unregister_notifier(&CB_BUS.0, nb);
                    bindings::bus_unregister(&CB_BUS.0);
                }
                return Err(e);
            }
        };
        ROOT.store(root, Release);
        Ok(Self {
            driver,
            notifier,
            // SAFETY: `from_err_ptr` returned a valid pointer.
            root: unsafe { NonNull::new_unchecked(root) },
        })
    }
}

impl Drop for CbBus {
    fn drop(&mut self) {
        ROOT.store(ptr::null_mut(), Release);
        // SAFETY: all were registered in `register`. No CB device is left:
        // each holds a file reference that pins this module.
        unsafe {
            bindings::root_device_unregister(self.root.as_ptr());
            bindings::driver_unregister(self.driver.get());
            bindings::bus_unregister_notifier(&CB_BUS.0, self.notifier.get());
            bindings::bus_unregister(&CB_BUS.0);
        }
    }
}

/// Storage of one CB device; `dev` must stay first (release casts back).
#[repr(C)]
struct RawCb {
    dev: bindings::device,
    dma_mask: u64,
    dma_parms: bindings::device_dma_parameters,
    name: CString,
}

impl RawCb {
    /// A new, not yet initialised CB device for `node` named `name` with
    /// DMA mask `mask`, holding a reference on the node (dropped in
    /// `cb_release`).
    fn alloc(node: &FwNode, name: CString, mask: u64) -> Result<*mut Self> {
        let fwnode = ptr::from_ref(node)
            .cast_mut()
            .cast::<bindings::fwnode_handle>();
        // SAFETY: an all-zero `struct device` is what `device_initialize`
        // expects to start from.
        let dev: bindings::device = unsafe { core::mem::zeroed() };
        let raw = KBox::new(
            Self {
                dev,
                dma_mask: mask,
                // Imported dma-bufs come in large segments; the IOMMU maps
                // them whole.
                dma_parms: bindings::device_dma_parameters {
                    max_segment_size: u32::MAX,
                    ..Default::default()
                },
                name,
            },
            GFP_KERNEL,
        )?;
        // SAFETY: `fwnode` is valid; the reference is released in
        // `cb_release`.
        unsafe { bindings::fwnode_handle_get(fwnode) };
        Ok(KBox::into_raw(raw))
    }
}

/// # Safety
///
/// Called by the driver core on the last `put_device` of a CB device.
unsafe extern "C" fn cb_release(dev: *mut bindings::device) {
    let raw = dev.cast::<RawCb>();
    // SAFETY: `dev` is the first field of a `RawCb` leaked in
    // `CbDevice::new`; this is its last reference.
    unsafe {
        let node = (*raw).dev.of_node;
        if !node.is_null() {
            bindings::fwnode_handle_put(&raw mut (*node).fwnode);
        }
        drop(KBox::from_raw(raw));
    }
}

/// A CB device registered on the bus with its own IOMMU group (or, for a
/// node without `iommus`, with direct DMA); removed from its group and
/// unregistered on drop.
///
/// # Invariants
///
/// `dev` is a registered device on `CB_BUS`, bound to its driver, with one
/// reference owned by `self`; it is in an IOMMU group if `smmu`.
pub(crate) struct CbDevice {
    dev: NonNull<bindings::device>,
    /// Behind an SMMU (its DT node has `iommus`).
    smmu: bool,
    reserved_mem: bool,
    /// Called once the device is deleted (its name free again).
    on_deleted: Option<KBox<dyn Fn() + Send + Sync>>,
}

// SAFETY: a registered device may be used and released from any thread.
unsafe impl Send for CbDevice {}
// SAFETY: `&self` only reads the device through thread-safe kernel APIs.
unsafe impl Sync for CbDevice {}

/// CB devices being deleted: off the bus already, their sysfs entries not
/// yet gone.
static DELETING: Atomic<usize> = Atomic::new(0);

/// Whether a CB device named `name` exists (one of an earlier incarnation
/// of the channel may live on while files of that DSP are open). While any
/// CB device is being deleted the answer is yes: its name is only free once
/// `device_del` returned.
pub(crate) fn name_in_use(name: &CStr) -> bool {
    if DELETING.load(Acquire) != 0 {
        return true;
    }
    // SAFETY: the bus is registered; `device_match_name` compares names.
    let dev = unsafe {
        bindings::bus_find_device(
            &CB_BUS.0,
            ptr::null_mut(),
            name.as_char_ptr().cast(),
            Some(bindings::device_match_name),
        )
    };
    if dev.is_null() {
        return false;
    }
    // SAFETY: drops the reference `bus_find_device` took.
    unsafe { bindings::put_device(dev) };
    true
}

/// Whether `dev` is still registered.
pub(crate) fn is_registered(dev: &device::Device) -> bool {
    let raw = ptr::from_ref(dev).cast_mut().cast::<bindings::device>();
    // SAFETY: the caller holds a reference on `dev`; the flag is read only.
    unsafe { (*raw).kobj.state_in_sysfs() != 0 }
}

/// Tries to bind `dev` to its driver again (after a deferred probe).
/// Returns whether it is bound.
pub(crate) fn attach_again(dev: &device::Device) -> bool {
    let raw = ptr::from_ref(dev).cast_mut().cast::<bindings::device>();
    // SAFETY: the caller holds a reference on `dev`.
    unsafe { bindings::device_attach(raw) > 0 || bindings::device_is_bound(raw) }
}

impl CbDevice {
    /// Registers a CB device named `name` for DT `node`, with a
    /// `dma_bits`-bit streaming DMA mask (1..=64; the coherent mask is at
    /// most 32 bits), so that IOVAs leave room for the SID prefix.
    /// `smmu`: the node has `iommus`, so the device must join an IOMMU
    /// group.
    pub(crate) fn new(node: &FwNode, name: CString, dma_bits: u32, smmu: bool) -> Result<Self> {
        let mask = match dma_bits {
            1..=63 => (1u64 << dma_bits) - 1,
            64 => u64::MAX,
            _ => return Err(EINVAL),
        };
        let root = ROOT.load(Acquire);
        if root.is_null() {
            return Err(ENODEV);
        }
        let np = super::of::device_node(node)?;
        let raw = RawCb::alloc(node, name, mask)?;
        // SAFETY: `raw` is a fresh `RawCb` holding a reference on `np`'s
        // node; `root` is the bus's registered root device.
        let cb = unsafe { Self::register(raw, root, np, smmu)? };
        cb.check_bound()?;
        Ok(cb)
    }

    /// Initialises and adds the device of `raw`.
    ///
    /// # Safety
    ///
    /// `raw` must come from [`RawCb::alloc`] for DT node `np`, unused
    /// since; `root` must be the bus's root device.
    unsafe fn register(
        raw: *mut RawCb,
        root: *mut bindings::device,
        np: *mut bindings::device_node,
        smmu: bool,
    ) -> Result<Self> {
        // SAFETY: `raw` is ours until `device_initialize`; afterwards the
        // driver core owns it and frees it through `cb_release`.
        let ret = unsafe {
            let d = &raw mut (*raw).dev;
            (*d).bus = &CB_BUS.0;
            (*d).parent = root;
            (*d).of_node = np;
            (*d).release = Some(cb_release);
            (*d).init_name = (*raw).name.as_char_ptr();
            (*d).dma_mask = &raw mut (*raw).dma_mask;
            (*d).dma_parms = &raw mut (*raw).dma_parms;
            // As upstream's CB devices: the SoC's width applies to
            // streaming mappings (`dma_set_mask`); coherent allocations
            // (payloads, GEM buffers) keep a platform device's default
            // 32-bit mask, so their IOVAs are the ones fastrpc.ko gives.
            (*d).coherent_dma_mask = (*raw).dma_mask.min(u64::from(u32::MAX));
            bindings::device_initialize(d);
            bindings::device_add(d)
        };
        // INVARIANT: from here `drop` unregisters and puts the device.
        let cb = Self {
            // SAFETY: `raw` is not null.
            dev: unsafe { NonNull::new_unchecked(&raw mut (*raw).dev) },
            smmu,
            reserved_mem: false,
            on_deleted: None,
        };
        if ret != 0 {
            // SAFETY: `device_add` failed: only the initial reference is left.
            unsafe { bindings::put_device(cb.dev.as_ptr()) };
            core::mem::forget(cb);
            return Err(Error::from_errno(ret));
        }
        Ok(cb)
    }

    /// `-ENODEV` unless the device bound and, behind an SMMU, joined an
    /// IOMMU group.
    fn check_bound(&self) -> Result {
        // SAFETY: the device is registered; these fields are stable once
        // the synchronous bind of `device_add` returned.
        let (bound, group) = unsafe {
            (
                !(*self.dev.as_ptr()).driver.is_null(),
                (*self.dev.as_ptr()).iommu_group,
            )
        };
        if !bound || (self.smmu && group.is_null()) {
            dev_err!(
                self.as_ref(),
                "no IOMMU context for this context bank (check `iommus`)\n"
            );
            return Err(ENODEV);
        }
        Ok(())
    }

    /// Has `f` called when the device has been deleted, its name free for
    /// a new device (process context).
    pub(crate) fn on_deleted(&mut self, f: KBox<dyn Fn() + Send + Sync>) {
        self.on_deleted = Some(f);
    }

    /// Whether the CB is behind an SMMU (else the DSP uses physical
    /// addresses on it and nothing isolates its processes).
    pub(crate) fn smmu(&self) -> bool {
        self.smmu
    }

    /// The IOMMU group id, as in `/sys/kernel/iommu_groups/N` (`None`
    /// without an SMMU).
    pub(crate) fn iommu_group_id(&self) -> Option<i32> {
        if !self.smmu {
            return None;
        }
        // SAFETY: by the invariant the device is in a group.
        Some(unsafe { bindings::iommu_group_id((*self.dev.as_ptr()).iommu_group) })
    }
}

impl CbDevice {
    /// Assigns entry `index` of the `memory-region` of `owner` (the
    /// FastRPC node) to this CB, so that contiguous DMA allocations on it
    /// come from that CMA area. Released when the CB is dropped.
    pub(crate) fn assign_reserved_mem(&mut self, owner: &FwNode, index: usize) -> Result {
        let np = super::of::device_node(owner)?;
        let index = i32::try_from(index).map_err(|_| EINVAL)?;
        // SAFETY: the device is registered; `np` is a valid DT node.
        to_result(unsafe {
            super::sys::of_reserved_mem_device_init_by_idx(self.dev.as_ptr(), np, index)
        })?;
        self.reserved_mem = true;
        Ok(())
    }

    /// What `iova` translates to in this CB's IOMMU domain (0: unmapped);
    /// without an SMMU, the physical address the bus address `iova` names.
    pub(crate) fn iova_to_phys(&self, iova: u64) -> u64 {
        if !self.smmu {
            // SAFETY: the device is registered; a pure address conversion.
            return unsafe { super::sys::qda_dma_to_phys(self.dev.as_ptr(), iova) };
        }
        // SAFETY: by the invariant the device is in an IOMMU group, so it
        // has a domain (or NULL, which is checked).
        unsafe {
            let domain = bindings::iommu_get_domain_for_dev(self.dev.as_ptr());
            if domain.is_null() {
                return 0;
            }
            bindings::iommu_iova_to_phys(domain, iova)
        }
    }
}

impl AsRef<device::Device> for CbDevice {
    fn as_ref(&self) -> &device::Device {
        // SAFETY: by the invariant `dev` is valid while `self` lives.
        unsafe { device::Device::from_raw(self.dev.as_ptr()) }
    }
}

impl Drop for CbDevice {
    fn drop(&mut self) {
        let dev = self.dev.as_ptr();
        DELETING.fetch_add(1, Full);
        // SAFETY: by the invariant the device is registered and we own one
        // reference. `device_del` unbinds it and, through the bus notifier,
        // removes it from its IOMMU group before the final put.
        unsafe {
            if self.reserved_mem {
                super::sys::of_reserved_mem_device_release(dev);
            }
            bindings::device_del(dev);
            bindings::put_device(dev);
        }
        DELETING.fetch_sub(1, Full);
        if let Some(f) = self.on_deleted.take() {
            f();
        }
    }
}
