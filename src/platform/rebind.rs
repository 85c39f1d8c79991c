// SPDX-License-Identifier: GPL-2.0

//! Binding a channel again after a subsystem restart.
//!
//! When the DSP restarts, its rpmsg device goes and a new one comes, but
//! files of the old instance may still be open: their context banks hold
//! the same SMMU streams and device names. The new probe then defers and
//! registers here. The deletion of any context-bank device (the last user
//! of an old instance closing) queues [`Rebinder`]'s work, which binds
//! every waiting channel whose context-bank names are all free again.
//! Nothing polls and nothing gives up: a channel waits as long as the old
//! files stay open, or until its device is unregistered.
//!
//! The work runs on the driver's own queue, drained before the driver
//! goes (module exit cannot start while files are open), so no driver code
//! runs after it.

use kernel::{
    device::Device,
    new_mutex, new_work,
    prelude::*,
    str::CString,
    sync::{
        aref::ARef,
        Arc,
        Mutex, //
    },
    workqueue::{
        self,
        Work, //
    },
};

use crate::ffi::{
    bus,
    workqueue::OwnedQueue, //
};

/// A channel waiting for its context-bank names.
struct Waiting {
    dev: ARef<Device>,
    names: KVec<CString>,
}

/// The channels waiting to be bound again, and the work that binds them.
#[pin_data]
pub(crate) struct Rebinder {
    #[pin]
    waiting: Mutex<KVec<Waiting>>,
    #[pin]
    work: Work<Rebinder>,
    queue: OwnedQueue,
}

kernel::impl_has_work! {
    impl HasWork<Self> for Rebinder { self.work }
}

impl Rebinder {
    /// An empty rebinder with its own workqueue.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            try_pin_init!(Self {
                waiting <- new_mutex!(KVec::new()),
                work <- new_work!("qda::Rebinder::work"),
                queue: OwnedQueue::new(c"qda_rebind")?,
            }),
            GFP_KERNEL,
        )
    }

    /// Binds `dev` once none of `names` is in use any more.
    pub(crate) fn wait_for(self: &Arc<Self>, dev: &Device, names: KVec<CString>) -> Result {
        self.waiting.lock().push(
            Waiting {
                dev: dev.into(),
                names,
            },
            GFP_KERNEL,
        )?;
        // The names may have become free since the caller looked.
        self.kick();
        Ok(())
    }

    /// Something changed (a context bank was deleted): look again.
    pub(crate) fn kick(self: &Arc<Self>) {
        // Already queued is fine: the queued run looks at everything.
        let _ = self.queue.enqueue(self.clone());
    }

    /// Waits for a queued look to finish (before the driver goes).
    pub(crate) fn drain(&self) {
        self.queue.drain();
    }

    /// Takes the waiting channels that can be bound now, and forgets the
    /// ones whose device is gone.
    fn take_ready(&self) -> Result<KVec<Waiting>> {
        let mut waiting = self.waiting.lock();
        // Room for all first: a channel is never taken and then lost.
        let mut ready = KVec::with_capacity(waiting.len(), GFP_KERNEL)?;
        let mut i = 0;
        while i < waiting.len() {
            let w = &waiting[i];
            if !bus::is_registered(&w.dev) {
                waiting.remove(i)?;
            } else if !w.names.iter().any(|n| bus::name_in_use(n)) {
                ready.push(waiting.remove(i)?, GFP_KERNEL)?;
            } else {
                i += 1;
            }
        }
        Ok(ready)
    }
}

impl workqueue::WorkItem for Rebinder {
    type Pointer = Arc<Rebinder>;

    fn run(this: Arc<Rebinder>) {
        match this.take_ready() {
            Ok(ready) => {
                for w in ready.iter() {
                    bus::attach_again(&w.dev);
                }
            }
            Err(e) => pr_err!("rebinding after a DSP restart: {:?}\n", e),
        }
    }
}
