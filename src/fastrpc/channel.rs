// SPDX-License-Identifier: GPL-2.0

//! One DSP channel: in-flight calls, replies, and what happens when a
//! caller or the DSP goes away.
//!
//! Each call takes a slot (index 1..=255) and a 48-bit sequence number;
//! both go into the request's `ctx` and come back in the reply. A reply for
//! a free slot, or with another sequence number (late or duplicate), is
//! dropped and counted. Replies arrive in the transport's receive path,
//! which may be an interrupt, so the slot table is under an IRQ-safe
//! spinlock (the 7.3 Rust XArray has no IRQ-safe locking) and the receive
//! path never frees anything: it only records the result and wakes the
//! caller.
//!
//! A caller interrupted by a signal (`-EINTR`, never restarted: a remote
//! call is not idempotent) or out of time (`-ETIMEDOUT`) leaves its slot
//! *orphaned*: the channel keeps the call's memory (the DSP may still write
//! into it) until the DSP is done with it. Nothing is leaked.
//!
//! Lifetime of an orphan's memory: the reply (receive path, possibly
//! atomic) only marks the slot *reapable*. The memory is freed in process
//! context by the first of these events: the next call on the channel
//! (before it takes a slot), the DSP going away ([`Channel::shutdown`],
//! from the rpmsg unbind), or the channel's drop. No work item is queued,
//! so no driver code runs on behalf of the channel once the last of its
//! callers has returned and the rpmsg driver data is gone, and module
//! exit (which unbinds every channel first) has nothing to wait for.
//!
//! A DSP that stops answering could fill every slot with orphans; once
//! [`ORPHAN_LIMIT`] slots are orphaned, new user calls are refused with
//! `-EAGAIN` (kernel calls, such as a process's release, still get a slot
//! while any is free) until the DSP answers or goes away.

use kernel::{
    device::Device,
    new_condvar, new_mutex, new_spinlock_irq,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
        CondVar,
        CondVarTimeoutResult,
        Mutex,
        SpinLockIrq,
        SpinLockIrqGuard, //
    },
    time::{
        msecs_to_jiffies,
        Jiffies, //
    },
};

use super::wire::{
    self,
    Msg,
    Rsp, //
};
use crate::transport::Transport;

/// What a call keeps alive until the DSP is done with it (its payload and
/// mappings). Dropped in process context only.
pub(crate) trait CallMemory: Send + Sync {}

/// State of a slot.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    /// Sent, caller waiting.
    Pending,
    /// Reply received: the remote return value.
    Done(i32),
    /// The DSP went away.
    Failed,
    /// Sent, caller gone.
    Orphan,
    /// Orphan whose reply arrived: to be reaped.
    Reapable,
}

struct Slot {
    seq: u64,
    state: State,
    memory: Option<Arc<dyn CallMemory>>,
}

struct Table {
    slots: KVec<Slot>,
    cursor: usize,
    /// Slots in state [`State::Orphan`].
    orphans: usize,
    /// Slots in state [`State::Reapable`].
    reapable: usize,
}

impl Table {
    /// Moves slot `i` to `state`, keeping the counts.
    fn set(&mut self, i: usize, state: State) {
        match self.slots[i].state {
            State::Orphan => self.orphans -= 1,
            State::Reapable => self.reapable -= 1,
            _ => {}
        }
        match state {
            State::Orphan => self.orphans += 1,
            State::Reapable => self.reapable += 1,
            _ => {}
        }
        self.slots[i].state = state;
    }
}

/// Orphaned slots beyond which new user calls are refused (`-EAGAIN`):
/// half the slots stay for calls that can still be answered.
pub(crate) const ORPHAN_LIMIT: usize = 128;

/// Objects kept for the DSP until it goes away.
struct Kept {
    gone: bool,
    items: KVec<KBox<dyn Send>>,
}

/// Counters for debugfs and the tests.
pub(crate) struct Stats {
    /// Replies dropped: unknown, stale or duplicate.
    pub(crate) dropped: Atomic<u64>,
    /// Calls orphaned by a signal or timeout.
    pub(crate) orphaned: Atomic<u64>,
    /// Orphans reaped.
    pub(crate) reaped: Atomic<u64>,
    /// Processes kept for the DSP after an unconfirmed release.
    pub(crate) kept: Atomic<u64>,
}

impl Stats {
    const fn new() -> Self {
        Self {
            dropped: Atomic::new(0),
            orphaned: Atomic::new(0),
            reaped: Atomic::new(0),
            kept: Atomic::new(0),
        }
    }
}

/// A DSP channel.
#[pin_data]
pub(crate) struct Channel {
    #[pin]
    table: SpinLockIrq<Table>,
    /// One wait queue per slot: a reply wakes only its caller.
    waiters: KVec<Pin<KBox<CondVar>>>,
    /// Where requests go; it refuses sends (`-ENODEV`) once the DSP is
    /// gone, before [`Channel::shutdown`] runs.
    transport: KBox<dyn Transport>,
    /// The channel's device, for log lines.
    dev: ARef<Device>,
    /// What the DSP may still use although its owner is gone (a process
    /// whose release the DSP did not confirm): freed at shutdown.
    #[pin]
    kept: Mutex<Kept>,
    seq: Atomic<u64>,
    /// Timeout of user calls in milliseconds; 0: wait for the reply or a
    /// signal (debugfs `invoke_timeout_ms`).
    pub(crate) user_timeout_ms: Atomic<u32>,
    /// Counters.
    pub(crate) stats: Stats,
}

/// Slots: index 0 is never used (a `ctx` of 0 is not a call).
const SLOTS: usize = wire::MAX_CTX_INDEX as usize + 1;

/// A request ready to send.
pub(crate) struct Request {
    /// Remote session id (0 for kernel calls).
    pub(crate) client_id: i32,
    /// PD type for the `ctx` low bits.
    pub(crate) pd: u32,
    /// Remote handle.
    pub(crate) handle: u32,
    /// Scalars.
    pub(crate) sc: u32,
    /// DSP address and size of the payload.
    pub(crate) payload: (u64, u64),
    /// Timeout; `None` waits until the reply or a signal.
    pub(crate) timeout_ms: Option<u32>,
    /// Wait for the reply (or the DSP's end) whatever the signals and
    /// the timeout: the release of a killed task, whose pending SIGKILL
    /// would otherwise end the wait at once.
    pub(crate) uninterruptible: bool,
    /// A user call: refused (`-EAGAIN`) while [`ORPHAN_LIMIT`] slots are
    /// orphaned.
    pub(crate) user: bool,
}

/// What may end a caller's wait besides the answer.
enum Wake {
    /// A signal, or the deadline if there is one.
    Deadline(Option<Jiffies>),
    /// Nothing but the answer or the channel's shutdown.
    OnlyByAnswer,
}

impl Channel {
    /// A channel sending through `transport`.
    pub(crate) fn new(transport: KBox<dyn Transport>, dev: ARef<Device>) -> Result<Arc<Self>> {
        let mut slots = KVec::with_capacity(SLOTS, GFP_KERNEL)?;
        for _ in 0..SLOTS {
            slots.push(
                Slot {
                    seq: 0,
                    state: State::Free,
                    memory: None,
                },
                GFP_KERNEL,
            )?;
        }
        let mut waiters = KVec::with_capacity(SLOTS, GFP_KERNEL)?;
        for _ in 0..SLOTS {
            waiters.push(KBox::pin_init(new_condvar!(), GFP_KERNEL)?, GFP_KERNEL)?;
        }
        Arc::pin_init(
            pin_init!(Self {
                table <- new_spinlock_irq!(Table {
                    slots,
                    cursor: 0,
                    orphans: 0,
                    reapable: 0,
                }),
                waiters,
                transport,
                dev,
                kept <- new_mutex!(Kept {
                    gone: false,
                    items: KVec::new(),
                }),
                seq: Atomic::new(0),
                user_timeout_ms: Atomic::new(0),
                stats: Stats::new(),
            }),
            GFP_KERNEL,
        )
    }

    /// Calls in flight (pending or orphaned), for debugfs and tests.
    pub(crate) fn in_flight(&self) -> usize {
        let t = self.table.lock();
        t.slots.iter().filter(|s| s.state != State::Free).count()
    }

    /// Slots orphaned and not yet answered, and answered ones not yet
    /// reaped (debugfs and tests).
    pub(crate) fn orphans(&self) -> (usize, usize) {
        let t = self.table.lock();
        (t.orphans, t.reapable)
    }

    /// Takes a slot for `memory`: `(index, seq)`; `-EBUSY` if all 255 are
    /// in use, `-EAGAIN` for a `user` call if [`ORPHAN_LIMIT`] are orphaned.
    fn reserve(&self, memory: Arc<dyn CallMemory>, user: bool) -> Result<(usize, u64)> {
        let seq = wire::seq_wrap(self.seq.fetch_add(1, Relaxed).wrapping_add(1));
        let mut t = self.table.lock();
        if user && t.orphans >= ORPHAN_LIMIT {
            return Err(EAGAIN);
        }
        for k in 0..SLOTS - 1 {
            let i = (t.cursor + k) % (SLOTS - 1) + 1;
            if t.slots[i].state == State::Free {
                t.cursor = i % (SLOTS - 1);
                t.slots[i] = Slot {
                    seq,
                    state: State::Pending,
                    memory: Some(memory),
                };
                return Ok((i, seq));
            }
        }
        Err(EBUSY)
    }

    /// Frees slot `i`, returning its memory to drop outside the lock.
    fn release(&self, i: usize) -> Option<Arc<dyn CallMemory>> {
        let mut t = self.table.lock();
        t.slots[i].state = State::Free;
        t.slots[i].memory.take()
    }

    /// Sends `req` and waits for the reply; `memory` stays alive until
    /// the DSP is done with it. Returns the remote return value.
    pub(crate) fn call(
        self: &Arc<Self>,
        req: &Request,
        memory: Arc<dyn CallMemory>,
    ) -> Result<i32> {
        // Answered orphans go first: their slots and memory come back.
        self.reap(|s| s == State::Reapable);
        let (i, seq) = self.reserve(memory, req.user)?;
        let msg = Msg {
            client_id: req.client_id,
            tid: kernel::current!().pid(),
            ctx: wire::ctx_encode(i as u32, seq, req.pd),
            handle: req.handle,
            sc: req.sc,
            addr: req.payload.0,
            size: req.payload.1,
        };
        if let Err(e) = self.send(&msg.encode()) {
            drop(self.release(i));
            return Err(e);
        }
        let deadline = match req.uninterruptible {
            true => Wake::OnlyByAnswer,
            false => Wake::Deadline(req.timeout_ms.map(msecs_to_jiffies)),
        };
        self.wait(i, deadline)
    }

    /// Waits for the answer in slot `i`, until `deadline` if given. A
    /// caller that gives up (signal, timeout) leaves the slot orphaned:
    /// the DSP may still write into the call's memory, which the channel
    /// keeps until the reply or the DSP's end.
    fn wait(&self, i: usize, deadline: Wake) -> Result<i32> {
        let mut t = self.table.lock();
        loop {
            let answer = match t.slots[i].state {
                State::Done(r) => Some(Ok(r)),
                State::Failed => Some(Err(EPIPE)),
                _ => None,
            };
            if let Some(answer) = answer {
                t.slots[i].state = State::Free;
                let mem = t.slots[i].memory.take();
                drop(t);
                drop(mem);
                return answer;
            }
            let Some(e) = self.sleep(&mut t, i, &deadline) else {
                continue;
            };
            if t.slots[i].state == State::Pending {
                t.set(i, State::Orphan);
                drop(t);
                self.stats.orphaned.fetch_add(1, Relaxed);
                return Err(e);
            }
            // The reply won the race: take it.
        }
    }

    /// Sleeps until slot `i` is woken; why the caller gives up, if it does.
    fn sleep(
        &self,
        t: &mut SpinLockIrqGuard<'_, Table>,
        i: usize,
        deadline: &Wake,
    ) -> Option<Error> {
        let deadline = match deadline {
            Wake::OnlyByAnswer => {
                // Woken by the answer or by the channel's shutdown.
                self.waiters[i].wait(t);
                return None;
            }
            Wake::Deadline(d) => *d,
        };
        match deadline {
            Some(j) => match self.waiters[i].wait_interruptible_timeout(t, j) {
                CondVarTimeoutResult::Timeout => Some(ETIMEDOUT),
                CondVarTimeoutResult::Signal { .. } => Some(EINTR),
                CondVarTimeoutResult::Woken { .. } => None,
            },
            None => self.waiters[i].wait_interruptible(t).then_some(EINTR),
        }
    }

    /// Sends `bytes` (`-ENODEV` once the DSP is gone).
    fn send(&self, bytes: &[u8]) -> Result {
        self.transport.send(bytes)
    }

    /// Handles a reply from the transport's receive path (may be atomic
    /// context: records and wakes, never frees).
    pub(crate) fn receive(self: &Arc<Self>, bytes: &[u8]) {
        let Some(rsp) = Rsp::decode(bytes) else {
            self.drop_reply("short", 0, bytes.len());
            return;
        };
        if rsp.ctx == wire::PD_NOTIFY_CTX {
            return;
        }
        let (index, seq) = wire::ctx_decode(rsp.ctx);
        let i = index as usize;
        let mut t = self.table.lock();
        if i == 0 || i >= SLOTS || t.slots[i].seq != seq {
            drop(t);
            self.drop_reply("unknown or stale", rsp.ctx, bytes.len());
            return;
        }
        match t.slots[i].state {
            State::Pending => {
                t.slots[i].state = State::Done(rsp.retval);
                drop(t);
                self.waiters[i].notify_all();
            }
            State::Orphan => {
                // Freeing DMA memory needs process context: the next call
                // or the shutdown reaps it.
                t.set(i, State::Reapable);
            }
            _ => {
                drop(t);
                self.drop_reply("duplicate", rsp.ctx, bytes.len());
            }
        }
    }

    fn drop_reply(&self, why: &str, ctx: u64, len: usize) {
        let n = self.stats.dropped.fetch_add(1, Relaxed) + 1;
        crate::ratelimit::dev_ratelimited!(
            warn,
            &self.dev,
            "dropped {why} reply (ctx {ctx:#x}, {len} bytes; {n} so far)\n"
        );
    }

    /// The channel's device (log lines about the DSP and its callers).
    pub(crate) fn device(&self) -> &Device {
        &self.dev
    }

    /// Frees every slot whose state matches `which` (process context).
    fn reap(&self, which: impl Fn(State) -> bool) {
        loop {
            let mem = {
                let mut t = self.table.lock();
                if t.orphans + t.reapable == 0 {
                    return;
                }
                let Some(i) = (1..SLOTS).find(|&i| which(t.slots[i].state)) else {
                    return;
                };
                t.set(i, State::Free);
                t.slots[i].memory.take()
            };
            self.stats.reaped.fetch_add(1, Relaxed);
            drop(mem);
        }
    }

    /// Keeps `item` until the DSP goes away (freed now if it is gone).
    pub(crate) fn keep_until_gone(&self, item: KBox<dyn Send>) {
        let mut k = self.kept.lock();
        if !k.gone && k.items.push(item, GFP_KERNEL).is_ok() {
            self.stats.kept.fetch_add(1, Relaxed);
        }
    }

    /// The DSP went away (the transport already refuses sends): every
    /// waiting call fails with `-EPIPE`, every orphan is reaped, what was
    /// kept for it is freed.
    pub(crate) fn shutdown(&self) {
        let kept = {
            let mut k = self.kept.lock();
            k.gone = true;
            core::mem::take(&mut k.items)
        };
        self.stats.kept.store(0, Relaxed);
        drop(kept);
        {
            let mut t = self.table.lock();
            for s in t.slots.iter_mut() {
                if s.state == State::Pending {
                    s.state = State::Failed;
                }
            }
        }
        for w in self.waiters.iter() {
            w.notify_all();
        }
        self.reap(|s| matches!(s, State::Orphan | State::Reapable));
    }
}
