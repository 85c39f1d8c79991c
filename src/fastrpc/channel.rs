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
//! How a caller waits ([`Wait`]): a user call until the answer or any
//! signal (or the debugfs timeout); a kernel call (attach, create, map,
//! unmap) until the answer, a fatal signal or 10 s; a process's release
//! until the answer or 10 s, whatever the signals (a killed task's last
//! close), so no task sits in D state longer than that.
//!
//! A caller that gives up after the request was sent (`-EINTR`, never
//! restarted: a remote call is not idempotent; `-ETIMEDOUT`) leaves its
//! slot *orphaned*: the channel keeps the call's memory, and whatever the
//! caller put in it (init memory of a create, the pages of a map, a
//! released process with its session and client id), until the DSP
//! answers or goes away. [`CallError`] tells the caller whether the
//! request was sent. Nothing is leaked.
//!
//! Slots `1..=RELEASE_SLOTS` are the releases' own, one per client id: a
//! process's release always finds its slot (the id is not reused while
//! its release is unanswered), whatever other calls hold.
//!
//! Lifetime of an orphan's memory: the reply (receive path, possibly
//! atomic) only marks the slot *reapable*. The memory is freed in process
//! context by the first of these events: the next call on the channel
//! (before it takes a slot) or the next client's open
//! ([`Channel::reap_answered`]), the DSP going away ([`Channel::shutdown`],
//! from the rpmsg unbind), or the channel's drop. No work item is queued,
//! so no driver code runs on behalf of the channel once the last of its
//! callers has returned and the rpmsg driver data is gone, and module
//! exit (which unbinds every channel first) has nothing to wait for.
//!
//! An unprivileged user's calls may hold at most half of the call slots
//! and half of [`ORPHAN_LIMIT`] orphans (see [`Request::owner`]): a user
//! whose calls the DSP never answers cannot deny other users theirs.
//!
//! A DSP that stops answering could fill every slot with orphans; once
//! [`ORPHAN_LIMIT`] slots are orphaned, new user calls are refused with
//! `-EAGAIN` (kernel calls still get a slot while any is free) until the
//! DSP answers or goes away.
//!
//! A reply wakes its caller through the slot's completion, completed and
//! re-armed under the table lock only: a wake meant for a slot's previous
//! user never reaches its next one.

use kernel::{
    device::Device,
    new_mutex, new_spinlock_irq,
    prelude::*,
    sync::{
        aref::ARef,
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
        Mutex,
        SpinLockIrq, //
    },
    task::Kuid,
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
use crate::{
    fastrpc::transport::Transport,
    ffi::completion::{
        Done,
        Waited, //
    },
    platform::fair_share::may_take, //
};

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

struct CallSlot {
    seq: u64,
    state: State,
    memory: Option<Arc<dyn CallMemory>>,
    /// A process's release: its memory holds the process.
    release: bool,
    /// The unprivileged user whose call holds the slot (see
    /// [`Request::owner`]).
    owner: Option<Kuid>,
}

struct CallTable {
    slots: KVec<CallSlot>,
    cursor: usize,
    /// Slots in state [`State::Orphan`].
    orphans: usize,
    /// Slots in state [`State::Reapable`].
    reapable: usize,
    /// Orphaned releases (unanswered or not yet reaped): processes the
    /// DSP may still hold.
    kept: usize,
}

impl CallTable {
    /// Whether `owner` (if any) may take one more call slot: fewer than
    /// its share of the call slots in use, and of [`ORPHAN_LIMIT`]
    /// orphaned.
    fn within_share(&self, owner: Option<Kuid>) -> bool {
        let Some(u) = owner else {
            return true;
        };
        let mine = self.slots.iter().filter(|s| s.owner == Some(u));
        let (busy, orphans) = mine.fold((0, 0), |(b, o), s| match s.state {
            State::Free => (b, o),
            State::Orphan => (b + 1, o + 1),
            _ => (b + 1, o),
        });
        may_take(false, busy, SLOTS - FIRST_CALL_SLOT) && may_take(false, orphans, ORPHAN_LIMIT)
    }

    /// Moves slot `i` to `state`, keeping the counts.
    fn set(&mut self, i: usize, state: State) {
        let orphaned = |s| matches!(s, State::Orphan | State::Reapable);
        let kept = self.slots[i].release;
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
        match (orphaned(self.slots[i].state), orphaned(state)) {
            (false, true) if kept => self.kept += 1,
            (true, false) if kept => self.kept -= 1,
            _ => {}
        }
        self.slots[i].state = state;
    }
}

/// Orphaned slots beyond which new user calls are refused (`-EAGAIN`):
/// the other slots stay for calls that can still be answered.
pub(crate) const ORPHAN_LIMIT: usize = 128;

/// Slots of releases: slot `n` is the release of client id `n`.
pub(crate) const RELEASE_SLOTS: usize = crate::platform::session::MAX_CLIENTS;

/// The first slot of the other calls.
const FIRST_CALL_SLOT: usize = RELEASE_SLOTS + 1;

/// Objects kept for the DSP until it goes away.
struct KeptForDsp {
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
    /// Processes kept for the DSP after a release that was not sent (no
    /// memory for it): freed at shutdown.
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
    table: SpinLockIrq<CallTable>,
    /// One completion per slot: a reply wakes only its caller.
    waiters: KVec<Pin<KBox<Done>>>,
    /// Where requests go; it refuses sends (`-ENODEV`) once the DSP is
    /// gone, before [`Channel::shutdown`] runs.
    transport: KBox<dyn Transport>,
    /// The channel's device, for log lines.
    dev: ARef<Device>,
    /// What the DSP may still use although its owner is gone (a process
    /// whose release the DSP did not confirm): freed at shutdown.
    #[pin]
    kept: Mutex<KeptForDsp>,
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
    /// What may end the wait besides the answer.
    pub(crate) wait: Wait,
    /// A user call: refused (`-EAGAIN`) while [`ORPHAN_LIMIT`] slots are
    /// orphaned.
    pub(crate) user: bool,
    /// The release of this client id's process: sent in the id's own slot.
    pub(crate) release_of: Option<i32>,
    /// The unprivileged user making a user call: it may hold at most half
    /// of the call slots and of [`ORPHAN_LIMIT`] (`-EAGAIN` past that), so
    /// that its calls cannot deny other users theirs. `None`: no share
    /// (kernel calls, privileged files).
    pub(crate) owner: Option<Kuid>,
}

/// What may end a caller's wait besides the answer (or the DSP's end).
#[derive(Clone, Copy)]
pub(crate) enum Wait {
    /// Any signal, or the timeout in ms if there is one (user calls).
    Interruptible(Option<u32>),
    /// A fatal signal or the timeout in ms (kernel calls).
    Killable(u32),
    /// Only the timeout in ms: the task sleeps uninterruptibly for at
    /// most that long (a release, often from a killed task's last close,
    /// whose pending SIGKILL would end a killable wait at once).
    Uninterruptible(u32),
}

/// Why a call has no answer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CallError {
    /// The DSP does not have the request (never sent), or is gone
    /// (`-EPIPE`): nothing the call gave it is in use.
    Failed(Error),
    /// Sent, and the caller gave up (`-EINTR`, `-ETIMEDOUT`): the DSP may
    /// still use what the request named. The call's memory stays with the
    /// orphaned slot until the answer.
    Unanswered(Error),
    /// Answered with an error (kernel calls decode the DSP's return value
    /// into this): the DSP has let go of what the request named.
    Refused(Error),
}

impl CallError {
    /// The errno for the caller.
    pub(crate) fn errno(self) -> Error {
        match self {
            Self::Failed(e) | Self::Unanswered(e) | Self::Refused(e) => e,
        }
    }
}

impl From<CallError> for Error {
    fn from(e: CallError) -> Error {
        e.errno()
    }
}

impl Channel {
    /// A channel sending through `transport`.
    pub(crate) fn new(transport: KBox<dyn Transport>, dev: ARef<Device>) -> Result<Arc<Self>> {
        let mut slots = KVec::with_capacity(SLOTS, GFP_KERNEL)?;
        for _ in 0..SLOTS {
            slots.push(
                CallSlot {
                    seq: 0,
                    state: State::Free,
                    memory: None,
                    release: false,
                    owner: None,
                },
                GFP_KERNEL,
            )?;
        }
        let mut waiters = KVec::with_capacity(SLOTS, GFP_KERNEL)?;
        for _ in 0..SLOTS {
            waiters.push(KBox::pin_init(Done::new(), GFP_KERNEL)?, GFP_KERNEL)?;
        }
        Arc::pin_init(
            pin_init!(Self {
                table <- new_spinlock_irq!(CallTable {
                    slots,
                    cursor: 0,
                    orphans: 0,
                    reapable: 0,
                    kept: 0,
                }),
                waiters,
                transport,
                dev,
                kept <- new_mutex!(KeptForDsp {
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

    /// Processes the DSP may still hold: orphaned releases, and releases
    /// that could not be sent (debugfs and tests).
    pub(crate) fn kept(&self) -> u64 {
        let orphaned = self.table.lock().kept as u64;
        orphaned + self.stats.kept.load(Relaxed)
    }

    /// Takes a slot for `memory`: `(index, seq)`; `-EBUSY` if all are in
    /// use, `-EAGAIN` for a user call if [`ORPHAN_LIMIT`] are orphaned. A
    /// release takes its client id's slot.
    fn reserve(&self, memory: Arc<dyn CallMemory>, req: &Request) -> Result<(usize, u64)> {
        let seq = wire::seq_wrap(self.seq.fetch_add(1, Relaxed).wrapping_add(1));
        let mut t = self.table.lock();
        if req.user && (t.orphans >= ORPHAN_LIMIT || !t.within_share(req.owner)) {
            return Err(EAGAIN);
        }
        let i = match req.release_of {
            Some(id) => usize::try_from(id)
                .ok()
                .filter(|i| (1..=RELEASE_SLOTS).contains(i) && t.slots[*i].state == State::Free)
                .ok_or(EBUSY)?,
            None => Self::free_call_slot(&mut t).ok_or(EBUSY)?,
        };
        t.slots[i] = CallSlot {
            seq,
            state: State::Pending,
            memory: Some(memory),
            release: req.release_of.is_some(),
            owner: req.owner,
        };
        // Under the lock, after the last wake of the slot's previous use.
        self.waiters[i].reinit();
        Ok((i, seq))
    }

    /// A free slot for a call other than a release, moving the cursor.
    fn free_call_slot(t: &mut CallTable) -> Option<usize> {
        let n = SLOTS - FIRST_CALL_SLOT;
        let i = (0..n)
            .map(|k| FIRST_CALL_SLOT + (t.cursor + k) % n)
            .find(|&i| t.slots[i].state == State::Free)?;
        t.cursor = (i - FIRST_CALL_SLOT + 1) % n;
        Some(i)
    }

    /// Frees slot `i`, returning its memory to drop outside the lock.
    fn release(&self, i: usize) -> Option<Arc<dyn CallMemory>> {
        let mut t = self.table.lock();
        t.slots[i].state = State::Free;
        t.slots[i].release = false;
        t.slots[i].owner = None;
        t.slots[i].memory.take()
    }

    /// Sends `req` and waits for the reply; `memory` stays alive until
    /// the DSP is done with it (with an orphaned slot if the caller gives
    /// up). Returns the remote return value.
    pub(crate) fn call(
        self: &Arc<Self>,
        req: &Request,
        memory: Arc<dyn CallMemory>,
    ) -> Result<i32, CallError> {
        // Answered orphans go first: their slots and memory come back.
        self.reap_answered();
        let (i, seq) = self.reserve(memory, req).map_err(CallError::Failed)?;
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
            return Err(CallError::Failed(e));
        }
        self.wait(i, req.wait)
    }

    /// Waits for the answer in slot `i` as `how` allows. A caller that
    /// gives up (signal, timeout) leaves the slot orphaned: the DSP may
    /// still write into the call's memory, which the channel keeps until
    /// the reply or the DSP's end.
    fn wait(&self, i: usize, how: Wait) -> Result<i32, CallError> {
        let mut left = match how {
            Wait::Interruptible(ms) => ms.map(msecs_to_jiffies),
            Wait::Killable(ms) | Wait::Uninterruptible(ms) => Some(msecs_to_jiffies(ms)),
        };
        loop {
            let gave_up = match self.sleep(i, how, left) {
                Waited::Completed(j) => {
                    left = left.map(|_| j);
                    None
                }
                Waited::TimedOut => Some(ETIMEDOUT),
                Waited::Signalled => Some(EINTR),
            };
            let mut t = self.table.lock();
            let answer = match t.slots[i].state {
                State::Done(r) => Ok(r),
                State::Failed => Err(CallError::Failed(EPIPE)),
                State::Pending => match gave_up {
                    Some(e) => {
                        t.set(i, State::Orphan);
                        drop(t);
                        self.stats.orphaned.fetch_add(1, Relaxed);
                        return Err(CallError::Unanswered(e));
                    }
                    // Not completed yet (cannot happen: completions are
                    // only completed with an answer): wait again.
                    None => continue,
                },
                _ => continue,
            };
            // The answer (possibly winning the race with a give-up).
            t.slots[i].state = State::Free;
            t.slots[i].release = false;
            let mem = t.slots[i].memory.take();
            drop(t);
            drop(mem);
            return answer;
        }
    }

    /// Sleeps on slot `i`'s completion as `how` allows, for at most `left`
    /// jiffies if given.
    fn sleep(&self, i: usize, how: Wait, left: Option<Jiffies>) -> Waited {
        let w = &self.waiters[i];
        match (how, left) {
            (Wait::Interruptible(_), None) => w.wait_interruptible(),
            (Wait::Interruptible(_), Some(j)) => w.wait_interruptible_timeout(j),
            (Wait::Killable(_), Some(j)) => w.wait_killable_timeout(j),
            (Wait::Uninterruptible(_), Some(j)) => w.wait_timeout(j),
            (_, None) => Waited::TimedOut,
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
                // Under the lock: the slot cannot be reused before.
                self.waiters[i].complete_all();
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

    /// Frees the slots of answered orphans and what they kept (process
    /// context): the next call does it, and a new client before it looks
    /// for a session (an answered release gives its slot and id back).
    pub(crate) fn reap_answered(&self) {
        self.reap(|s| s == State::Reapable);
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
                t.slots[i].release = false;
                t.slots[i].memory.take()
            };
            self.stats.reaped.fetch_add(1, Relaxed);
            drop(mem);
        }
    }

    /// Keeps `item` until the DSP goes away (freed now if it is gone): a
    /// process whose release could not be sent.
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
            for (s, w) in t.slots.iter_mut().zip(self.waiters.iter()) {
                if s.state == State::Pending {
                    s.state = State::Failed;
                    w.complete_all();
                }
            }
        }
        self.reap(|s| matches!(s, State::Orphan | State::Reapable));
    }
}
