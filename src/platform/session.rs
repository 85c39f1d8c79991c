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
//! Each open file is a DSP process of its own (the library's multiple
//! sessions per process): it gets a client id of its own, unique on the
//! channel, while sharing the CB with the other files of its process.
//!
//! An unprivileged user may hold at most half of the channel's session
//! slots and of its client ids (see [`crate::platform::fair_share`]): `-EBUSY` and
//! `-EMFILE` past that, while other users can still open.
//!
//! A process is identified by its thread-group leader's `task_struct`, of
//! which a session holds a reference: unlike a tgid number, it cannot be
//! reused by a new process while an old file (e.g. one passed over a
//! socket) keeps the session alive.

use kernel::{
    id_pool::IdPool,
    prelude::*,
    sync::{
        aref::ARef,
        Arc,
        Mutex, //
    },
    task::{
        Kuid,
        Pid,
        Task, //
    },
};

use crate::platform::{
    context_bank::ContextBank,
    fair_share::may_take, //
};

/// The process using a session slot.
struct Owner {
    /// Its thread-group leader (held, so the pointer stays unique).
    leader: ARef<Task>,
    /// How many of its files are open.
    files: usize,
    /// The user who took the slot (`None`: a privileged file did).
    user: Option<Kuid>,
}

/// Who opens a file: the user's share applies unless `privileged`.
#[derive(Clone, Copy)]
pub(crate) struct Opener {
    /// The opener's effective uid.
    pub(crate) euid: Kuid,
    /// The file is privileged (see [`crate::dsp::access`]).
    pub(crate) privileged: bool,
}

impl Opener {
    /// The user a share is counted against (`None` if privileged).
    pub(crate) fn user(self) -> Option<Kuid> {
        (!self.privileged).then_some(self.euid)
    }
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
}

/// Most open files (DSP processes) per channel: client ids are
/// `1..=MAX_CLIENTS`, each with its own release slot on the channel.
pub(crate) const MAX_CLIENTS: usize = 64;

/// The slots and the client ids in use.
struct Table {
    slots: KVec<Slot>,
    /// Id `i` taken: client id `i + 1` is in use. Its capacity is fixed
    /// at probe (at least [`MAX_CLIENTS`]), so it never grows under the
    /// lock.
    clients: IdPool,
    /// The user of each client id in use (`None`: privileged or free).
    client_users: [Option<Kuid>; MAX_CLIENTS],
}

impl Table {
    /// Client ids held by `user`.
    fn ids_of(&self, user: Kuid) -> usize {
        self.client_users
            .iter()
            .filter(|u| **u == Some(user))
            .count()
    }

    /// Session slots held by `user`.
    fn slots_of(&self, user: Kuid) -> usize {
        self.slots
            .iter()
            .filter(|s| s.owner.as_ref().is_some_and(|o| o.user == Some(user)))
            .count()
    }

    /// The lowest free client id `who` may take (index from 0), not yet
    /// taken; `-EMFILE` if none.
    fn free_id(&mut self, who: Opener) -> Result<usize> {
        let held = who.user().map_or(0, |u| self.ids_of(u));
        let free = self.clients.find_unused_id(0).map(|id| id.as_usize());
        match free {
            Some(i) if i < MAX_CLIENTS && may_take(who.privileged, held, MAX_CLIENTS) => Ok(i),
            _ => Err(EMFILE),
        }
    }

    /// Takes client id `id` (index from 0), free as [`Self::free_id`]
    /// found it, for `user`.
    fn take_id(&mut self, id: usize, user: Option<Kuid>) {
        if let Some(unused) = self.clients.find_unused_id(id) {
            unused.acquire();
        }
        self.client_users[id] = user;
    }

    /// The slot of `leader`'s process, or a free one `who` may take;
    /// `-EBUSY` if none.
    fn slot_for(&self, leader: &Task, who: Opener) -> Result<usize> {
        let mine = |s: &Slot| s.owner.as_ref().is_some_and(|o| o.is(leader));
        if let Some(i) = self.slots.iter().position(mine) {
            return Ok(i);
        }
        let held = who.user().map_or(0, |u| self.slots_of(u));
        if !may_take(who.privileged, held, self.slots.len()) {
            return Err(EBUSY);
        }
        self.slots
            .iter()
            .position(|s| s.owner.is_none())
            .ok_or(EBUSY)
    }
}

/// The sessions of one DSP channel.
#[pin_data]
pub(crate) struct Sessions {
    #[pin]
    table: Mutex<Table>,
}

/// One file's hold on its process's session, and the file's own client
/// id (the DSP's name for the file's DSP process); released on drop.
pub(crate) struct SessionRef {
    sessions: Arc<Sessions>,
    index: usize,
    cb: Arc<ContextBank>,
    /// Index of the client id (`client id - 1`, below [`MAX_CLIENTS`]).
    id: usize,
}

impl Sessions {
    /// Builds the session table: `nsessions` slots per context bank.
    pub(crate) fn new(cbs: KVec<(Arc<ContextBank>, u32)>) -> Result<Arc<Self>> {
        let clients = IdPool::with_capacity(MAX_CLIENTS, GFP_KERNEL)?;
        let mut slots = KVec::new();
        for (cb, n) in cbs {
            for _ in 0..n {
                slots.push(
                    Slot {
                        cb: cb.clone(),
                        owner: None,
                    },
                    GFP_KERNEL,
                )?;
            }
        }
        Arc::pin_init(
            pin_init!(Self {
                table <- kernel::new_mutex!(Table {
                    slots,
                    clients,
                    client_users: [None; MAX_CLIENTS],
                }),
            }),
            GFP_KERNEL,
        )
    }

    /// Joins the session of the process led by `leader`, or takes a free
    /// one, and gives the new file a client id of its own; `who`'s share
    /// applies to both.
    pub(crate) fn acquire(self: &Arc<Self>, leader: &Task, who: Opener) -> Result<SessionRef> {
        let mut t = self.table.lock();
        let free = t.free_id(who)?;
        let index = t.slot_for(leader, who)?;
        t.take_id(free, who.user());
        let slot = &mut t.slots[index];
        match slot.owner.as_mut() {
            Some(o) => o.files += 1,
            None => {
                slot.owner = Some(Owner {
                    leader: leader.into(),
                    files: 1,
                    user: who.user(),
                })
            }
        }
        Ok(SessionRef {
            sessions: self.clone(),
            index,
            cb: slot.cb.clone(),
            id: free,
        })
    }

    /// The context bank of the session of the process led by `leader`, if
    /// it has one.
    pub(crate) fn cb_of(&self, leader: &Task) -> Option<Arc<ContextBank>> {
        let t = self.table.lock();
        t.slots
            .iter()
            .find(|s| s.owner.as_ref().is_some_and(|o| o.is(leader)))
            .map(|s| s.cb.clone())
    }

    /// Calls `f(slot, context bank, (owner tgid, open files))` for every
    /// slot.
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, &ContextBank, Option<(Pid, usize)>)) {
        let t = self.table.lock();
        for (i, s) in t.slots.iter().enumerate() {
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

    /// The file's client id, as the DSP knows the file's process.
    pub(crate) fn client_id(&self) -> i32 {
        // `id < MAX_CLIENTS`: the sum fits.
        self.id as i32 + 1
    }
}

impl Drop for SessionRef {
    /// Frees the client id; the process's last file frees the slot.
    fn drop(&mut self) {
        let mut t = self.sessions.table.lock();
        t.clients.release_id(self.id);
        t.client_users[self.id] = None;
        let slot = &mut t.slots[self.index];
        match slot.owner.as_mut() {
            Some(o) if o.files > 1 => o.files -= 1,
            _ => slot.owner = None,
        }
    }
}
