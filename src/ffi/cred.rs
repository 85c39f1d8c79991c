// SPDX-License-Identifier: GPL-2.0

//! The calling task's credentials, as the access model reads them.

use kernel::bindings;

/// Whether the calling task has `CAP_SYS_ADMIN` in the initial user
/// namespace (not audited: asking is not using it).
pub(crate) fn current_has_sys_admin() -> bool {
    // SAFETY: `init_user_ns` is a static of the kernel; the call only
    // reads the current task's credentials.
    unsafe {
        bindings::ns_capable_noaudit(
            &raw mut bindings::init_user_ns,
            bindings::CAP_SYS_ADMIN as i32,
        )
    }
}

/// Whether the calling task's fsgid or a supplementary group is `gid` of
/// the initial user namespace.
pub(crate) fn current_in_group(gid: u32) -> bool {
    // SAFETY: a `kgid_t` of the initial namespace is the plain id; the call
    // only reads the current task's credentials.
    unsafe { bindings::in_group_p(bindings::kgid_t { val: gid }) != 0 }
}
