// SPDX-License-Identifier: GPL-2.0

//! Per-process sessions on a DSP's context banks.
//!
//! Each CB offers `qcom,nsessions` sessions. The first open of an accel
//! node by a process (thread group) takes a free session; later opens by
//! the same process share it; the session is free again when the last file
//! of the process is closed. With no free session, open fails with
//! `-EBUSY`. Everything a process maps for the DSP lives in its session's
//! CB IOMMU domain, which isolates processes from each other.
//!
//! A process is identified by its thread-group leader's `task_struct`, of
//! which a session holds a reference: unlike a tgid number, it cannot be
//! reused by a new process while an old file (e.g. one passed over a
//! socket) keeps the session alive.

use kernel::{
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        Mutex, //
    },
    task::{
        Pid,
        Task, //
    },
};

use crate::{
    fastrpc::process::Process,
    ffi::{
        bus::CbDevice,
        dma::CoherentBuf, //
    },
};

/// A context bank and its device.
#[pin_data]
pub(crate) struct ContextBank {
    /// Payload buffers of finished calls, reused by later ones (declared
    /// first: they are freed before the device goes).
    #[pin]
    payloads: Mutex<KVec<CoherentBuf>>,
    /// The bus device with the CB's IOMMU domain.
    pub(crate) dev: CbDevice,
    /// Stream id, the DSP address prefix.
    pub(crate) sid: u32,
}

/// Payload buffers kept per context bank.
const PAYLOAD_CACHE: usize = 4;
/// Largest payload buffer kept: small calls gain most from reuse, and a
/// CB never holds more than `PAYLOAD_CACHE` times this much idle memory.
const PAYLOAD_CACHE_MAX_SIZE: usize = 1 << 20;

impl ContextBank {
    /// A context bank over `dev` with stream id `sid`.
    pub(crate) fn new(dev: CbDevice, sid: u32) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                payloads <- kernel::new_mutex!(KVec::new()),
                dev,
                sid,
            }),
            GFP_KERNEL,
        )
    }

    /// A zeroed payload buffer of `size` bytes (a page multiple): a cached
    /// one if one fits (at most four times larger), else a new one.
    pub(crate) fn take_payload(&self, size: usize) -> Result<CoherentBuf> {
        let cached = {
            let mut c = self.payloads.lock();
            c.iter()
                .position(|b| b.size() >= size && b.size() <= size.saturating_mul(4))
                .map(|i| c.remove(i))
        };
        match cached {
            Some(Ok(mut b)) => {
                // All of it: the tail may hold an earlier process's data.
                b.as_mut_slice().fill(0);
                Ok(b)
            }
            _ => CoherentBuf::new(self.dev.as_ref(), size),
        }
    }

    /// Returns a payload buffer for reuse (or frees it if it is large or
    /// enough are kept).
    pub(crate) fn give_back(&self, buf: CoherentBuf) {
        if buf.size() > PAYLOAD_CACHE_MAX_SIZE {
            return;
        }
        let mut c = self.payloads.lock();
        if c.len() < PAYLOAD_CACHE {
            // On allocation failure the buffer is simply freed.
            let _ = c.push(buf, GFP_KERNEL);
        }
    }
}

/// The process using a session slot.
struct Owner {
    /// Its thread-group leader (held, so the pointer stays unique).
    leader: ARef<Task>,
    /// How many of its files are open.
    files: usize,
}

impl Owner {
    fn is(&self, leader: &Task) -> bool {
        core::ptr::eq::<Task>(&*self.leader, leader)
    }
}

/// One session slot.
struct Slot {
    cb: Arc<ContextBank>,
    /// The process using the slot.
    owner: Option<Owner>,
    /// The process's DSP side, once attached or created.
    process: Option<Process>,
}

/// The sessions of one DSP channel.
#[pin_data]
pub(crate) struct Sessions {
    #[pin]
    slots: Mutex<KVec<Slot>>,
}

/// One file's hold on its process's session; released on drop.
pub(crate) struct SessionRef {
    sessions: Arc<Sessions>,
    index: usize,
    cb: Arc<ContextBank>,
}

impl Sessions {
    /// Builds the session table: `nsessions` slots per context bank.
    pub(crate) fn new(cbs: KVec<(Arc<ContextBank>, u32)>) -> Result<Arc<Self>> {
        let mut slots = KVec::new();
        for (cb, n) in cbs {
            for _ in 0..n {
                slots.push(
                    Slot {
                        cb: cb.clone(),
                        owner: None,
                        process: None,
                    },
                    GFP_KERNEL,
                )?;
            }
        }
        Arc::pin_init(
            pin_init!(Self {
                slots <- kernel::new_mutex!(slots),
            }),
            GFP_KERNEL,
        )
    }

    /// Joins the session of the process led by `leader`, or takes a free
    /// one.
    pub(crate) fn acquire(self: &Arc<Self>, leader: &Task) -> Result<SessionRef> {
        let mut slots = self.slots.lock();
        let index = match slots
            .iter()
            .position(|s| s.owner.as_ref().is_some_and(|o| o.is(leader)))
        {
            Some(i) => i,
            None => slots.iter().position(|s| s.owner.is_none()).ok_or(EBUSY)?,
        };
        let slot = &mut slots[index];
        match slot.owner.as_mut() {
            Some(o) => o.files += 1,
            None => {
                slot.owner = Some(Owner {
                    leader: leader.into(),
                    files: 1,
                })
            }
        }
        Ok(SessionRef {
            sessions: self.clone(),
            index,
            cb: slot.cb.clone(),
        })
    }

    /// The context bank of the session of the process led by `leader`, if
    /// it has one.
    pub(crate) fn cb_of(&self, leader: &Task) -> Option<Arc<ContextBank>> {
        let slots = self.slots.lock();
        slots
            .iter()
            .find(|s| s.owner.as_ref().is_some_and(|o| o.is(leader)))
            .map(|s| s.cb.clone())
    }

    /// Calls `f(slot, context bank, (owner tgid, open files))` for every
    /// slot.
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, &ContextBank, Option<(Pid, usize)>)) {
        let slots = self.slots.lock();
        for (i, s) in slots.iter().enumerate() {
            f(
                i,
                &s.cb,
                s.owner.as_ref().map(|o| (o.leader.tgid(), o.files)),
            );
        }
    }
}

impl SessionRef {
    /// The context bank of this session.
    pub(crate) fn cb(&self) -> &Arc<ContextBank> {
        &self.cb
    }

    /// The remote session id (slot + 1), as the DSP knows the process.
    pub(crate) fn client_id(&self) -> i32 {
        self.index as i32 + 1
    }

    /// PD type of the process's DSP side, if it has one.
    pub(crate) fn pd(&self) -> Option<u32> {
        self.sessions.slots.lock()[self.index]
            .process
            .as_ref()
            .map(|p| p.pd)
    }

    /// Gives the process its DSP side; `-EALREADY` if it has one.
    /// `make` runs without the session lock held (it talks to the DSP).
    pub(crate) fn start_process(&self, make: impl FnOnce() -> Result<Process>) -> Result {
        if self.pd().is_some() {
            return Err(EALREADY);
        }
        let p = make()?;
        let mut slots = self.sessions.slots.lock();
        if slots[self.index].process.is_some() {
            // Another file of the process won the race; keep its process.
            drop(slots);
            return Err(EALREADY);
        }
        slots[self.index].process = Some(p);
        Ok(())
    }

    /// Runs `f` on the process's DSP side; `-ENOTCONN` if it has none.
    pub(crate) fn with_process<R>(&self, f: impl FnOnce(&mut Process) -> Result<R>) -> Result<R> {
        let mut slots = self.sessions.slots.lock();
        f(slots[self.index].process.as_mut().ok_or(ENOTCONN)?)
    }

    /// Drops this file's hold; for the process's last file, returns its
    /// DSP side so that the caller can release it.
    pub(crate) fn close(self) -> Option<Process> {
        let mut slots = self.sessions.slots.lock();
        let slot = &mut slots[self.index];
        match slot.owner.as_mut() {
            Some(o) if o.files > 1 => {
                o.files -= 1;
                None
            }
            _ => {
                slot.owner = None;
                slot.process.take()
            }
        }
    }
}
