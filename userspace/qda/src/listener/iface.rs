//! The DSP's listener interface, as the apps side calls it: `init2`,
//! `next2` and `get_in_bufs2` on `adsp_listener1` (constant handle 7) or
//! its non-domain predecessor `adsp_listener` (handle 3), and the process
//! exit call of `adsp_current_process1` (handle 4).
//!
//! The calls go through a [`Channel`], which a [`crate::Device`] provides
//! with inline arguments (the FastRPC library passes the two big buffers
//! as dma-bufs; inline copies are equivalent on the wire to the DSP).

use std::io;

use crate::{
    rpc::{scalars, Arg},
    Device,
};

/// Something that issues remote calls with inline buffers: a
/// [`Device`], or a test double.
pub trait Channel {
    /// Calls method `sc` of remote `handle`; on `Ok`, the DSP's result
    /// word (outputs are written only when it is 0).
    fn call(&self, handle: u32, sc: u32, ins: &[&[u8]], outs: &mut [&mut [u8]]) -> io::Result<i32>;
}

impl Channel for Device {
    fn call(&self, handle: u32, sc: u32, ins: &[&[u8]], outs: &mut [&mut [u8]]) -> io::Result<i32> {
        let mut args: Vec<Arg> = ins.iter().map(|b| Arg::input(b)).collect();
        args.extend(outs.iter_mut().map(|b| Arg::output(b)));
        self.invoke(handle, sc, &mut args)
    }
}

/// One of the two listener interfaces: its handle and method ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iface {
    /// The constant remote handle.
    pub handle: u32,
    init2: u32,
    next2: u32,
    get_in_bufs2: u32,
}

/// `adsp_listener1`, tried first.
pub const LISTENER1: Iface = Iface {
    handle: 7,
    init2: 5,
    next2: 6,
    get_in_bufs2: 7,
};

/// `adsp_listener`, the fallback.
pub const LISTENER: Iface = Iface {
    handle: 3,
    init2: 3,
    next2: 4,
    get_in_bufs2: 5,
};

/// `adsp_current_process1`'s constant handle and its `exit` method.
pub const CURRENT_PROCESS1: u32 = 4;
const EXIT: u32 = 2;

/// A reverse call announced by `next2`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Next {
    /// The DSP's context for this call, echoed back with the result.
    pub ctx: u32,
    /// The apps-side module handle (0: `apps_remotectl`).
    pub handle: u32,
    /// The call's scalars word.
    pub sc: u32,
    /// Size of the whole packed request.
    pub bufs_len_req: u32,
}

/// Packs little-endian words.
pub fn words<const N: usize>(w: [u32; N]) -> Vec<u8> {
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Word `i` of `b`.
pub fn word(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

/// The previous call's outcome, sent with the next `next2`.
#[derive(Clone, Copy, Debug)]
pub struct Reply<'a> {
    /// The context of the call answered (0 at first).
    pub ctx: u32,
    /// Its result (-1 at first).
    pub result: i32,
    /// Its packed outputs (empty unless `result` is 0).
    pub bufs: &'a [u8],
}

impl Iface {
    /// `init2()`.
    pub fn init2(&self, ch: &impl Channel) -> io::Result<i32> {
        ch.call(self.handle, scalars(self.init2, 0, 0), &[], &mut [])
    }

    /// `next2(reply) -> Next`, with `bufs` receiving the start of the
    /// request. `Ok(Err(code))`: the DSP's error.
    pub fn next2(
        &self,
        ch: &impl Channel,
        reply: Reply<'_>,
        bufs: &mut [u8],
    ) -> io::Result<Result<Next, i32>> {
        let prim_in = words([
            reply.ctx,
            reply.result as u32,
            reply.bufs.len() as u32,
            bufs.len() as u32,
        ]);
        let mut prim_out = [0u8; 16];
        let r = ch.call(
            self.handle,
            scalars(self.next2, 2, 2),
            &[&prim_in, reply.bufs],
            &mut [&mut prim_out, bufs],
        )?;
        Ok(match r {
            0 => Ok(Next {
                ctx: word(&prim_out, 0),
                handle: word(&prim_out, 1),
                sc: word(&prim_out, 2),
                bufs_len_req: word(&prim_out, 3),
            }),
            e => Err(e),
        })
    }

    /// `get_in_bufs2(ctx, offset) -> bufsLenReq`: the request from byte
    /// `offset` on, into `bufs`.
    pub fn get_in_bufs2(
        &self,
        ch: &impl Channel,
        ctx: u32,
        offset: u32,
        bufs: &mut [u8],
    ) -> io::Result<Result<u32, i32>> {
        let prim_in = words([ctx, offset, bufs.len() as u32]);
        let mut prim_out = [0u8; 4];
        let r = ch.call(
            self.handle,
            scalars(self.get_in_bufs2, 1, 2),
            &[&prim_in],
            &mut [&mut prim_out, bufs],
        )?;
        Ok(if r == 0 {
            Ok(word(&prim_out, 0))
        } else {
            Err(r)
        })
    }
}

/// `adsp_current_process1_exit()`: ends the DSP process.
pub fn exit(ch: &impl Channel) -> io::Result<i32> {
    ch.call(CURRENT_PROCESS1, scalars(EXIT, 0, 0), &[], &mut [])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Records the calls and answers with canned outputs.
    #[derive(Default)]
    struct Log(RefCell<Vec<Logged>>);

    /// Handle, scalars, inputs and output sizes of one call.
    type Logged = (u32, u32, Vec<Vec<u8>>, Vec<usize>);

    impl Channel for Log {
        fn call(
            &self,
            handle: u32,
            sc: u32,
            ins: &[&[u8]],
            outs: &mut [&mut [u8]],
        ) -> io::Result<i32> {
            let lens = outs.iter().map(|o| o.len()).collect();
            self.0
                .borrow_mut()
                .push((handle, sc, ins.iter().map(|b| b.to_vec()).collect(), lens));
            if let Some(o) = outs.first_mut() {
                for (i, b) in o.iter_mut().enumerate() {
                    *b = i as u8 + 1;
                }
            }
            Ok(0)
        }
    }

    #[test]
    fn scalars_words_match_the_library() {
        let log = Log::default();
        LISTENER1.init2(&log).unwrap();
        LISTENER.init2(&log).unwrap();
        let mut buf = [0u8; 32];
        let reply = Reply {
            ctx: 0x11,
            result: -1,
            bufs: b"abc",
        };
        let n = LISTENER1.next2(&log, reply, &mut buf).unwrap().unwrap();
        assert_eq!(
            n,
            Next {
                ctx: 0x0403_0201,
                handle: 0x0807_0605,
                sc: 0x0c0b_0a09,
                bufs_len_req: 0x100f_0e0d,
            }
        );
        LISTENER.next2(&log, reply, &mut buf).unwrap().unwrap();
        let got = LISTENER1
            .get_in_bufs2(&log, 9, 4096, &mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(got, 0x0403_0201);
        LISTENER
            .get_in_bufs2(&log, 9, 4096, &mut buf)
            .unwrap()
            .unwrap();
        exit(&log).unwrap();
        let calls = log.0.borrow();
        let hs: Vec<(u32, u32)> = calls.iter().map(|c| (c.0, c.1)).collect();
        assert_eq!(
            hs,
            vec![
                (7, 0x0500_0000),
                (3, 0x0300_0000),
                (7, 0x0602_0200),
                (3, 0x0402_0200),
                (7, 0x0701_0200),
                (3, 0x0501_0200),
                (4, 0x0200_0000),
            ]
        );
        // next2: primIn {prevCtx, prevResult, prevbufsLen, bufsLen}, then
        // the previous outputs; outputs primROut (16) and the buffer.
        assert_eq!(
            calls[2].2,
            vec![words([0x11, u32::MAX, 3, 32]), b"abc".to_vec()]
        );
        assert_eq!(calls[2].3, vec![16, 32]);
        // get_in_bufs2: primIn {ctx, offset, bufsLen}; primROut (4).
        assert_eq!(calls[4].2, vec![words([9, 4096, 32])]);
        assert_eq!(calls[4].3, vec![4, 32]);
    }
}
