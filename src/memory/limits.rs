// SPDX-License-Identifier: GPL-2.0

//! Per-file limits on what a client may make the kernel hold for it.
//!
//! Every open file (accel or legacy) has a [`Quota`]: at most
//! [`Limits::buffers`] buffer objects allocated through it and
//! [`Limits::bytes`] bytes of their memory (module parameters
//! `file_buffers`, default 4096, and `file_mem_mib`, default 2048). A buffer holds a [`Charge`]
//! until it is freed (which may be after the file is closed, while a
//! dma-buf of it lives; see `crate::memory::charge`). Past a limit the allocation fails: `-ENOSPC` for
//! the count, `-ENOMEM` for the bytes. The pages themselves are also
//! charged to the caller's memory cgroup where the allocator allows it,
//! which limits a user across all of its files.
//!
//! Pure code (atomics only), also built and tested on the host.

use core::sync::atomic::{
    AtomicU64,
    Ordering, //
};

/// What one file may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Buffer objects allocated through the file and not yet freed.
    pub(crate) buffers: u64,
    /// Bytes of their memory.
    pub(crate) bytes: u64,
}

/// Which limit an allocation would pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// [`Limits::buffers`] (`-ENOSPC`).
    Count,
    /// [`Limits::bytes`] (`-ENOMEM`).
    Bytes,
}

/// The buffers and bytes a file holds, against its limits.
pub(crate) struct Quota {
    limits: Limits,
    buffers: AtomicU64,
    bytes: AtomicU64,
}

/// Adds `add` to `counter` if the sum stays within `max`.
fn take(counter: &AtomicU64, add: u64, max: u64) -> bool {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
            held.checked_add(add).filter(|&n| n <= max)
        })
        .is_ok()
}

impl Quota {
    /// An empty quota with `limits`.
    pub(crate) const fn new(limits: Limits) -> Self {
        Self {
            limits,
            buffers: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Takes one buffer of `bytes`; nothing is taken if a limit would be
    /// passed.
    pub(crate) fn take(&self, bytes: u64) -> Result<(), Refusal> {
        if !take(&self.buffers, 1, self.limits.buffers) {
            return Err(Refusal::Count);
        }
        if !take(&self.bytes, bytes, self.limits.bytes) {
            self.buffers.fetch_sub(1, Ordering::Relaxed);
            return Err(Refusal::Bytes);
        }
        Ok(())
    }

    /// Gives back what a successful `take(bytes)` took.
    pub(crate) fn give(&self, bytes: u64) {
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
        self.buffers.fetch_sub(1, Ordering::Relaxed);
    }

    /// `(buffers, bytes)` held now.
    pub(crate) fn held(&self) -> (u64, u64) {
        (
            self.buffers.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }

    /// The limits.
    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }
}
