// SPDX-License-Identifier: GPL-2.0

//! The FastRPC nodes of the device tree the simulator makes channels for:
//! every node compatible with one of [`COMPATIBLES`], once, optionally only
//! those of one corpus group (the `corpus_group` module parameter), and
//! the name each channel goes by.

use core::ptr;
use kernel::{
    bindings,
    prelude::*,
    str::CString, //
};

/// Device-tree compatibles of FastRPC nodes (the second on Kaanapali and
/// later SoCs, which have no `qcom,fastrpc` fallback).
const COMPATIBLES: [&CStr; 2] = [c"qcom,fastrpc", c"qcom,kaanapali-fastrpc"];

/// What a visitor of [`for_each`] wants next.
pub(crate) enum Flow {
    /// The next node.
    Next,
    /// No more nodes of this compatible.
    Stop,
}

/// Whether FastRPC node `node` belongs to corpus group `group`: its
/// remoteproc (the parent of its edge) has `qda,corpus-group = <group>`;
/// group 0 takes every node.
///
/// # Safety
///
/// `node` must be a valid device-tree node.
unsafe fn in_group(node: *mut bindings::device_node, group: u32) -> bool {
    if group == 0 {
        return true;
    }
    let mut got = 0u32;
    // SAFETY: `node` is valid; each `of_get_parent` result is referenced
    // (NULL for NULL) and put below; the property name is NUL-terminated
    // and `got` has room for the one value asked for.
    unsafe {
        let edge = bindings::of_get_parent(node);
        let rproc = bindings::of_get_parent(edge);
        let r = bindings::of_property_read_variable_u32_array(
            rproc,
            c"qda,corpus-group".as_char_ptr(),
            &mut got,
            1,
            1,
        );
        for np in [rproc, edge] {
            if !np.is_null() {
                bindings::fwnode_handle_put(&raw mut (*np).fwnode);
            }
        }
        r == 1 && got == group
    }
}

/// Calls `visit` on every FastRPC node of the device tree in the
/// simulator's corpus group, in search order, each node once.
///
/// `visit` gets a node the search holds a reference to, valid for the
/// call; it takes its own reference to keep it. On [`Flow::Stop`] the
/// search drops its reference and goes on with the next compatible; on an
/// error it ends.
pub(crate) fn for_each(
    mut visit: impl FnMut(*mut bindings::device_node) -> Result<Flow>,
) -> Result {
    for (i, compatible) in COMPATIBLES.iter().enumerate() {
        search(compatible, &COMPATIBLES[..i], &mut visit)?;
    }
    Ok(())
}

/// [`for_each`] for the nodes compatible with `compatible` but none of
/// `seen` (found by an earlier search).
fn search(
    compatible: &CStr,
    seen: &[&CStr],
    visit: &mut impl FnMut(*mut bindings::device_node) -> Result<Flow>,
) -> Result {
    let group = crate::module_parameters::corpus_group.value();
    let mut node: *mut bindings::device_node = ptr::null_mut();
    loop {
        // SAFETY: `node` is NULL or the node returned by the previous
        // call, whose reference this call drops.
        node = unsafe {
            bindings::of_find_compatible_node(node, ptr::null(), compatible.as_char_ptr())
        };
        if node.is_null() {
            break;
        }
        // SAFETY: `node` is valid; the strings are NUL-terminated.
        let found_before = seen
            .iter()
            .any(|c| unsafe { bindings::of_device_is_compatible(node, c.as_char_ptr()) } > 0);
        // SAFETY: `node` is valid.
        if found_before || !unsafe { in_group(node, group) } {
            continue;
        }
        if let Flow::Stop = visit(node)? {
            // SAFETY: drop the reference the search returned.
            unsafe { bindings::fwnode_handle_put(&raw mut (*node).fwnode) };
            break;
        }
    }
    Ok(())
}

/// The name channel `index` of `node` goes by: its `label`, else
/// `channel<index>`.
///
/// # Safety
///
/// `node` must be a valid device-tree node.
pub(crate) unsafe fn label(node: *mut bindings::device_node, index: u32) -> Result<CString> {
    let mut label: *const kernel::ffi::c_char = ptr::null();
    // SAFETY: valid node and property name; `label` points into the DT.
    let r = unsafe { bindings::of_property_read_string(node, c"label".as_char_ptr(), &mut label) };
    if r == 0 {
        // SAFETY: a NUL-terminated DT string.
        Ok(CString::try_from(unsafe { CStr::from_char_ptr(label) })?)
    } else {
        CString::try_from_fmt(fmt!("channel{index}"))
    }
}

/// Takes a reference to `node`.
///
/// # Safety
///
/// `node` must be a valid device-tree node.
pub(crate) unsafe fn get(node: *mut bindings::device_node) {
    // SAFETY: `node` is valid.
    unsafe { bindings::fwnode_handle_get(&raw mut (*node).fwnode) };
}

/// Drops a reference to `node`.
///
/// # Safety
///
/// `node` must be a device-tree node the caller holds a reference to,
/// which this call drops.
pub(crate) unsafe fn put(node: *mut bindings::device_node) {
    // SAFETY: the caller's reference keeps `node` valid until this put.
    unsafe { bindings::fwnode_handle_put(&raw mut (*node).fwnode) };
}
