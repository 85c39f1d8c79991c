// SPDX-License-Identifier: GPL-2.0

//! What a remote call's return value means to the caller.
//!
//! The DSP answers with a 32-bit value: 0, a negative errno, or one of its
//! own codes (AEE errors carry the offset `0x8000_0400`). Only real errnos
//! (-1..=-133) are passed on as errors. Values the kernel reserves for
//! itself (-512..-531: `ERESTARTSYS`, `EPROBE_DEFER`, ...) and the rest of
//! the error-pointer range would change what the syscall does (a restarted
//! ioctl would send a call that is not idempotent again), so they become
//! `EIO`. Anything else is the DSP's own code, returned as it is.
//!
//! Pure code (no kernel API), also built and tested on the host.

/// Largest errno userspace knows (`EHWPOISON`).
pub(crate) const MAX_USER_ERRNO: i32 = 133;
/// `EIO`.
pub(crate) const EIO: i32 = 5;

/// The outcome of a user call: `Ok(value)` for the ioctl's return value,
/// `Err(errno)` (positive) for an error.
pub(crate) fn user_result(r: i32) -> Result<u32, i32> {
    match r {
        r if (-MAX_USER_ERRNO..=-1).contains(&r) => Err(-r),
        -4095..=-1 => Err(EIO),
        r => Ok(r as u32),
    }
}
