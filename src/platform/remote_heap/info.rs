// SPDX-License-Identifier: GPL-2.0

//! Where the remote heap is, and whether a static-PD create has handed it
//! to the DSP yet: the first create on a channel claims it, a failed
//! create gives the claim back, a successful one keeps it.
//!
//! Pure code (no kernel API), also built and tested on the host.

use core::sync::atomic::{
    AtomicBool,
    Ordering, //
};

/// What the engine needs of the heap: where it is, and whether the DSP
/// has been given it yet.
pub(crate) struct HeapInfo {
    /// Physical address (the DSP's address of it in every access mode).
    pub(crate) base: u64,
    /// Size in bytes.
    pub(crate) size: u64,
    sent: AtomicBool,
}

/// The right to send the heap with one static-PD create; given back
/// (so the next create sends it) unless [`HeapClaim::keep`] is called.
pub(crate) struct HeapClaim<'a> {
    info: &'a HeapInfo,
}

impl HeapInfo {
    /// A heap of `size` bytes at physical address `base`, not sent yet.
    pub(crate) fn new(base: u64, size: u64) -> Self {
        Self {
            base,
            size,
            sent: AtomicBool::new(false),
        }
    }

    /// The heap to send with a create, if no create on this channel has
    /// sent it yet.
    pub(crate) fn claim(&self) -> Option<HeapClaim<'_>> {
        // Lazily: a claim made and dropped for a loser would reset the flag.
        (!self.sent.swap(true, Ordering::AcqRel)).then(|| HeapClaim { info: self })
    }

    /// Whether a create has handed the heap to the DSP.
    pub(crate) fn is_sent(&self) -> bool {
        self.sent.load(Ordering::Acquire)
    }
}

impl HeapClaim<'_> {
    /// The create succeeded: the DSP keeps the heap.
    pub(crate) fn keep(self) {
        core::mem::forget(self);
    }
}

impl Drop for HeapClaim<'_> {
    fn drop(&mut self) {
        self.info.sent.store(false, Ordering::Release);
    }
}
