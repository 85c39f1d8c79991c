// SPDX-License-Identifier: GPL-2.0

//! A FastRPC client: one open file, of the accel node or of a legacy
//! `/dev/fastrpc-*` node, with its hold on its process's session and its
//! own DSP process.
//!
//! Both node kinds open clients the same way, so the files of one process
//! share its context bank whichever node they were opened on.

use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex,
        UniqueArc, //
    },
    task::Kuid,
};

use crate::{
    dsp::{
        access::Privilege,
        Dsp, //
    },
    fastrpc::{
        channel::{
            CallError,
            CallMemory,
            Channel, //
        },
        process::{
            self,
            Failed,
            Process,
            Target, //
        },
    },
    memory::limits::{
        Limits,
        Quota, //
    },
    platform::session::{
        Opener,
        SessionRef, //
    },
};

/// The limits of a new file (module parameters `file_buffers` and
/// `file_mem_mib`).
fn file_limits() -> Limits {
    let buffers = crate::module_parameters::file_buffers.value();
    let mib = crate::module_parameters::file_mem_mib.value();
    Limits {
        buffers: u64::from(buffers),
        bytes: u64::from(mib) << 20,
    }
}

/// One open file's DSP client.
pub(crate) struct Client {
    /// The session of the opening process, with the file's client id
    /// (shared only to outlive the file after a failed release).
    session: Arc<SessionRef>,
    /// The DSP channel, for the release call on close.
    pub(crate) channel: Arc<Channel>,
    /// The file's DSP process; the lock is held while it is being
    /// started, so one file starts at most one.
    process: Pin<KBox<Mutex<Option<Process>>>>,
    /// What the opener was allowed (see [`crate::dsp::access`]).
    pub(crate) privilege: Privilege,
    /// What the file may hold (see [`crate::memory::limits`]).
    pub(crate) quota: Arc<Quota>,
    /// The unprivileged user whose share of the channel the file's calls
    /// count against (`None` if privileged; see [`crate::platform::fair_share`]).
    pub(crate) owner: Option<Kuid>,
}

impl Client {
    /// A client for the calling process on `dev`: joins or takes the
    /// process's session (`-EBUSY` if none is free).
    pub(crate) fn open(dev: &Dsp) -> Result<Self> {
        let current = kernel::current!();
        // Releases the DSP answered late give their sessions and ids back.
        dev.channel.reap_answered();
        let privilege = Privilege::of_current();
        let who = Opener {
            euid: Kuid::current_euid(),
            privileged: privilege.is_daemon(),
        };
        let session = dev
            .sessions
            .acquire(current.group_leader(), who)
            .inspect_err(|e| {
                crate::ratelimit::dev_ratelimited!(
                    debug,
                    dev.channel.device(),
                    "{}: no session or client id for process {} ({:?}; a user may hold half of each)\n",
                    dev.domain.label(),
                    current.tgid(),
                    e
                );
            })?;
        Ok(Self {
            session: Arc::new(session, GFP_KERNEL)?,
            channel: dev.channel.clone(),
            process: KBox::pin_init(new_mutex!(None), GFP_KERNEL)?,
            privilege,
            quota: Arc::new(Quota::new(file_limits()), GFP_KERNEL)?,
            owner: who.user(),
        })
    }

    /// The session of the client's process.
    pub(crate) fn session(&self) -> &SessionRef {
        &self.session
    }

    /// The client's DSP process, as kernel calls name it.
    pub(crate) fn target(&self) -> Target<'_> {
        Target {
            channel: &self.channel,
            cb: self.session.cb(),
            client_id: self.session.client_id(),
        }
    }

    /// PD type of the client's DSP process; `-ENOTCONN` before attach or
    /// create, or after a start the caller gave up.
    pub(crate) fn pd(&self) -> Result<u32> {
        self.with_process(|p| Ok(p.pd))
    }

    /// Runs `f` on the client's DSP process; `-ENOTCONN` if it has none
    /// (or only one the DSP did not confirm).
    pub(crate) fn with_process<R>(&self, f: impl FnOnce(&mut Process) -> Result<R>) -> Result<R> {
        let mut guard = self.process.lock();
        let p: &mut Option<Process> = &mut guard;
        f(p.as_mut().filter(|p| p.confirmed).ok_or(ENOTCONN)?)
    }

    /// Gives the client its DSP process; `-EALREADY` if it has one. `make`
    /// runs with the process lock held (it talks to the DSP). A start the
    /// caller gave up after sending it still gives the client its
    /// (unconfirmed) process: the DSP may have started it, so the close
    /// releases it.
    pub(crate) fn start_process(
        &self,
        make: impl FnOnce() -> Result<Process, Failed<Process>>,
    ) -> Result {
        let mut p = self.process.lock();
        if p.is_some() {
            return Err(EALREADY);
        }
        match make() {
            Ok(new) => *p = Some(new),
            Err(Failed { err, kept }) => {
                *p = kept;
                return Err(err);
            }
        }
        Ok(())
    }
}

/// A process being released, with what the DSP knows it by: its memory,
/// its session (context bank) and client id. Kept with an unanswered
/// release until the DSP answers or goes away.
struct Releasing {
    _session: Arc<SessionRef>,
    _process: Process,
}

impl CallMemory for Releasing {}

impl Drop for Client {
    /// Ends the client's DSP process, before its client id is freed. If
    /// the DSP is gone there is nothing to release. If the DSP does not
    /// answer the release (within the kernel-call timeout), it may still
    /// use the process's memory and know its client id: both stay with the
    /// unanswered call until the DSP answers or goes away. A release that
    /// could not be sent keeps them until the DSP goes away.
    fn drop(&mut self) {
        let Some(p) = self.process.lock().take() else {
            return;
        };
        let (cb, client_id, pd) = (self.session.cb(), self.session.client_id(), p.pd);
        let kept: Arc<Releasing> = match UniqueArc::new_uninit(GFP_KERNEL) {
            Ok(u) => u
                .write(Releasing {
                    _session: self.session.clone(),
                    _process: p,
                })
                .into(),
            Err(_) => {
                // Nothing to keep them with: leak them rather than free
                // what the DSP uses.
                pr_err!(
                    "release of client {}: no memory, process leaked\n",
                    client_id
                );
                core::mem::forget((self.session.clone(), p));
                return;
            }
        };
        let e = match process::release(&self.channel, cb, (client_id, pd), kept.clone()) {
            // Answered (a refusal too: the DSP has let go), or the DSP is
            // gone: everything goes now.
            Ok(()) | Err(CallError::Refused(_) | CallError::Failed(ENODEV | EPIPE)) => return,
            Err(e) => e,
        };
        crate::ratelimit::dev_ratelimited!(
            warn,
            self.channel.device(),
            "release of client {} not confirmed ({:?}): its memory and id stay reserved\n",
            client_id,
            e.errno()
        );
        if let CallError::Failed(_) = e {
            // Not sent: the DSP still has the process.
            match KBox::new(kept, GFP_KERNEL) {
                Ok(k) => self.channel.keep_until_gone(k),
                Err(_) => pr_err!("release of client {}: cannot keep it\n", client_id),
            }
        }
    }
}
