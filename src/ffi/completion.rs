// SPDX-License-Identifier: GPL-2.0

//! A completion with the waits the 7.3 `kernel` crate does not offer:
//! killable with a timeout, uninterruptible with a timeout, and
//! interruptible; and its reuse (`reinit_completion`).
//!
//! C header: [`include/linux/completion.h`](srctree/include/linux/completion.h)

use kernel::{
    bindings,
    prelude::*,
    time::Jiffies,
    types::Opaque, //
};

/// How a wait on a [`Done`] ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Waited {
    /// Completed; the jiffies left of the timeout (0 without one).
    Completed(Jiffies),
    /// The timeout passed first.
    TimedOut,
    /// A signal (any for interruptible waits, a fatal one for killable
    /// waits) came first.
    Signalled,
}

/// A `struct completion`.
#[pin_data]
pub(crate) struct Done {
    #[pin]
    inner: Opaque<bindings::completion>,
}

// SAFETY: a completion may be signalled and waited on from any task.
unsafe impl Send for Done {}
// SAFETY: every operation on a completion takes its own lock.
unsafe impl Sync for Done {}

impl Done {
    /// A new, not yet completed completion.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            inner <- Opaque::ffi_init(|slot: *mut bindings::completion| {
                // SAFETY: `slot` points to an uninitialised completion that
                // stays pinned for its life.
                unsafe { bindings::init_completion(slot) };
            }),
        })
    }

    fn raw(&self) -> *mut bindings::completion {
        self.inner.get()
    }

    /// Makes it not completed again, for its next user. The caller orders
    /// this after the last [`Done::complete_all`] meant for the previous
    /// user (the channel does both under its table lock).
    pub(crate) fn reinit(&self) {
        // SAFETY: `raw` is an initialised completion.
        unsafe { crate::ffi::sys::qda_reinit_completion(self.raw()) };
    }

    /// Wakes every waiter, now and later, until [`Done::reinit`].
    /// Callable in atomic context.
    pub(crate) fn complete_all(&self) {
        // SAFETY: `raw` is an initialised completion.
        unsafe { bindings::complete_all(self.raw()) };
    }

    /// Waits until completed, a fatal signal, or `timeout`.
    pub(crate) fn wait_killable_timeout(&self, timeout: Jiffies) -> Waited {
        // SAFETY: `raw` is an initialised completion; process context (the
        // callers are syscalls).
        let r = unsafe { bindings::wait_for_completion_killable_timeout(self.raw(), timeout) };
        Self::timed(r)
    }

    /// Waits until completed, a signal, or `timeout`.
    pub(crate) fn wait_interruptible_timeout(&self, timeout: Jiffies) -> Waited {
        // SAFETY: as for `wait_killable_timeout`.
        let r = unsafe { bindings::wait_for_completion_interruptible_timeout(self.raw(), timeout) };
        Self::timed(r)
    }

    /// Waits until completed or a signal.
    pub(crate) fn wait_interruptible(&self) -> Waited {
        // SAFETY: as for `wait_killable_timeout`.
        match unsafe { bindings::wait_for_completion_interruptible(self.raw()) } {
            0 => Waited::Completed(0),
            _ => Waited::Signalled,
        }
    }

    /// Waits until completed or `timeout`, whatever the signals: the task
    /// sleeps uninterruptibly, for at most `timeout`.
    pub(crate) fn wait_timeout(&self, timeout: Jiffies) -> Waited {
        // SAFETY: as for `wait_killable_timeout`.
        match unsafe { bindings::wait_for_completion_timeout(self.raw(), timeout) } {
            0 => Waited::TimedOut,
            left => Waited::Completed(left),
        }
    }

    /// Decodes the `long` of the timed waits: negative a signal, 0 the
    /// timeout, else the jiffies left.
    fn timed(r: kernel::ffi::c_long) -> Waited {
        match r {
            ..0 => Waited::Signalled,
            0 => Waited::TimedOut,
            left => Waited::Completed(left as Jiffies),
        }
    }
}
