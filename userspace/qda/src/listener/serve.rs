//! The listener loop: wait in `next2` for a reverse call (answering the
//! previous one at the same time), fetch the rest of a request that did
//! not fit with `get_in_bufs2`, run the call on the apps-side modules,
//! repeat until the DSP says its process is gone or a call fails.
//!
//! The request buffer starts empty and grows to the next multiple of
//! 4 KiB of a request that does not fit (so the first request always
//! comes through `get_in_bufs2`), as the FastRPC library's listener does.

use std::{
    io,
    sync::atomic::{AtomicBool, Ordering},
};

use super::{
    aee,
    iface::{Channel, Iface, Next, Reply},
    modules::Modules,
    packed::{pack_response, response_len, unpack_request},
    skel::{handles, in_bufs, out_bufs, Call},
};

/// Granule of the request buffer.
const GRANULE: usize = 4096;

/// Why the listener loop ended.
#[derive(Debug)]
pub enum End {
    /// `next2` answered DSP `AEE_EBADSTATE` (0x8000040D): the DSP process
    /// exited. The normal end.
    ProcessExited,
    /// `next2` failed twice with this DSP code (the second time when told
    /// of the first).
    Remote(i32),
    /// The invoke itself failed (e.g. `ENODEV` once the DSP is gone).
    Os(io::Error),
}

impl End {
    fn from_code(code: i32) -> Self {
        if code == aee::DSP_EBADSTATE {
            Self::ProcessExited
        } else {
            Self::Remote(code)
        }
    }
}

/// The loop's state between two `next2` calls.
struct Loop<'a, C: Channel> {
    ch: &'a C,
    iface: Iface,
    modules: &'a mut Modules,
    ctx: u32,
    result: i32,
    request: Vec<u8>,
    response: Vec<u8>,
}

/// Serves reverse calls on `ch` through `iface` until the DSP process
/// exits or a call fails; `exiting` tells it that the process is being
/// torn down (failing calls then answer `AEE_EBADSTATE`). Returns how many
/// calls were served and why the loop ended.
pub fn serve(
    ch: &impl Channel,
    iface: Iface,
    modules: &mut Modules,
    exiting: &AtomicBool,
) -> (u64, End) {
    let mut l = Loop {
        ch,
        iface,
        modules,
        ctx: 0,
        result: -1,
        request: Vec::new(),
        response: Vec::new(),
    };
    let mut served = 0;
    loop {
        let next = match l.wait() {
            Ok(n) => n,
            Err(end) => return (served, end),
        };
        l.ctx = next.ctx;
        l.result = l.run(next);
        if l.result != 0 {
            l.response.clear();
            if exiting.load(Ordering::Acquire) {
                l.result = aee::EBADSTATE;
            }
        }
        served += 1;
    }
}

/// The errno of `e` as a call result.
fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(aee::ERPC)
}

impl<C: Channel> Loop<'_, C> {
    /// Answers the previous call and waits for the next one.
    fn wait(&mut self) -> Result<Next, End> {
        loop {
            let reply = Reply {
                ctx: self.ctx,
                result: self.result,
                bufs: if self.result == 0 {
                    &self.response
                } else {
                    &[]
                },
            };
            match self.iface.next2(self.ch, reply, &mut self.request) {
                Err(e) => return Err(End::Os(e)),
                Ok(Ok(n)) => return Ok(n),
                Ok(Err(aee::EINTERRUPTED)) => {
                    // The DSP lost its contexts (process migration): start over.
                    self.ctx = 0;
                    self.result = -1;
                }
                Ok(Err(code)) if code == aee::DSP_EBADSTATE => return Err(End::ProcessExited),
                Ok(Err(code)) => return self.retry(code),
            }
        }
    }

    /// After `next2` failed with `code`: one more `next2` telling the DSP.
    fn retry(&mut self, code: i32) -> Result<Next, End> {
        let reply = Reply {
            ctx: self.ctx,
            result: code,
            bufs: &[],
        };
        match self.iface.next2(self.ch, reply, &mut self.request) {
            Err(e) => Err(End::Os(e)),
            Ok(Ok(n)) => Ok(n),
            Ok(Err(code)) => Err(End::from_code(code)),
        }
    }

    /// Runs reverse call `next`; its result.
    fn run(&mut self, next: Next) -> i32 {
        match self.try_run(next) {
            Ok(r) => r,
            Err(e) => e,
        }
    }

    fn try_run(&mut self, next: Next) -> Result<i32, i32> {
        let len = self.fetch(next)?;
        if handles(next.sc) > 0 {
            return Err(aee::EBADPARM);
        }
        let req = unpack_request(&self.request[..len], in_bufs(next.sc), out_bufs(next.sc))?;
        response_len(&req.out_lens).ok_or(aee::EBADSIZE)?;
        let mut outs = Vec::with_capacity(req.out_lens.len());
        for &n in &req.out_lens {
            outs.push(zeroed(n as usize)?);
        }
        let mut call = Call {
            sc: next.sc,
            ins: &req.ins,
            outs: &mut outs,
        };
        let r = self.modules.invoke(next.handle, &mut call);
        if r == 0 {
            self.response = pack_response(&outs);
        }
        Ok(r)
    }

    /// Makes sure the whole request of `next` is in the buffer; its length.
    fn fetch(&mut self, next: Next) -> Result<usize, i32> {
        let len = next.bufs_len_req as usize;
        if next.bufs_len_req > (i32::MAX / 2) as u32 {
            return Err(aee::EBADSIZE);
        }
        let old = self.request.len();
        if len <= old {
            return Ok(len);
        }
        let new = len.div_ceil(GRANULE) * GRANULE;
        self.request
            .try_reserve_exact(new - old)
            .map_err(|_| aee::ENORPCMEMORY)?;
        self.request.resize(new, 0);
        let got = self
            .iface
            .get_in_bufs2(self.ch, next.ctx, old as u32, &mut self.request[old..])
            .map_err(|e| errno(&e))??;
        if got as usize > new {
            return Err(aee::EBADPARM);
        }
        Ok(len)
    }
}

/// `n` zero bytes, or `AEE_ENORPCMEMORY`.
fn zeroed(n: usize) -> Result<Vec<u8>, i32> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| aee::ENORPCMEMORY)?;
    v.resize(n, 0);
    Ok(v)
}
