// SPDX-License-Identifier: GPL-2.0

//! GEM objects on raw bindings.
//!
//! A qda buffer object is a `struct drm_gem_object` followed by a
//! Rust-owned backing `B` (see [`Backing`]). The kernel crate's GEM types
//! cannot be used for an accel device (see [`super::accel`]), so the
//! object functions are built here. Objects have no shmem: their memory
//! comes from the backing, which also maps it into user space.
//!
//! C header: [`include/drm/drm_gem.h`](srctree/include/drm/drm_gem.h)

use core::{
    ffi::c_int,
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    error::to_result,
    fs::file::FileDescriptorReservation,
    mm::virt::VmaNew,
    prelude::*, //
    sync::aref::ARef,
};

use super::{
    accel::File,
    sys, //
};

/// A scatter-gather table describing a backing's pages, for exporters.
///
/// # Invariants
///
/// A `kmalloc`ed, initialised `struct sg_table`.
pub(crate) struct SgTable(NonNull<bindings::sg_table>);

impl SgTable {
    /// Builds the table of a DMA allocation with `dma_get_sgtable_attrs`.
    ///
    /// # Safety
    ///
    /// `cpu` and `dma` must be a live allocation of `size` bytes made on
    /// `dev` with `attrs`, and stay allocated while the table is used.
    pub(crate) unsafe fn for_dma(
        dev: &kernel::device::Device,
        cpu: *mut core::ffi::c_void,
        dma: u64,
        size: usize,
        attrs: usize,
    ) -> Result<Self> {
        // SAFETY: an all-zero table is what `sg_alloc_table` starts from.
        let sgt: bindings::sg_table = unsafe { core::mem::zeroed() };
        let sgt = KBox::into_raw(KBox::new(sgt, GFP_KERNEL)?);
        let raw_dev = core::ptr::from_ref(dev)
            .cast_mut()
            .cast::<bindings::device>();
        // SAFETY: `cpu`/`dma` is a live allocation of `size` bytes on `dev`
        // (the caller's obligation); `sgt` is ours.
        let ret = unsafe { bindings::dma_get_sgtable_attrs(raw_dev, sgt, cpu, dma, size, attrs) };
        if ret != 0 {
            // SAFETY: nothing was allocated in the table; free the box.
            drop(unsafe { KBox::from_raw(sgt) });
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: allocated with kmalloc and initialised.
        // SAFETY: `sgt` is not null.
        Ok(Self(unsafe { NonNull::new_unchecked(sgt) }))
    }
}

/// The memory behind a GEM object.
pub(crate) trait Backing: Send + Sync + 'static {
    /// Maps the object into `vma`, whose `vm_pgoff` is relative to the
    /// start of the object. The caller checked that the mapping is no
    /// larger than the object. An imported backing (one with an
    /// [`attachment`](Backing::attachment)) maps through its exporter.
    fn mmap(&self, vma: &VmaNew) -> Result;

    /// The pages as a table, for a dma-buf importer of our export.
    fn sg_table(&self) -> Result<SgTable>;

    /// Whether the object may be exported as a dma-buf at all.
    fn exportable(&self) -> bool;

    /// A kernel virtual address of the whole object, if it has one.
    fn vaddr(&self) -> Option<NonNull<core::ffi::c_void>>;

    /// The dma-buf attachment, for an imported object.
    fn attachment(&self) -> Option<&super::dmabuf::Attachment>;
}

/// Object storage; `base` must stay first.
#[repr(C)]
struct RawObject<B> {
    base: bindings::drm_gem_object,
    backing: B,
}

/// `struct drm_gem_object_funcs` for objects backed by `B`.
#[repr(transparent)]
pub(crate) struct ObjectFuncs<B>(bindings::drm_gem_object_funcs, PhantomData<B>);

// SAFETY: built at compile time and never mutated; the kernel only reads it.
unsafe impl<B> Sync for ObjectFuncs<B> {}

/// `vm_operations_struct` keeping the object alive while it is mapped.
#[repr(transparent)]
struct VmOps(bindings::vm_operations_struct);
// SAFETY: constant table, only read by the kernel.
unsafe impl Sync for VmOps {}

static VM_OPS: VmOps = VmOps({
    let mut o: bindings::vm_operations_struct = pin_init::zeroed();
    o.open = Some(bindings::drm_gem_vm_open);
    o.close = Some(bindings::drm_gem_vm_close);
    o
});

impl<B: Backing> ObjectFuncs<B> {
    /// The object functions for `B`.
    pub(crate) const fn new() -> Self {
        let mut f: bindings::drm_gem_object_funcs = pin_init::zeroed();
        f.free = Some(free_callback::<B>);
        f.mmap = Some(mmap_callback::<B>);
        f.get_sg_table = Some(get_sg_table_callback::<B>);
        f.export = Some(export_callback::<B>);
        f.vmap = Some(vmap_callback::<B>);
        f.vm_ops = &VM_OPS.0;
        Self(f, PhantomData)
    }
}

/// # Safety
///
/// Called by the GEM core on the last reference of an object created by
/// [`create_handle`] with `ObjectFuncs<B>`.
unsafe extern "C" fn free_callback<B: Backing>(obj: *mut bindings::drm_gem_object) {
    let raw = obj.cast::<RawObject<B>>();
    // SAFETY: `obj` is the first field of a `RawObject<B>` leaked by
    // `create_handle`; nothing refers to it any more.
    unsafe {
        bindings::drm_gem_object_release(obj);
        drop(KBox::from_raw(raw));
    }
}

/// # Safety
///
/// Called by `DRM_IOCTL_PRIME_HANDLE_TO_FD` for an object of
/// `ObjectFuncs<B>`.
unsafe extern "C" fn export_callback<B: Backing>(
    obj: *mut bindings::drm_gem_object,
    flags: c_int,
) -> *mut bindings::dma_buf {
    // SAFETY: `obj` is a live `RawObject<B>`.
    let backing = unsafe { &(*obj.cast::<RawObject<B>>()).backing };
    if !backing.exportable() {
        return EOPNOTSUPP.to_ptr();
    }
    // SAFETY: the default PRIME export of a live object.
    unsafe { bindings::drm_gem_prime_export(obj, flags) }
}

/// # Safety
///
/// Called by the PRIME helpers for an exported object of `ObjectFuncs<B>`.
unsafe extern "C" fn get_sg_table_callback<B: Backing>(
    obj: *mut bindings::drm_gem_object,
) -> *mut bindings::sg_table {
    // SAFETY: `obj` is a live `RawObject<B>`.
    let backing = unsafe { &(*obj.cast::<RawObject<B>>()).backing };
    match backing.sg_table() {
        // The PRIME helpers free the table with `sg_free_table` + `kfree`.
        Ok(t) => t.0.as_ptr(),
        Err(e) => e.to_ptr(),
    }
}

/// # Safety
///
/// Called by the PRIME helpers for an exported object of `ObjectFuncs<B>`.
unsafe extern "C" fn vmap_callback<B: Backing>(
    obj: *mut bindings::drm_gem_object,
    map: *mut bindings::iosys_map,
) -> c_int {
    // SAFETY: `obj` is a live `RawObject<B>`.
    let backing = unsafe { &(*obj.cast::<RawObject<B>>()).backing };
    match backing.vaddr() {
        Some(v) => {
            // SAFETY: `map` is the caller's output.
            unsafe {
                (*map).__bindgen_anon_1.vaddr = v.as_ptr();
                (*map).is_iomem = false;
            }
            0
        }
        None => EOPNOTSUPP.to_errno(),
    }
}

/// # Safety
///
/// Called by `drm_gem_mmap_obj()` for an object of `ObjectFuncs<B>`, after
/// it checked that the mapping fits in the object.
unsafe extern "C" fn mmap_callback<B: Backing>(
    obj: *mut bindings::drm_gem_object,
    vma: *mut bindings::vm_area_struct,
) -> c_int {
    let raw = obj.cast::<RawObject<B>>();
    // SAFETY: `vma` is a mapping being set up by `mmap()`, which is what
    // `VmaNew` describes.
    let new = unsafe { VmaNew::from_raw(vma) };
    // Buffer mappings must not grow with mremap() nor land in core dumps
    // (the DRM core checks the former).
    new.set_dontexpand();
    new.set_dontdump();
    // SAFETY: `obj` is a live object of ours and `vma` the mapping being
    // created. The fake offset of the mmap offset node is removed so that
    // the backing sees offsets relative to the object.
    unsafe {
        (*vma).vm_pgoff -= (*obj).vma_node.vm_node.start as usize;
        let backing = &(*raw).backing;
        let delegated = backing.attachment().is_some();
        if delegated {
            // The exporter installs its own vm_ops (or none): ours must not
            // run on this vma, nor drop a reference it does not hold.
            (*vma).vm_ops = core::ptr::null();
            (*vma).vm_private_data = core::ptr::null_mut();
        }
        match backing.mmap(new) {
            Ok(()) => {
                if delegated {
                    // Nothing will drop the reference `drm_gem_mmap_obj()`
                    // took for our vm_ops.
                    sys::qda_drm_gem_object_put(obj);
                }
                0
            }
            Err(e) => e.to_errno(),
        }
    }
}

/// Creates an object of `size` bytes on `drm` backed by `backing`, with an
/// mmap offset (and, for an imported backing, its attachment).
pub(crate) fn create_object<B: Backing>(
    drm: &super::accel::DrmDevice,
    funcs: &'static ObjectFuncs<B>,
    size: usize,
    backing: B,
) -> Result<ObjectRef<B>> {
    // SAFETY: an all-zero `drm_gem_object` is the expected initial state.
    let base: bindings::drm_gem_object = unsafe { core::mem::zeroed() };
    let raw = KBox::into_raw(KBox::new(RawObject { base, backing }, GFP_KERNEL)?);
    // SAFETY: `raw` is ours and `drm` a live device. After
    // `drm_gem_private_object_init` the object is reference counted and
    // freed through `free_callback`.
    let obj = unsafe {
        let obj = &raw mut (*raw).base;
        (*obj).funcs = &funcs.0;
        bindings::drm_gem_private_object_init(drm.as_raw(), obj, size);
        if let Some(a) = (*raw).backing.attachment() {
            (*obj).import_attach = a.as_raw();
        }
        NonNull::new_unchecked(obj)
    };
    // INVARIANT: a `RawObject<B>` with `funcs`; we own the creation reference.
    let r = ObjectRef {
        obj,
        _b: PhantomData,
    };
    // SAFETY: `obj` is initialised.
    to_result(unsafe { bindings::drm_gem_create_mmap_offset(obj.as_ptr()) })?;
    Ok(r)
}

/// Creates an object (see [`create_object`]) and returns a handle to it in
/// `file`; the handle holds the only reference.
pub(crate) fn create_handle<B: Backing, F>(
    file: &File<F>,
    funcs: &'static ObjectFuncs<B>,
    size: usize,
    backing: B,
) -> Result<u32> {
    let obj = create_object(file.drm_device(), funcs, size, backing)?;
    let mut handle = 0u32;
    // SAFETY: `obj` is initialised; `file` is an open file of its device.
    to_result(unsafe {
        bindings::drm_gem_handle_create(file.as_raw(), obj.obj.as_ptr(), &mut handle)
    })?;
    Ok(handle)
}

/// A reference to an object of `file`, looked up by handle.
///
/// # Invariants
///
/// `obj` is an object created with `ObjectFuncs<B>`, and `self` owns one
/// reference to it.
pub(crate) struct ObjectRef<B> {
    obj: NonNull<bindings::drm_gem_object>,
    _b: PhantomData<B>,
}

impl<B: Backing> ObjectRef<B> {
    /// Looks `handle` up in `file`; `-ENOENT` if there is no such handle or
    /// it is not an object backed by `B`.
    pub(crate) fn lookup<F>(
        file: &File<F>,
        funcs: &'static ObjectFuncs<B>,
        handle: u32,
    ) -> Result<Self> {
        // SAFETY: `file` is an open file.
        let obj = unsafe { bindings::drm_gem_object_lookup(file.as_raw(), handle) };
        let obj = NonNull::new(obj).ok_or(ENOENT)?;
        // SAFETY: a looked-up object is valid; `funcs` never changes.
        if unsafe { (*obj.as_ptr()).funcs } != &raw const funcs.0 {
            // SAFETY: drops the lookup reference.
            unsafe { sys::qda_drm_gem_object_put(obj.as_ptr()) };
            return Err(ENOENT);
        }
        // INVARIANT: checked the funcs; the lookup took a reference.
        Ok(Self {
            obj,
            _b: PhantomData,
        })
    }

    /// The object's backing.
    pub(crate) fn backing(&self) -> &B {
        // SAFETY: by the invariant the object is a `RawObject<B>`.
        unsafe { &(*self.obj.as_ptr().cast::<RawObject<B>>()).backing }
    }

    /// The fake offset to pass to `mmap()` for this object.
    pub(crate) fn mmap_offset(&self) -> u64 {
        // SAFETY: the object is valid and its offset node was created in
        // `create_handle`.
        unsafe { sys::qda_drm_vma_node_offset_addr(&raw mut (*self.obj.as_ptr()).vma_node) }
    }

    /// Whether `m` is an mmap of this object (through a GEM offset, or
    /// of its PRIME export).
    pub(crate) fn is_mapped_by(&self, m: &super::vma::MappingAt) -> bool {
        m.is_of(core::ptr::null(), self.obj.as_ptr().cast_const().cast())
    }

    /// The object's size in bytes.
    pub(crate) fn size(&self) -> usize {
        // SAFETY: the object is valid; its size never changes.
        unsafe { (*self.obj.as_ptr()).size }
    }
}

impl<B: Backing> ObjectRef<B> {
    /// A new reference to the qda object `buf` was exported from, if it
    /// was exported by `drm` from an object of `funcs`.
    pub(crate) fn from_own_export(
        drm: &super::accel::DrmDevice,
        funcs: &'static ObjectFuncs<B>,
        buf: &super::dmabuf::DmaBuf,
    ) -> Option<Self> {
        // SAFETY: `buf` is a live dma-buf; for a PRIME export of `drm` its
        // `priv` is the exported GEM object, which the dma-buf keeps alive.
        unsafe {
            if !bindings::drm_gem_is_prime_exported_dma_buf(drm.as_raw(), buf.as_raw()) {
                return None;
            }
            let obj = (*buf.as_raw()).priv_.cast::<bindings::drm_gem_object>();
            if (*obj).funcs != &raw const funcs.0 {
                return None;
            }
            sys::qda_drm_gem_object_get(obj);
            // INVARIANT: checked the funcs; took a reference.
            Some(Self {
                obj: NonNull::new_unchecked(obj),
                _b: PhantomData,
            })
        }
    }

    /// Exports the object as a new dma-buf (opened with `flags`, e.g.
    /// `O_RDWR`) and installs it at a new file descriptor of the calling
    /// process, once `publish(fd)` (which tells userspace the number)
    /// succeeded. Without `O_CLOEXEC`, as `drivers/misc/fastrpc.c` does.
    pub(crate) fn export_fd(&self, flags: u32, publish: impl FnOnce(i32) -> Result) -> Result<i32> {
        let res = FileDescriptorReservation::get_unused_fd_flags(0)?;
        let fd = res.reserved_fd() as i32;
        // SAFETY: the object is live (we hold a reference); `export` is
        // the object's own PRIME export (see `export_callback`).
        let buf = unsafe {
            let obj = self.obj.as_ptr();
            let export = (*(*obj).funcs).export.ok_or(EOPNOTSUPP)?;
            kernel::error::from_err_ptr(export(obj, flags as c_int))?
        };
        // SAFETY: `buf` is a new dma-buf whose file we own the only
        // reference of.
        let file: ARef<kernel::fs::File> =
            unsafe { ARef::from_raw(NonNull::from(kernel::fs::File::from_raw_file((*buf).file))) };
        publish(fd)?;
        res.fd_install(file);
        Ok(fd)
    }

    /// Gives the reference to the caller (the DRM core).
    pub(super) fn into_raw(self) -> *mut bindings::drm_gem_object {
        let obj = self.obj.as_ptr();
        core::mem::forget(self);
        obj
    }
}

impl<B: Backing> Clone for ObjectRef<B> {
    fn clone(&self) -> Self {
        // SAFETY: the object is valid (we own a reference); this takes
        // another one.
        unsafe { sys::qda_drm_gem_object_get(self.obj.as_ptr()) };
        // INVARIANT: the same object, with one more reference owned.
        Self {
            obj: self.obj,
            _b: PhantomData,
        }
    }
}

// SAFETY: a GEM object reference may be used and dropped on any thread:
// the reference count is atomic and the backing `B` is `Send + Sync`.
unsafe impl<B: Backing> Send for ObjectRef<B> {}
// SAFETY: as for `Send`; `&ObjectRef` only reads immutable object fields.
unsafe impl<B: Backing> Sync for ObjectRef<B> {}

impl<B> Drop for ObjectRef<B> {
    fn drop(&mut self) {
        // SAFETY: by the invariant we own one reference.
        unsafe { sys::qda_drm_gem_object_put(self.obj.as_ptr()) };
    }
}
