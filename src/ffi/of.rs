// SPDX-License-Identifier: GPL-2.0

//! Device-tree lookups the `kernel` crate does not offer: the node a
//! phandle list entry points to, a node's parent, and the placement of a reserved-memory region.
//!
//! C header: [`include/linux/of_reserved_mem.h`](srctree/include/linux/of_reserved_mem.h)

use core::{
    mem::ManuallyDrop,
    ptr::NonNull, //
};
use kernel::{
    bindings::{
        self,
        fwnode_reference_args as RawArgs, //
    },
    device::property::{
        FwNode,
        FwNodeReferenceArgs,
        NArgs, //
    },
    prelude::*,
    sync::aref::ARef, //
};

use super::sys;

/// Wraps a referenced `device_node` as an `ARef<FwNode>`.
///
/// # Safety
///
/// `np` is NULL or a valid node whose reference the caller gives away.
unsafe fn to_fwnode(np: *mut bindings::device_node) -> Option<ARef<FwNode>> {
    if np.is_null() {
        return None;
    }
    // SAFETY: `np` is valid; `FwNode` is a transparent wrapper of the
    // node's `fwnode`, and its reference count is the node's.
    Some(unsafe {
        ARef::from_raw(NonNull::new_unchecked(
            (&raw mut (*np).fwnode).cast::<FwNode>(),
        ))
    })
}

/// The `device_node` behind `node`, if it is a device-tree node (an
/// ACPI or software node is refused with `ENODEV`).
pub(crate) fn device_node(node: &FwNode) -> Result<*mut bindings::device_node> {
    if !node.is_of_node() {
        return Err(ENODEV);
    }
    let fwnode = core::ptr::from_ref(node)
        .cast_mut()
        .cast::<bindings::fwnode_handle>();
    // SAFETY: checked above: the handle is the `fwnode` member of a
    // `struct device_node`.
    Ok(unsafe { kernel::container_of!(fwnode, bindings::device_node, fwnode) })
}

/// The node that entry `index` of `node`'s phandle list `prop` (entries
/// without arguments, like `memory-region`) points to; `None` if there is
/// no such entry or it points nowhere.
///
/// The lookup is [`FwNode::property_get_reference_args`]; the 7.3 kernel
/// crate has no accessor for the node it found, which this adds.
pub(crate) fn reference(node: &FwNode, prop: &CStr, index: usize) -> Option<ARef<FwNode>> {
    let index = u32::try_from(index).ok()?;
    let args = node
        .property_get_reference_args(prop, NArgs::N(0), index)
        .ok()?;
    // Not dropped: its reference on the node is handed to the result.
    let args = ManuallyDrop::new(args);
    // SAFETY: `FwNodeReferenceArgs` is `#[repr(transparent)]` over
    // `struct fwnode_reference_args`, so the cast keeps the layout.
    let raw = unsafe { &*core::ptr::from_ref::<FwNodeReferenceArgs>(&args).cast::<RawArgs>() };
    let fwnode = NonNull::new(raw.fwnode)?;
    // SAFETY: a non-NULL `fwnode` holds a reference (the invariant of
    // `FwNodeReferenceArgs`), which `args`, never dropped, gives away;
    // `FwNode` is a transparent wrapper of `struct fwnode_handle`.
    Some(unsafe { ARef::from_raw(fwnode.cast::<FwNode>()) })
}

/// The parent of `node`.
pub(crate) fn parent(node: &FwNode) -> Option<ARef<FwNode>> {
    let np = device_node(node).ok()?;
    // SAFETY: `np` is a valid DT node; returns NULL or a referenced node.
    unsafe { to_fwnode(bindings::of_get_parent(np)) }
}

/// A `no-map` reserved-memory region as the kernel reserved it at boot:
/// physical memory it neither maps nor hands out, so writing to it cannot
/// touch memory the kernel (or Rust code) uses. Only [`no_map_region`]
/// makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NoMapRegion {
    base: u64,
    size: u64,
}

impl NoMapRegion {
    /// Physical address of the first byte.
    pub(crate) fn base(&self) -> u64 {
        self.base
    }

    /// Size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Zeroes the whole region through a write-combined mapping (no cache
    /// line of it is left for a device that does not snoop the CPU's).
    pub(crate) fn zero(&self) -> Result {
        let size = usize::try_from(self.size).map_err(|_| EINVAL)?;
        // SAFETY: a `no-map` reservation holds no kernel or Rust object:
        // the kernel neither maps nor hands it out (type invariant).
        unsafe { super::phys::zero(self.base, size, super::phys::Caching::WriteCombined) }
    }
}

// SAFETY: a `no-map` reservation holds no kernel or Rust object, ever:
// the kernel neither maps nor hands it out (type invariant).
unsafe impl super::guarded::DeviceMemory for NoMapRegion {
    fn range(&self) -> (u64, u64) {
        (self.base, self.size)
    }
}

/// Reserved-memory region `node`, if it is `no-map` and was reserved at
/// boot.
pub(crate) fn no_map_region(node: &FwNode) -> Option<NoMapRegion> {
    if !node.property_read_bool(c"no-map") {
        return None;
    }
    reserved_region(node).map(|(base, size)| NoMapRegion { base, size })
}

/// Where the kernel placed reserved-memory region `node` at boot:
/// `(base, size)`, or `None` if it was not reserved.
pub(crate) fn reserved_region(node: &FwNode) -> Option<(u64, u64)> {
    let np = device_node(node).ok()?;
    // SAFETY: `np` is a valid DT node; the table entry lives forever.
    let rmem = unsafe { sys::of_reserved_mem_lookup(np) };
    if rmem.is_null() {
        return None;
    }
    // SAFETY: non-NULL entries of the reserved-memory table are valid.
    unsafe { Some(((*rmem).base, (*rmem).size)) }
}

/// Whether the machine (the root node) is compatible with `compatible`.
pub(crate) fn machine_is_compatible(compatible: &CStr) -> bool {
    let list = [compatible.as_char_ptr(), core::ptr::null()];
    // SAFETY: `list` is a NULL-terminated array of NUL-terminated strings
    // that outlives the call.
    unsafe { bindings::of_machine_compatible_match(list.as_ptr()) }
}
