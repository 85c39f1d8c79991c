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
        Mutex, //
    },
    task::Kuid,
};

use crate::{
    access::Privilege,
    driver::QdaDevice,
    fastrpc::{
        channel::Channel,
        process::{
            self,
            Process, //
        },
    },
    limits::{
        Limits,
        Quota, //
    },
    session::{
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
    /// What the opener was allowed (see [`crate::access`]).
    pub(crate) privilege: Privilege,
    /// What the file may hold (see [`crate::limits`]).
    pub(crate) quota: Arc<Quota>,
}

impl Client {
    /// A client for the calling process on `dev`: joins or takes the
    /// process's session (`-EBUSY` if none is free).
    pub(crate) fn open(dev: &QdaDevice) -> Result<Self> {
        let current = kernel::current!();
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
        })
    }

    /// The session of the client's process.
    pub(crate) fn session(&self) -> &SessionRef {
        &self.session
    }

    /// PD type of the client's DSP process; `-ENOTCONN` before attach or
    /// create.
    pub(crate) fn pd(&self) -> Result<u32> {
        self.process.lock().as_ref().map(|p| p.pd).ok_or(ENOTCONN)
    }

    /// Runs `f` on the client's DSP process; `-ENOTCONN` if it has none.
    pub(crate) fn with_process<R>(&self, f: impl FnOnce(&mut Process) -> Result<R>) -> Result<R> {
        let mut guard = self.process.lock();
        let p: &mut Option<Process> = &mut guard;
        f(p.as_mut().ok_or(ENOTCONN)?)
    }

    /// Gives the client its DSP process; `-EALREADY` if it has one. `make`
    /// runs with the process lock held (it talks to the DSP).
    pub(crate) fn start_process(&self, make: impl FnOnce() -> Result<Process>) -> Result {
        let mut p = self.process.lock();
        if p.is_some() {
            return Err(EALREADY);
        }
        *p = Some(make()?);
        Ok(())
    }
}

impl Drop for Client {
    /// Ends the client's DSP process, before its client id is freed. If
    /// the DSP is gone there is nothing to release. If the DSP did not
    /// confirm the release, it may still use the process's memory and
    /// know its client id: both stay reserved until the channel goes away.
    fn drop(&mut self) {
        let Some(p) = self.process.lock().take() else {
            return;
        };
        let (cb, client_id) = (self.session.cb(), self.session.client_id());
        let Err(e) = process::release(&self.channel, cb, client_id, &p) else {
            return;
        };
        if e == ENODEV {
            return;
        }
        crate::ratelimit::dev_ratelimited!(
            warn,
            self.channel.device(),
            "release of client {} failed ({:?}): its memory and id stay reserved\n",
            client_id,
            e
        );
        let kept: Result<KBox<dyn Send>, _> =
            KBox::new((self.session.clone(), p), GFP_KERNEL).map(|b| b as KBox<dyn Send>);
        match kept {
            Ok(k) => self.channel.keep_until_gone(k),
            Err(_) => pr_err!("release of client {}: cannot keep its memory\n", client_id),
        }
    }
}
