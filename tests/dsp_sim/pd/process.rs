// SPDX-License-Identifier: GPL-2.0

//! One DSP process (PD), keyed by the client id the driver puts in every
//! message, and its side of the reverse channel: the listener's pending
//! `next2`, the reverse call the apps side is serving, and the skel loads
//! waiting for it.
//!
//! Everything here is driven by messages: a `next2` is held until the
//! process has a reverse call for the apps side ([`Process::pump`]) or
//! ends ([`Process::exit`]); nothing waits or polls.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use crate::{
    dsp::{
        call::{
            Call,
            Held, //
        },
        errors::AEE_EBADSTATE,
        skel::{
            self,
            Answer,
            Refusal, //
        }, //
    },
    hw::{
        remoteproc::Remoteproc,
        smmu::Smmu, //
    },
    pd::modules::Module,
    reverse::{
        file_read::{
            FileRead,
            ReadWait, //
        },
        listener_buf,
        loader::{
            Failure,
            Load,
            Progress,
            Request, //
        },
        mem_request::{
            MemOp,
            MemRequest, //
        }, //
    },
    wire::Rsp, //
};

/// A load that ended: its held open and the result.
pub(crate) struct Finished {
    pub(crate) client_id: i32,
    pub(crate) open: Held,
    pub(crate) result: core::result::Result<Module, Failure>,
}

/// Replies produced while handling a message, and loads that ended.
pub(crate) struct Effects<'a> {
    pub(crate) smmu: &'a Smmu,
    pub(crate) rproc: &'a Remoteproc,
    /// Replies to held calls, to send once the state is unlocked.
    pub(crate) done: &'a mut KVec<Rsp>,
    pub(crate) finished: KVec<Finished>,
}

/// A static PD's reverse-call job.
enum Job {
    Read(FileRead),
    Mem(MemRequest),
}

impl Job {
    /// The job's next reverse call, not yet handed to the listener.
    fn want(&mut self) -> &mut Option<Request> {
        match self {
            Job::Read(r) => &mut r.want,
            Job::Mem(m) => &mut m.want,
        }
    }
}

/// Which PD a process runs in, as it was started.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pd {
    /// INIT_ATTACH in the root PD's context (the guest OS PD).
    Root,
    /// INIT_ATTACH in the sensors PD's context.
    Sensors,
    /// INIT_CREATE_STATIC of the audio PD.
    Audio,
    /// INIT_CREATE: a dynamic user PD.
    User,
}

impl Pd {
    /// Its name in debugfs.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Pd::Root => "rootpd",
            Pd::Sensors => "sensorspd",
            Pd::Audio => "audiopd",
            Pd::User => "userpd",
        }
    }
}

/// One DSP process.
pub(crate) struct Process {
    pub(crate) client_id: i32,
    pub(crate) pd: Pd,
    /// The apps side registered its default listener
    /// (`adsp_default_listener` register answered 0).
    pub(crate) default_listener: bool,
    /// The listener's pending `next2` and the `bufsLen` it offers.
    next2: Option<(Held, u32)>,
    /// The reverse call handed to the apps side: its `ctx` and request.
    sent: Option<(u32, Request)>,
    last_ctx: u32,
    /// Skel loads, served one at a time (the head).
    loads: KVec<Load>,
    /// Reverse calls of a static PD (file reads, `apps_mem`), served
    /// after the loads, one at a time (the head).
    reads: KVec<Job>,
    /// The apps side's `apps_mem` handle, once opened.
    apps_mem: Option<u32>,
    /// The reverse call in `sent` belongs to the head read.
    sent_read: bool,
    /// The apps side's `apps_std` handle, once opened.
    apps_std: Option<u32>,
    /// `adsp_current_process1_exit` was called.
    exiting: bool,
}

impl Process {
    /// A fresh process for `client_id` in `pd`.
    pub(crate) fn new(client_id: i32, pd: Pd) -> Self {
        Self {
            client_id,
            pd,
            default_listener: false,
            next2: None,
            sent: None,
            last_ctx: 0,
            loads: KVec::new(),
            reads: KVec::new(),
            apps_mem: None,
            sent_read: false,
            apps_std: None,
            exiting: false,
        }
    }

    /// Whether the listener's `next2` is held, waiting for a reverse call.
    pub(crate) fn listening(&self) -> bool {
        self.next2.is_some()
    }

    /// Whether `adsp_current_process1_exit` was called: the process runs no
    /// more module methods.
    pub(crate) fn exiting(&self) -> bool {
        self.exiting
    }

    /// `next2(prevCtx, prevResult, prevbufs) -> (ctx, handle, sc, bufs)`:
    /// takes in the answer to the last reverse call, then holds until the
    /// next one (or the process's end).
    pub(crate) fn next2(&mut self, call: &Call, fx: &mut Effects<'_>) -> Answer<Option<i32>> {
        skel::shape(call, 2, 2)?;
        let prim = skel::prim_in(call, 16)?;
        let (prev_ctx, prev_result) = (skel::word(prim, 0)?, skel::word(prim, 1)? as i32);
        let (prev_len, buf_len) = (skel::word(prim, 2)?, skel::word(prim, 3)?);
        skel::out_at_least(call, 0, 16)?;
        skel::out_at_least(call, 1, u64::from(buf_len))?;
        let prev = skel::input(call, 1, prev_len as usize)?;
        if self.sent.as_ref().is_some_and(|(c, _)| *c == prev_ctx) {
            self.take_answer(prev_result, prev, fx)?;
        }
        if self.exiting || self.next2.is_some() {
            // Ended, or a second listener: the library's stop code.
            return Err(Refusal::Code(AEE_EBADSTATE));
        }
        self.next2 = Some((call.hold()?, buf_len));
        self.pump(fx)?;
        Ok(None)
    }

    /// Feeds the apps side's answer to the head load.
    fn take_answer(&mut self, result: i32, prev: &[u8], fx: &mut Effects<'_>) -> Result {
        let Some((_, req)) = self.sent.take() else {
            return Ok(());
        };
        let outs = listener_buf::unpack_response(prev, &req.out_lens);
        if self.sent_read {
            return self.read_answer(result, outs.as_deref());
        }
        let Some(load) = self.loads.first_mut() else {
            return Ok(());
        };
        // A malformed answer fails the reverse call.
        let result = if result == 0 && outs.is_none() {
            -1
        } else {
            result
        };
        if let Progress::Done(result) = load.answer(result, outs.as_deref())? {
            self.apps_std = load.std;
            let load = self.loads.remove(0)?;
            fx.finished.push(
                Finished {
                    client_id: self.client_id,
                    open: load.open,
                    result,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(())
    }

    /// Hands the head load's next reverse call to a pending `next2`.
    fn pump(&mut self, fx: &mut Effects<'_>) -> Result {
        if self.sent.is_some() || self.next2.is_none() {
            return Ok(());
        }
        let mut from_read = false;
        let req = match self.loads.first_mut() {
            Some(l) => l.want.take(),
            None => {
                from_read = true;
                self.reads.first_mut().and_then(|r| r.want().take())
            }
        };
        let Some(req) = req else {
            return Ok(());
        };
        let Some((held, buf_len)) = self.next2.take() else {
            return Ok(());
        };
        self.last_ctx = self.last_ctx.wrapping_add(1).max(1);
        let total = req.packed.len() as u32;
        let prim = skel::words(&[self.last_ctx, req.handle, req.sc, total])?;
        let bufs = skel::out(&req.packed[..total.min(buf_len) as usize])?;
        fx.done
            .push(held.complete(fx.smmu, 0, &[prim, bufs]), GFP_KERNEL)?;
        self.sent = Some((self.last_ctx, req));
        self.sent_read = from_read;
        Ok(())
    }

    /// Feeds the apps side's answer to the head read.
    fn read_answer(&mut self, result: i32, outs: Option<&[KVec<u8>]>) -> Result {
        let Some(read) = self.reads.first_mut() else {
            return Ok(());
        };
        // A malformed answer fails the reverse call.
        let result = if result == 0 && outs.is_none() {
            -1
        } else {
            result
        };
        let done = match read {
            Job::Read(r) => {
                let done = r.answer(result, outs)?;
                self.apps_std = self.apps_std.or(r.std);
                done
            }
            Job::Mem(m) => {
                let (handle, done) = m.answer(result, outs)?;
                self.apps_mem = self.apps_mem.or(handle);
                done
            }
        };
        if done {
            drop(self.reads.remove(0)?);
        }
        Ok(())
    }

    /// Asks the apps side's `apps_mem` for `op` (the audio PD); the
    /// outcome goes to `wait`. Refused once exiting.
    pub(crate) fn request_mem(
        &mut self,
        op: MemOp,
        wait: Arc<ReadWait>,
        fx: &mut Effects<'_>,
    ) -> Result {
        if self.exiting {
            return Err(EPIPE);
        }
        let job = Job::Mem(MemRequest::new(op, self.apps_mem, wait)?);
        self.reads.push(job, GFP_KERNEL)?;
        self.pump(fx)
    }

    /// Starts reading file `path` of the apps side for a static PD; the
    /// outcome goes to `wait`. Refused once exiting.
    pub(crate) fn read_file(
        &mut self,
        path: &[u8],
        wait: Arc<ReadWait>,
        fx: &mut Effects<'_>,
    ) -> Result {
        if self.exiting {
            return Err(EPIPE);
        }
        let read = FileRead::new(path, self.apps_std, wait)?;
        self.reads.push(Job::Read(read), GFP_KERNEL)?;
        self.pump(fx)
    }

    /// `get_in_bufs2(ctx, offset) -> (bufsLenReq, bufs)`: the rest of a
    /// request `next2` could not carry.
    pub(crate) fn get_in_bufs2(&self, call: &Call, outs: &mut KVec<KVec<u8>>) -> Answer<i32> {
        skel::shape(call, 1, 2)?;
        let prim = skel::prim_in(call, 12)?;
        let (ctx, offset, len) = (
            skel::word(prim, 0)?,
            skel::word(prim, 1)? as usize,
            skel::word(prim, 2)? as usize,
        );
        skel::out_at_least(call, 0, 4)?;
        skel::out_at_least(call, 1, len as u64)?;
        let Some((_, req)) = self.sent.as_ref().filter(|(c, _)| *c == ctx) else {
            return Err(skel::BADPARM);
        };
        let packed = &req.packed[..];
        let from = packed.get(offset..).ok_or(skel::BADPARM)?;
        outs.push(skel::words(&[packed.len() as u32])?, GFP_KERNEL)?;
        outs.push(skel::out(&from[..from.len().min(len)])?, GFP_KERNEL)?;
        Ok(0)
    }

    /// Starts loading a skel for the open `call`; refused once exiting.
    pub(crate) fn load(
        &mut self,
        call: &Call,
        path: &[u8],
        symbol: &[u8],
        fx: &mut Effects<'_>,
    ) -> Answer<Option<i32>> {
        if self.exiting {
            return Err(Refusal::Code(AEE_EBADSTATE));
        }
        let load = Load::new(call.hold()?, path, symbol, self.apps_std)?;
        self.loads.push(load, GFP_KERNEL)?;
        self.pump(fx)?;
        Ok(None)
    }

    /// The process ends: its pending `next2` and waiting opens complete
    /// with `AEE_EBADSTATE` (the listener's stop code), and later `next2`s
    /// are refused at once.
    pub(crate) fn exit(&mut self, fx: &mut Effects<'_>) -> Result {
        self.exiting = true;
        self.sent = None;
        if let Some((held, _)) = self.next2.take() {
            fx.done
                .push(held.complete(fx.smmu, AEE_EBADSTATE, &[]), GFP_KERNEL)?;
        }
        for load in self.loads.drain_all() {
            fx.done
                .push(load.open.complete(fx.smmu, AEE_EBADSTATE, &[]), GFP_KERNEL)?;
        }
        // Dropping the reads tells their askers.
        self.reads.clear();
        Ok(())
    }
}
