// SPDX-License-Identifier: GPL-2.0

//! Privilege of open files (see [`crate::dsp::policy`] for the rules).
//!
//! Privilege is fixed when a file is opened, from the opener's
//! credentials, like the node permissions that let it open the file: a
//! file passed to another process keeps what its opener was allowed.

use kernel::prelude::*;

use crate::{
    dsp::{
        policy::PdStart,
        Dsp, //
    },
    ffi::cred, //
};

/// What an open file's opener was allowed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Privilege {
    /// The opener could do daemon operations.
    daemon: bool,
}

impl Privilege {
    /// The privilege of the calling task: `CAP_SYS_ADMIN`, or membership
    /// of the group of module parameter `daemon_gid` (if set).
    pub(crate) fn of_current() -> Self {
        let gid = crate::module_parameters::daemon_gid.value();
        Self {
            daemon: cred::current_has_sys_admin()
                || u32::try_from(gid).is_ok_and(cred::current_in_group),
        }
    }

    /// Whether the opener could do daemon operations.
    pub(crate) fn is_daemon(self) -> bool {
        self.daemon
    }

    /// Checks that a file with this privilege may do `op` on `dev`;
    /// `-EACCES` with a log line if not.
    pub(crate) fn check(self, dev: &Dsp, op: PdStart) -> Result {
        if self.daemon || !op.needs_privilege(dev.secure) {
            return Ok(());
        }
        crate::ratelimit::dev_ratelimited!(
            debug,
            dev.channel.device(),
            "{}: {:?} refused: the file's opener was not privileged (CAP_SYS_ADMIN or group daemon_gid)\n",
            dev.domain.label(),
            op
        );
        Err(EACCES)
    }
}
