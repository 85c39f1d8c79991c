// SPDX-License-Identifier: GPL-2.0

//! The faults a test can arm on a channel, as written to and shown by its
//! debugfs file.

use kernel::prelude::*;

use crate::proc_msgs;

/// A fault to inject into the next call on a module handle.
#[derive(Clone, Copy)]
pub(crate) enum Fault {
    /// Answer with this return value without running the method.
    Error(i32),
    /// Answer this many milliseconds late.
    Delay(u32),
    /// Hold the answer until `release` is written.
    Drop,
    /// Hold the answer to the next kernel call (handle 1) of this method
    /// until `release` is written: firmware that does the work and answers
    /// late, or never confirms (method 1, the release).
    DropKernel(u32),
    /// Answer twice.
    Duplicate,
    /// Send a stale answer (an older sequence number) first.
    Stale,
    /// Crash: the channel goes away (subsystem restart) and comes back.
    Crash,
    /// Behave like broken firmware: overwrite the call's metadata (lengths,
    /// pointers, page table) with `0xff` bytes after running the method,
    /// and send a truncated and an oversized garbage message before the
    /// real answer.
    Hostile,
}

/// What a write to a channel's fault file asks for.
pub(crate) enum Command {
    /// Arm this fault.
    Arm(Fault),
    /// Deliver the answers held back by `drop`.
    Release,
}

impl Fault {
    /// The fault's name, as written to arm it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Fault::Error(_) => "error",
            Fault::Delay(_) => "delay",
            Fault::Drop => "drop",
            Fault::DropKernel(_) => "drop-kernel",
            Fault::Duplicate => "duplicate",
            Fault::Stale => "stale",
            Fault::Crash => "crash",
            Fault::Hostile => "hostile",
        }
    }
}

impl Command {
    /// Parses `error N`, `delay MS`, `drop`, `duplicate`, `stale`, `crash`,
    /// `hostile`, `drop-kernel M`, `drop-release` (`drop-kernel 1`: the
    /// next process release) or `release`.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let mut words = text.split_whitespace();
        let num = |w: Option<&str>| w.and_then(|v| v.parse::<i64>().ok()).ok_or(EINVAL);
        let fault = match words.next() {
            Some("error") => Fault::Error(i32::try_from(num(words.next())?).map_err(|_| EINVAL)?),
            Some("delay") => Fault::Delay(u32::try_from(num(words.next())?).map_err(|_| EINVAL)?),
            Some("drop") => Fault::Drop,
            Some("drop-release") => Fault::DropKernel(proc_msgs::method::RELEASE),
            Some("drop-kernel") => {
                Fault::DropKernel(u32::try_from(num(words.next())?).map_err(|_| EINVAL)?)
            }
            Some("duplicate") => Fault::Duplicate,
            Some("stale") => Fault::Stale,
            Some("crash") => Fault::Crash,
            Some("hostile") => Fault::Hostile,
            Some("release") => return Ok(Command::Release),
            _ => return Err(EINVAL),
        };
        Ok(Command::Arm(fault))
    }
}
