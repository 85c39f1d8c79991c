// SPDX-License-Identifier: GPL-2.0

//! What the simulated DSP keeps across requests, under one lock: its
//! processes, the module handles they opened, the mappings made on it and
//! the static PDs' state.

use kernel::prelude::*;

use crate::{
    pd::{
        audio_pd::AudioPd,
        modules::Module,
        process::{
            Effects,
            Process, //
        }, //
    },
    reverse::file_read::ReadResult, //
};

/// Return value of a call from a client with no process.
pub(crate) const EACCES_RV: i32 = -13;

/// An open module handle.
pub(crate) struct Open {
    pub(crate) handle: u32,
    pub(crate) client_id: i32,
    pub(crate) module: Module,
}

/// A mapping made on the DSP.
pub(crate) struct Mapping {
    pub(crate) client_id: i32,
    pub(crate) vaddr: u64,
    pub(crate) size: u64,
    /// `fd` of an attribute mapping, -1 for a legacy one.
    pub(crate) fd: i32,
    /// The DSP address (IOVA | SID << 32) of the memory mapped.
    pub(crate) addr: u64,
}

/// Everything the DSP keeps, under one lock.
pub(crate) struct State {
    /// The audio PD.
    pub(crate) audio: AudioPd,
    /// The client id of the process attached to the sensors PD, if any.
    pub(crate) sensors: Option<i32>,
    /// The sensors PD's last file read: the path and its outcome.
    pub(crate) sensors_last: Option<(KVec<u8>, ReadResult)>,
    pub(crate) procs: KVec<Process>,
    pub(crate) open: KVec<Open>,
    pub(crate) maps: KVec<Mapping>,
    pub(crate) next_vaddr: u64,
}

impl State {
    /// The process of `client_id`.
    pub(crate) fn process(&mut self, client_id: i32) -> Option<&mut Process> {
        self.procs.iter_mut().find(|p| p.client_id == client_id)
    }

    /// Removes the process of `client_id` and all it holds; its held calls
    /// complete.
    pub(crate) fn remove_process(&mut self, client_id: i32, fx: &mut Effects<'_>) -> Result {
        for p in self.procs.iter_mut().filter(|p| p.client_id == client_id) {
            p.exit(fx)?;
        }
        self.procs.retain(|p| p.client_id != client_id);
        if self.audio.client == Some(client_id) {
            self.audio.client = None;
        }
        if self.sensors == Some(client_id) {
            self.sensors = None;
        }
        self.open.retain(|o| o.client_id != client_id);
        self.maps.retain(|m| m.client_id != client_id);
        Ok(())
    }
}
