// SPDX-License-Identifier: GPL-2.0

//! The audio PD: the ADSP's static PD, started by INIT_CREATE_STATIC
//! (handle 1, method 8) as the library's `adsprpcd audiopd` daemon asks
//! for it through the kernel.
//!
//! Like firmware, it takes its memory pool, the remote heap, from the
//! first create and keeps it for as long as the DSP runs: later creates
//! (a restarted daemon) send no pages and reuse it; a create without a
//! heap before one was given is refused. The pool is reached through the
//! remoteproc's SMMU context only ([`crate::hw::remoteproc`]). A simulated
//! crash starts a fresh DSP, which has no heap.
//!
//! Audio activity is simulated from debugfs (`audiopd-<dsp>`): `alloc N`
//! takes N bytes of the heap, or when the heap is full asks the apps side
//! for them through `apps_mem` ([`crate::reverse::mem_request`]), and
//! writes and reads a pattern through the SMMU; `free` gives everything back.

use kernel::prelude::*;

use crate::{
    dsp::{
        call::Call,
        errors::{
            AEE_EBADPARM,
            AEE_ENOSUCHMOD, //
        }, //
    },
    hw::remoteproc::Remoteproc,
    proc_msgs::{
        CreateStaticReq,
        PhyPage, //
    }, //
};

/// The only static PD of the simulated ADSP this module implements.
const NAME: &[u8] = b"audiopd";

/// Largest static-PD name firmware accepts.
const NAME_MAX: usize = 128;

/// The audio PD's state on one DSP.
#[derive(Default)]
pub(crate) struct AudioPd {
    /// The pool the first create gave: `(base, size)`.
    heap: Option<(u64, u64)>,
    /// Heap bytes in use.
    used: u64,
    /// Successful creates.
    creates: u64,
    /// The client id of the process serving it, while one does.
    pub(crate) client: Option<i32>,
    /// Result of the last `alloc`: 0 or an errno.
    last: Option<i32>,
    /// Memory the apps side granted through `apps_mem`: `(vadsp, len)`.
    pub(crate) grants: KVec<(u64, u64)>,
}

/// The name in a create, without trailing NULs.
fn trimmed(name: &[u8]) -> &[u8] {
    let end = name.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &name[..end]
}

impl AudioPd {
    /// CREATE_STATIC (shape already checked: three inputs, the request
    /// exactly [`CreateStaticReq::SIZE`], user-PD type). `Ok(client)` of
    /// the process to start, else the firmware's error code.
    pub(crate) fn create(&mut self, rproc: &Remoteproc, call: &Call) -> Result<i32, i32> {
        let r = CreateStaticReq::decode(&call.ins[0]).ok_or(AEE_EBADPARM)?;
        let name = &call.ins[1];
        if name.len() != r.namelen as usize || name.len() > NAME_MAX || r.pageslen > 1 {
            return Err(AEE_EBADPARM);
        }
        let page = match call.ins.get(2) {
            Some(b) if b.len() == PhyPage::SIZE => PhyPage::decode(b).ok_or(AEE_EBADPARM)?,
            _ => return Err(AEE_EBADPARM),
        };
        if trimmed(name) != NAME || rproc.heap().is_none() {
            return Err(AEE_ENOSUCHMOD);
        }
        match (r.pageslen, self.heap) {
            (1, None) => self.take_heap(rproc, page)?,
            // Firmware keeps the pool it has; a later heap is not used.
            (1, Some(_)) => {}
            (0, Some(_)) if page.addr == 0 && page.size == 0 => {}
            // The first create must bring the pool.
            _ => return Err(AEE_EBADPARM),
        }
        self.creates += 1;
        self.client = Some(r.client_id);
        Ok(r.client_id)
    }

    /// Takes the pool of `page`: first and last byte must be reachable.
    fn take_heap(&mut self, rproc: &Remoteproc, page: PhyPage) -> Result<(), i32> {
        let last = page.size.checked_sub(1).ok_or(AEE_EBADPARM)?;
        let end = page.addr.checked_add(last).ok_or(AEE_EBADPARM)?;
        if page.addr % 4096 != 0 || page.size % 4096 != 0 {
            return Err(AEE_EBADPARM);
        }
        for a in [page.addr, end & !4095] {
            if rproc.fill_and_check(a, 1, 0).is_err() {
                return Err(-14);
            }
        }
        self.heap = Some((page.addr, page.size));
        self.used = 0;
        Ok(())
    }

    /// Records the outcome of an `alloc`.
    pub(crate) fn record(&mut self, r: Result) -> Result {
        self.last = Some(r.err().map_or(0, |e| e.to_errno()));
        r
    }

    /// Reserves N bytes (page multiple) of the heap: their address and
    /// the pattern byte to write there; `ENOMEM` when the heap has no room
    /// left (more comes from the apps side, `apps_mem`).
    pub(crate) fn reserve(&mut self, bytes: u64) -> Result<(u64, usize, u8)> {
        let (base, size) = self.heap.ok_or(ENODEV)?;
        if bytes == 0 || bytes % 4096 != 0 {
            return Err(EINVAL);
        }
        let used = self.used.checked_add(bytes).ok_or(EINVAL)?;
        if used > size {
            return Err(ENOMEM);
        }
        let len = usize::try_from(bytes).map_err(|_| EINVAL)?;
        let at = (base + self.used, len, (self.used / 4096) as u8 ^ 0x5a);
        self.used = used;
        Ok(at)
    }

    /// Gives back a reservation whose memory could not be used.
    pub(crate) fn unreserve(&mut self, bytes: u64) {
        self.used = self.used.saturating_sub(bytes);
    }

    /// `free`: everything goes back to the heap.
    pub(crate) fn free(&mut self) {
        self.used = 0;
    }

    /// The debugfs view (see the module documentation).
    pub(crate) fn show(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.heap {
            Some((b, s)) => writeln!(f, "heap {b:#x} {s:#x}")?,
            None => writeln!(f, "heap none")?,
        }
        writeln!(f, "used {}", self.used)?;
        writeln!(f, "grants {}", self.grants.len())?;
        writeln!(f, "creates {}", self.creates)?;
        writeln!(f, "up {}", u8::from(self.client.is_some()))?;
        match self.last {
            None | Some(0) => writeln!(f, "last ok"),
            Some(e) => writeln!(f, "last {}", -e),
        }
    }
}
