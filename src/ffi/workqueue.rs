// SPDX-License-Identifier: GPL-2.0

//! A workqueue the driver owns (7.3's kernel crate offers only the system
//! queues): every work item queued on it has finished running when it is
//! drained or dropped, so no driver code runs after the owner is gone.
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h)

use core::{
    ops::Deref,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    prelude::*,
    workqueue::Queue, //
};

/// An allocated `struct workqueue_struct`, destroyed (after draining) on
/// drop.
///
/// # Invariants
///
/// `0` is a live workqueue allocated by `alloc_workqueue`, owned by `self`.
pub(crate) struct OwnedQueue(NonNull<bindings::workqueue_struct>);

// SAFETY: workqueues may be used and destroyed from any thread.
unsafe impl Send for OwnedQueue {}
// SAFETY: queueing and draining are thread safe.
unsafe impl Sync for OwnedQueue {}

impl OwnedQueue {
    /// An unbound workqueue named `name`.
    pub(crate) fn new(name: &'static CStr) -> Result<Self> {
        // SAFETY: "%s" with one NUL-terminated string argument.
        let wq = unsafe {
            bindings::alloc_workqueue_noprof(
                c"%s".as_char_ptr(),
                bindings::wq_flags_WQ_UNBOUND,
                0,
                name.as_char_ptr(),
            )
        };
        // INVARIANT: allocated above, or `ENOMEM`.
        NonNull::new(wq).map(Self).ok_or(ENOMEM)
    }

    /// Waits until the queue is empty: every item queued so far, and every
    /// item those queue on it again, has run to completion.
    pub(crate) fn drain(&self) {
        // SAFETY: by the invariant the queue is live.
        unsafe { bindings::drain_workqueue(self.0.as_ptr()) };
    }
}

impl Deref for OwnedQueue {
    type Target = Queue;

    fn deref(&self) -> &Queue {
        // SAFETY: by the invariant the queue lives as long as `self`.
        unsafe { Queue::from_raw(self.0.as_ptr()) }
    }
}

impl Drop for OwnedQueue {
    fn drop(&mut self) {
        // SAFETY: by the invariant we own the live queue; destroying it
        // drains it first.
        unsafe { bindings::destroy_workqueue(self.0.as_ptr()) };
    }
}
