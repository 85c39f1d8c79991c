// SPDX-License-Identifier: GPL-2.0

//! Zeroing physical memory that qda owns but the kernel does not map for
//! it (reserved regions), through a temporary kernel mapping.
//!
//! C header: [`include/linux/io.h`](srctree/include/linux/io.h)

use kernel::{
    bindings,
    prelude::*, //
};

/// How the temporary mapping caches the writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caching {
    /// Write-back: the direct map for RAM, a cacheable mapping otherwise.
    WriteBack,
    /// Write-combined: no cache line is left behind (not for RAM, which
    /// `memremap` refuses to alias).
    WriteCombined,
}

/// Zeroes `size` bytes at physical address `phys`.
///
/// # Safety
///
/// The caller owns `[phys, phys + size)`: no Rust or kernel object lives
/// there, and nothing else writes it meanwhile.
pub(crate) unsafe fn zero(phys: u64, size: usize, caching: Caching) -> Result {
    let flags = match caching {
        Caching::WriteBack => bindings::MEMREMAP_WB,
        Caching::WriteCombined => bindings::MEMREMAP_WC,
    };
    // SAFETY: memremap creates (or finds, in the direct map) a kernel
    // mapping of the range, or fails; the caller owns the range.
    let va = unsafe { bindings::memremap(phys, size, flags as usize) };
    if va.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: `va` maps `size` writable bytes until the memunmap; the
    // caller owns them.
    unsafe {
        core::ptr::write_bytes(va.cast::<u8>(), 0, size);
        bindings::memunmap(va);
    }
    Ok(())
}
