// SPDX-License-Identifier: GPL-2.0

//! Remote calls (`INVOKE`), shared by the accel and the legacy UAPI: the
//! argument array is read from the caller, buffer references resolved,
//! the call marshalled, sent and its results copied back.

use core::mem::size_of;
use kernel::{
    device::Device,
    prelude::*,
    sync::atomic::Relaxed,
    transmute::FromBytes,
    uaccess::{
        UserPtr,
        UserSlice,
        UserSliceReader, //
    },
};

use crate::{
    buffer::reference::{
        Resolve,
        Resolved, //
    },
    dsp::{
        client::Client,
        Dsp, //
    },
    fastrpc::{
        channel::{
            self,
            Request,
            Wait, //
        },
        marshal::{
            self,
            Arg, //
        },
        plan::{
            self,
            PlanError, //
        },
        process,
        retval,
        scalars::Scalars, //
    },
};

/// How a frontend's UAPI lays out one argument of a call in the caller's
/// array (both lay it out as `struct fastrpc_invoke_args`).
pub(crate) trait ArgLayout: FromBytes {
    /// The argument's pointer, length and buffer reference.
    fn decode(&self) -> (u64, u64, i32);
}

/// One argument: pointer, length, buffer reference.
fn read_arg<L: ArgLayout>(reader: &mut UserSliceReader) -> Result<(u64, u64, i32)> {
    Ok(reader.read::<L>()?.decode())
}

/// One argument as read: `(ptr, len, fd)` and its resolved buffer.
type ReadArg = ((u64, u64, i32), Option<Resolved>);

/// Reads the arguments of a call, checks the buffers' ranges and
/// resolves their buffer references with `r`.
fn read_args<L: ArgLayout>(
    dev: &Device,
    r: &impl Resolve,
    sc: Scalars,
    ptr: u64,
) -> Result<KVec<ReadArg>> {
    let n = sc.len();
    let ptr = usize::try_from(ptr).map_err(|_| EFAULT)?;
    let mut reader = UserSlice::new(UserPtr::from_addr(ptr), n * size_of::<L>()).reader();
    let mut args = KVec::with_capacity(n, GFP_KERNEL)?;
    for i in 0..n {
        let (ptr, len, fd) = read_arg::<L>(&mut reader)?;
        if i < sc.buffers() {
            check_range(dev, i, (ptr, len))?;
        }
        // Buffers with a reference and bytes pass zero copy (the pointer
        // must lie in the buffer); handle arguments name a buffer when
        // they have one and bytes (fd 0/-1 or no length: none, as
        // drivers/misc/fastrpc.c).
        let res = match (fd, len) {
            (1.., 1..) if i < sc.buffers() => Some(r.resolve(fd, ptr, "invoke")?),
            (..=-2 | 1.., 1..) => Some(r.resolve(fd, 0, "invoke")?),
            _ => None,
        };
        args.push(((ptr, len, fd), res), GFP_KERNEL)?;
    }
    Ok(args)
}

/// A refused argument: its errno, with a rate-limited line.
fn refuse(dev: &Device, i: usize, (ptr, len): (u64, u64), why: &str, e: Error) -> Error {
    crate::ratelimit::dev_ratelimited!(
        debug,
        dev,
        "invoke: argument {i} ({len:#x} bytes at {ptr:#x}) refused: {why}\n"
    );
    e
}

/// Checks the range of buffer argument `i` where it is decoded:
/// `-EFAULT` if it wraps past the top of the address space.
fn check_range(dev: &Device, i: usize, (ptr, len): (u64, u64)) -> Result {
    plan::user_end(ptr, len)
        .map(|_| ())
        .map_err(|_| refuse(dev, i, (ptr, len), "range wraps", EFAULT))
}

/// Checks the length of inline buffer argument `i`: `-E2BIG` if it is
/// longer than a payload can be.
fn check_inline(dev: &Device, i: usize, (ptr, len): (u64, u64)) -> Result {
    plan::inline_len(len)
        .map(|_| ())
        .map_err(|_: PlanError| refuse(dev, i, (ptr, len), "too long", E2BIG))
}

/// The marshalling of argument `i` of `sc`, read as `(ptr, len, fd)`.
fn to_arg<'a>(
    dev: &Device,
    (sc, i): (Scalars, usize),
    (ptr, len, fd): (u64, u64, i32),
    r: Option<&'a Resolved>,
) -> Result<Arg<'a>> {
    let fail = |why, e| refuse(dev, i, (ptr, len), why, e);
    if i >= sc.buffers() {
        return Ok(Arg::Handle {
            buf: r.map(|r| &r.buf),
            fd,
            offset: u32::try_from(ptr).map_err(|_| fail("handle offset", EINVAL))?,
            len: u32::try_from(len).map_err(|_| fail("handle length", EINVAL))?,
        });
    }
    if r.is_none() {
        check_inline(dev, i, (ptr, len))?;
    }
    Ok(match r {
        Some(r) => Arg::Mapped {
            buf: &r.buf,
            offset: r.offset,
            ptr,
            len,
        },
        None if i < sc.inbufs() => Arg::UserIn { ptr, len },
        None => Arg::UserOut { ptr, len },
    })
}

/// A remote call, as a frontend decoded it.
#[derive(Clone, Copy)]
pub(crate) struct Call {
    /// The remote handle.
    pub(crate) handle: u32,
    /// The method and its argument counts (see [`Scalars`]).
    pub(crate) sc: u32,
    /// User address of the argument array (see [`ArgLayout`]).
    pub(crate) args: u64,
}

/// Makes call `args` for client `c`, whose buffer references `r`
/// resolves and whose argument array is laid out as `L`. Returns the
/// remote method's return value; handle 1 (process control) is the
/// kernel's.
pub(crate) fn call<L: ArgLayout>(
    dev: &Dsp,
    c: &Client,
    r: &impl Resolve,
    args: &Call,
) -> Result<u32> {
    if args.handle == process::INIT_HANDLE {
        return Err(EPERM);
    }
    let s = c.session();
    let pd = c.pd()?;
    let sc = Scalars(args.sc);
    let read = read_args::<L>(dev.channel.device(), r, sc, args.args)?;
    let mut list = KVec::with_capacity(sc.len(), GFP_KERNEL)?;
    for (i, (a, res)) in read.iter().enumerate() {
        let arg = to_arg(dev.channel.device(), (sc, i), *a, res.as_ref())?;
        list.push(arg, GFP_KERNEL)?;
    }
    let m = marshal::marshal(s.cb(), &list)?;
    let req = Request {
        client_id: s.client_id(),
        pd,
        handle: args.handle,
        sc: sc.0,
        payload: m.dsp,
        wait: Wait::Interruptible(match c.channel.user_timeout_ms.load(Relaxed) {
            0 => None,
            ms => Some(ms),
        }),
        user: true,
        release_of: None,
        owner: c.owner,
    };
    let res = c
        .channel
        .call(&req, m.payload.clone())
        .map_err(Error::from)
        .inspect_err(|&e| {
            if e == EAGAIN {
                crate::ratelimit::dev_ratelimited!(
                    warn,
                    dev.channel.device(),
                    "{}: call refused: {} calls orphaned by callers that gave up (limit {})\n",
                    dev.domain.label(),
                    c.channel.orphans().0,
                    channel::ORPHAN_LIMIT
                );
            }
        })?;
    m.unmarshal(&list, &mut KVec::new())?;
    retval::user_result(res).map_err(|e| Error::from_errno(-e))
}
