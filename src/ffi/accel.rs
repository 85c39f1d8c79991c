// SPDX-License-Identifier: GPL-2.0

//! DRM compute-accelerator registration on raw bindings.
//!
//! The 7.3 `kernel::drm` abstractions can only create primary/render
//! nodes (their `drm_driver` and fops are private and fixed to
//! `drm_open`). An accel node needs `DRIVER_COMPUTE_ACCEL` and the
//! `accel_open` fops, so the tables are built here and the device is
//! registered through `drm_dev_alloc()`/`drm_dev_register()` directly.
//!
//! C header: [`include/drm/drm_accel.h`](srctree/include/drm/drm_accel.h)

use core::{
    ffi::{
        c_int,
        c_void, //
    },
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    device,
    error::{
        from_err_ptr,
        to_result, //
    },
    prelude::*,
    sync::Arc, //
    types::{
        NotThreadSafe,
        Opaque, //
    },
};

use super::{
    dmabuf::DmaBuf,
    sys, //
};

/// `struct file_operations` for an accel node (`DEFINE_DRM_ACCEL_FOPS`).
#[repr(transparent)]
pub(crate) struct FileOps(bindings::file_operations);

// SAFETY: built at compile time and never mutated; the kernel only reads it.
unsafe impl Sync for FileOps {}

impl FileOps {
    /// The accel fops, owned by `module` so an open file pins the module.
    pub(crate) const fn new(module: *const bindings::module) -> Self {
        let mut f: bindings::file_operations = pin_init::zeroed();
        f.owner = module.cast_mut();
        f.open = Some(sys::accel_open);
        f.release = Some(bindings::drm_release);
        f.unlocked_ioctl = Some(bindings::drm_ioctl);
        // 32-bit callers on a 64-bit kernel: DRM's compat translation.
        #[cfg(CONFIG_COMPAT)]
        {
            f.compat_ioctl = Some(bindings::drm_compat_ioctl);
        }
        f.poll = Some(bindings::drm_poll);
        f.read = Some(bindings::drm_read);
        f.llseek = Some(bindings::noop_llseek);
        f.mmap = Some(bindings::drm_gem_mmap);
        // Without it drm_open_helper() refuses every open with -EINVAL.
        f.fop_flags = bindings::FOP_UNSIGNED_OFFSET;
        Self(f)
    }
}

/// A table of driver-private ioctls, see [`IoctlTable::new`] and [`ioctl!`].
#[repr(transparent)]
pub(crate) struct IoctlTable<const N: usize>(pub(crate) [bindings::drm_ioctl_desc; N]);

// SAFETY: built at compile time and never mutated; the kernel only reads it.
unsafe impl<const N: usize> Sync for IoctlTable<N> {}

/// Per-open-file state of an accel driver whose per-device data is
/// [`FileData::Device`].
pub(crate) trait FileData: Sized + Send + Sync {
    /// The per-device data.
    type Device: Send + Sync;

    /// Called in the opening process's context for every `open()`.
    fn open(dev: &Self::Device) -> Result<Self>;
}

/// A DRM device the DRM core handed us (in a callback or through an open
/// file): alive for as long as the reference is.
#[repr(transparent)]
pub(crate) struct DrmDevice(Opaque<bindings::drm_device>);

impl DrmDevice {
    /// # Safety
    ///
    /// `ptr` must be a valid DRM device of a [`DriverTable`] for `'a`
    /// (registered, or unplugged but still referenced).
    unsafe fn from_raw<'a>(ptr: *mut bindings::drm_device) -> &'a Self {
        // SAFETY: `DrmDevice` is a transparent wrapper; valid per the
        // caller.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The raw `struct drm_device`.
    pub(crate) fn as_raw(&self) -> *mut bindings::drm_device {
        self.0.get()
    }

    /// Enters the device's registration guard (`drm_dev_enter()`): `None`
    /// once the device is unplugged, for which callers answer `-ENODEV`.
    /// While the guard lives, [`Registration`]'s drop cannot get past
    /// `drm_dev_unplug()`, which waits for every such section to end.
    pub(crate) fn enter(&self) -> Option<Registered<'_>> {
        let mut idx: c_int = 0;
        // SAFETY: `self` is a valid DRM device while borrowed; `idx` is a
        // valid place for the SRCU index.
        if unsafe { bindings::drm_dev_enter(self.as_raw(), &mut idx) } {
            // INVARIANT: `drm_dev_enter()` succeeded with `idx`.
            Some(Registered {
                _dev: self,
                idx,
                _not_send: NotThreadSafe,
            })
        } else {
            None
        }
    }
}

/// Proof that a DRM device is registered (not unplugged) for as long as
/// this lives: a `drm_dev_enter()`/`drm_dev_exit()` section, like the
/// `kernel` crate's `drm::RegistrationGuard`. Made by [`DrmDevice::enter`].
///
/// # Invariants
///
/// `idx` is the SRCU index of a successful `drm_dev_enter()` on `_dev`,
/// exited only by `drop`, on the task that entered it.
#[must_use]
pub(crate) struct Registered<'a> {
    _dev: &'a DrmDevice,
    idx: c_int,
    /// SRCU read sections end on the task that began them.
    _not_send: NotThreadSafe,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        // SAFETY: by the invariant `idx` is from a successful
        // `drm_dev_enter()` not yet exited.
        unsafe { bindings::drm_dev_exit(self.idx) };
    }
}

/// A counted reference to a DRM device of ours, for users outside the
/// DRM core's callbacks (the legacy nodes). It keeps the device's memory,
/// not its registration: after unplug, objects can still be made and
/// exported, as for files that stay open.
///
/// # Invariants
///
/// `0` is a DRM device of a [`DriverTable`], of which `self` owns one
/// reference.
pub(crate) struct DrmDeviceRef(NonNull<bindings::drm_device>);

// SAFETY: DRM device references may be taken and dropped on any thread.
unsafe impl Send for DrmDeviceRef {}
// SAFETY: `&self` only hands out `&DrmDevice`, whose users are thread-safe
// DRM core functions.
unsafe impl Sync for DrmDeviceRef {}

impl core::ops::Deref for DrmDeviceRef {
    type Target = DrmDevice;

    fn deref(&self) -> &DrmDevice {
        // SAFETY: by the invariant we hold a reference to the device.
        unsafe { DrmDevice::from_raw(self.0.as_ptr()) }
    }
}

impl Clone for DrmDeviceRef {
    fn clone(&self) -> Self {
        // SAFETY: by the invariant the device is live; this takes another
        // reference.
        unsafe { bindings::drm_dev_get(self.0.as_ptr()) };
        // INVARIANT: the same device; we took the reference.
        Self(self.0)
    }
}

impl Drop for DrmDeviceRef {
    fn drop(&mut self) {
        // SAFETY: by the invariant we own one reference.
        unsafe { bindings::drm_dev_put(self.0.as_ptr()) };
    }
}

/// PRIME import for an accel device whose per-device data implements it.
pub(crate) trait PrimeImport: Send + Sync {
    /// What the device's GEM objects are backed by.
    type Backing: super::gem::Backing;

    /// Imports `buf` for the calling process on `drm`: a new reference to
    /// a GEM object, handed to the DRM core.
    fn prime_import(
        &self,
        drm: &DrmDevice,
        buf: &DmaBuf,
    ) -> Result<super::gem::ObjectRef<Self::Backing>>;
}

/// # Safety
///
/// Called by the DRM core only, for a device of a `DriverTable<T, _>`.
unsafe extern "C" fn prime_import_callback<T: PrimeImport>(
    drm: *mut bindings::drm_device,
    buf: *mut bindings::dma_buf,
) -> *mut bindings::drm_gem_object {
    // SAFETY: `dev_private` holds the device data while files are open;
    // `drm` and `buf` (the dma-buf being imported) are alive for the call.
    let (dev, drm, buf) = unsafe {
        (
            &*(*drm).dev_private.cast::<T>(),
            DrmDevice::from_raw(drm),
            DmaBuf::from_raw(buf),
        )
    };
    match dev.prime_import(drm, buf) {
        Ok(obj) => obj.into_raw(),
        Err(e) => e.to_ptr(),
    }
}

/// `struct drm_driver` for an accel device whose per-device data is `T`
/// and per-file data is `F`.
#[repr(transparent)]
pub(crate) struct DriverTable<T, F>(bindings::drm_driver, PhantomData<(T, F)>);

// SAFETY: built at compile time and never mutated; the kernel only reads it.
unsafe impl<T, F> Sync for DriverTable<T, F> {}

impl<T: PrimeImport, F: FileData<Device = T>> DriverTable<T, F> {
    /// A GEM + compute-accel driver with the given ioctls and fops.
    pub(crate) const fn new<const N: usize>(
        name: &'static CStr,
        desc: &'static CStr,
        ioctls: &'static IoctlTable<N>,
        fops: &'static FileOps,
    ) -> Self {
        let mut d: bindings::drm_driver = pin_init::zeroed();
        d.driver_features = bindings::drm_driver_feature_DRIVER_GEM
            | bindings::drm_driver_feature_DRIVER_COMPUTE_ACCEL;
        d.name = name.to_bytes_with_nul().as_ptr().cast_mut();
        d.desc = desc.to_bytes_with_nul().as_ptr().cast_mut();
        d.major = 0;
        d.minor = 1;
        d.patchlevel = 0;
        d.ioctls = ioctls.0.as_ptr();
        d.num_ioctls = N as c_int;
        d.fops = &fops.0;
        d.release = Some(release_callback::<T>);
        d.open = Some(open_callback::<F>);
        d.postclose = Some(postclose_callback::<F>);
        d.gem_prime_import = Some(prime_import_callback::<T>);
        Self(d, PhantomData)
    }
}

/// Drops the device data reference taken in [`Registration::new`] once the
/// last reference to the DRM device (registration or open file) is gone.
///
/// # Safety
///
/// Called by the DRM core only, with a device of a `DriverTable<T>`.
unsafe extern "C" fn release_callback<T: Send + Sync>(drm: *mut bindings::drm_device) {
    // SAFETY: the DRM core passes the device being released; `dev_private`
    // holds the `Arc<T>` stored in `Registration::new`, taken back once.
    unsafe {
        let data = (*drm).dev_private.cast::<T>();
        (*drm).dev_private = core::ptr::null_mut();
        if !data.is_null() {
            drop(Arc::from_raw(data));
        }
    }
}

/// Creates the file's `F` and stores it in `driver_priv`.
///
/// # Safety
///
/// Called by the DRM core only, with a device of a `DriverTable<_, F>`.
unsafe extern "C" fn open_callback<F: FileData>(
    drm: *mut bindings::drm_device,
    file: *mut bindings::drm_file,
) -> c_int {
    // SAFETY: `dev_private` holds the device data until release, which
    // cannot happen while a file is being opened.
    let dev = unsafe { &*(*drm).dev_private.cast::<F::Device>() };
    let data = match F::open(dev).and_then(|f| Ok(KBox::new(f, GFP_KERNEL)?)) {
        Ok(d) => d,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: `file` is the file being opened; `driver_priv` is ours.
    unsafe { (*file).driver_priv = KBox::into_raw(data).cast() };
    0
}

/// Drops the file's `F`.
///
/// # Safety
///
/// Called by the DRM core only, once per successfully opened file.
unsafe extern "C" fn postclose_callback<F: FileData>(
    _drm: *mut bindings::drm_device,
    file: *mut bindings::drm_file,
) {
    // SAFETY: set by `open_callback` from `KBox::into_raw`; no ioctl can
    // run on a file being closed.
    unsafe {
        let data = (*file).driver_priv.cast::<F>();
        (*file).driver_priv = core::ptr::null_mut();
        if !data.is_null() {
            drop(KBox::from_raw(data));
        }
    }
}

/// An open file of an accel device, with its driver data `F`.
///
/// # Invariants
///
/// Wraps an open `struct drm_file` whose `driver_priv` is an `F` created by
/// `open_callback`.
#[repr(transparent)]
pub(crate) struct File<F>(Opaque<bindings::drm_file>, PhantomData<F>);

impl<F> File<F> {
    /// The driver data of this file.
    pub(crate) fn data(&self) -> &F {
        // SAFETY: by the invariant `driver_priv` is our `F`, alive until
        // postclose, which cannot run while `self` is borrowed.
        unsafe { &*(*self.0.get()).driver_priv.cast::<F>() }
    }

    /// The raw `struct drm_file`.
    pub(crate) fn as_raw(&self) -> *mut bindings::drm_file {
        self.0.get()
    }

    /// The DRM device the file was opened on.
    pub(crate) fn drm_device(&self) -> &DrmDevice {
        // SAFETY: an open file has a valid minor and device, which outlive
        // the file.
        unsafe { DrmDevice::from_raw((*(*self.0.get()).minor).dev) }
    }
}

/// A registered accel device; unplugged on drop.
///
/// # Invariants
///
/// `drm` is a registered DRM device of a `DriverTable<T>`, holding one
/// reference owned by `self`.
pub(crate) struct Registration<T: Send + Sync> {
    drm: NonNull<bindings::drm_device>,
    _t: PhantomData<T>,
}

// SAFETY: the DRM device is reference counted and may be unplugged from any
// thread; `T` itself is `Send + Sync`.
unsafe impl<T: Send + Sync> Send for Registration<T> {}
// SAFETY: see `Send`; `&self` only reads immutable fields.
unsafe impl<T: Send + Sync> Sync for Registration<T> {}

impl<T: Send + Sync> Registration<T> {
    /// Allocates and registers an accel device under `parent`.
    pub(crate) fn new<F>(
        parent: &device::Device,
        driver: &'static DriverTable<T, F>,
        data: Arc<T>,
    ) -> Result<Self> {
        let parent = core::ptr::from_ref(parent)
            .cast_mut()
            .cast::<bindings::device>();
        // SAFETY: `driver` is a static table; `parent` is a valid device
        // (`device::Device` is a transparent wrapper of `struct device`).
        let drm = from_err_ptr(unsafe { bindings::drm_dev_alloc(&driver.0, parent) })?;
        // SAFETY: `drm` was just allocated and is not yet visible to
        // anyone; the release callback takes the reference back.
        unsafe { (*drm).dev_private = Arc::into_raw(data).cast_mut().cast::<c_void>() };
        // SAFETY: `drm` is a valid, unregistered device.
        if let Err(e) = to_result(unsafe { bindings::drm_dev_register(drm, 0) }) {
            // SAFETY: drops the allocation reference; release frees `data`.
            unsafe { bindings::drm_dev_put(drm) };
            return Err(e);
        }
        // INVARIANT: registered above, and we own the allocation reference.
        Ok(Self {
            // SAFETY: `from_err_ptr` returned a non-error pointer.
            drm: unsafe { NonNull::new_unchecked(drm) },
            _t: PhantomData,
        })
    }

    /// A counted reference to the device.
    pub(crate) fn device_ref(&self) -> DrmDeviceRef {
        // SAFETY: by the invariant `drm` is a live device we hold a
        // reference to; this takes another one.
        unsafe { bindings::drm_dev_get(self.drm.as_ptr()) };
        // INVARIANT: a device of a `DriverTable`; we took the reference.
        DrmDeviceRef(self.drm)
    }

    /// The N of `/dev/accel/accelN`.
    pub(crate) fn index(&self) -> i32 {
        // SAFETY: by the invariant the device is registered, so its accel
        // minor exists and is immutable.
        unsafe { (*(*self.drm.as_ptr()).accel).index }
    }
}

impl<T: Send + Sync> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: by the invariant `drm` is registered and we own one
        // reference. Unplug marks the device unplugged (from then on
        // `drm_ioctl()` and every guard [`DrmDevice::enter`] refuses with
        // -ENODEV), then waits for the `drm_dev_enter()` sections in
        // progress: every driver ioctl runs inside one (see [`dispatch`]),
        // so none is running once it returns. Open files keep the device
        // (and `T`) alive until they are closed.
        unsafe {
            bindings::drm_dev_unplug(self.drm.as_ptr());
            bindings::drm_dev_put(self.drm.as_ptr());
        }
    }
}

/// `_IOC_SIZE()` of an ioctl request number.
pub(crate) const fn ioc_size(cmd: u32) -> usize {
    ((cmd >> 16) & 0x3fff) as usize
}

/// Calls `handler` for one ioctl, inside the device's registration guard
/// ([`DrmDevice::enter`]; `-ENODEV` once the device is unplugged), as the
/// `kernel` crate's `declare_drm_ioctls!` does: `drm_ioctl()` only checks
/// for unplug before calling us, and `drm_dev_unplug()` waits only for
/// guarded sections.
///
/// The DRM core hands over a kernel buffer of at least the table entry's
/// `_IOC_SIZE` bytes, which [`ioctl!`] checks equals `size_of::<A>()`.
/// The buffer may be on the stack without alignment guarantees, so it is
/// read and written unaligned. Only `size_of::<A>()` bytes are touched,
/// whatever size userspace encoded.
///
/// # Safety
///
/// `drm` must be a device of a `DriverTable<T, F>`, `file` one of its open
/// files and `data` must point to at least `size_of::<A>()` writable bytes.
pub(crate) unsafe fn dispatch<T, F, A>(
    drm: *mut bindings::drm_device,
    file: *mut bindings::drm_file,
    data: *mut c_void,
    handler: fn(&T, &File<F>, &mut A) -> Result<u32>,
) -> c_int {
    // SAFETY: `drm` is a device of ours, alive for the call.
    let Some(_registered) = (unsafe { DrmDevice::from_raw(drm) }).enter() else {
        return ENODEV.to_errno();
    };
    // SAFETY: `dev_private` holds the `Arc<T>` from `Registration::new`; it
    // is only released after the last file (and so the last ioctl) is gone.
    let dev = unsafe { &*(*drm).dev_private.cast::<T>() };
    // SAFETY: `file` is an open file of this driver, so `driver_priv` is the
    // `F` set by `open_callback`, freed only in postclose after the last
    // ioctl on the file.
    let file = unsafe { &*file.cast::<File<F>>() };
    let data = data.cast::<A>();
    // SAFETY: `data` is readable for `size_of::<A>()` bytes (see above), and
    // UAPI structs are plain integers, valid for any bit pattern.
    let mut args = unsafe { data.read_unaligned() };
    let ret = handler(dev, file, &mut args);
    // SAFETY: `data` is writable for `size_of::<A>()` bytes (see above).
    unsafe { data.write_unaligned(args) };
    match ret {
        // Bit for bit: a remote method's own return codes pass through.
        Ok(v) => v as c_int,
        Err(e) => e.to_errno(),
    }
}

/// One ioctl table entry: `(request, argument type, handler)`. Checks at
/// compile time that the request encodes the argument struct's size.
macro_rules! ioctl {
    ($data:ty, $file:ty; $cmd:expr, $args:ty, $handler:path) => {{
        const CMD: u32 = $cmd as u32;
        const _: () = assert!($crate::ffi::accel::ioc_size(CMD) == ::core::mem::size_of::<$args>());
        /// # Safety
        ///
        /// Called by `drm_ioctl()` only.
        unsafe extern "C" fn thunk(
            drm: *mut kernel::bindings::drm_device,
            data: *mut ::core::ffi::c_void,
            file: *mut kernel::bindings::drm_file,
        ) -> ::core::ffi::c_int {
            // SAFETY: called by drm_ioctl() for this table's driver and an
            // open file, with a buffer of `_IOC_SIZE(CMD)` =
            // `size_of::<$args>()` bytes.
            unsafe {
                $crate::ffi::accel::dispatch::<$data, $file, $args>(drm, file, data, $handler)
            }
        }
        kernel::bindings::drm_ioctl_desc {
            cmd: CMD,
            flags: 0,
            func: Some(thunk),
            name: concat!(stringify!($cmd), "\0").as_ptr().cast(),
        }
    }};
}
pub(crate) use ioctl;

impl<const N: usize> IoctlTable<N> {
    /// A table; panics at compile time unless entry `i` is request number
    /// `DRM_COMMAND_BASE + i`.
    pub(crate) const fn new(entries: [bindings::drm_ioctl_desc; N]) -> Self {
        let mut i = 0;
        while i < N {
            assert!(entries[i].cmd & 0xff == bindings::DRM_COMMAND_BASE + i as u32);
            i += 1;
        }
        Self(entries)
    }
}
