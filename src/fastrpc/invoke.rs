// SPDX-License-Identifier: GPL-2.0

//! Marshalling a call into its payload and the results back out.
//!
//! The payload is DMA memory of the calling process's context bank, so the
//! DSP reaches it only through that CB. Inline buffers are copied in (input)
//! and out (output, at most the caller's own length: nothing the DSP writes
//! in the metadata is trusted). Buffers named by a reference (see
//! [`crate::buffer_ref`]) are passed zero copy: a qda buffer already mapped
//! in the caller's CB is held by the call, any other dma-buf is attached to
//! the CB for the call, and the DSP gets the IOVA.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use super::{
    channel::CallMemory,
    layout::{
        self,
        Overlap, //
    },
};
use crate::{
    buffer_ref::BufRef,
    context_bank::ContextBank,
    ffi::{
        dma::CoherentBuf,
        dmabuf::Attachment,
        gem::ObjectRef, //
    },
    gem::Bo,
    topology, //
};

/// One argument of a call, in `[in bufs][out bufs][in handles][out
/// handles]` order.
pub(crate) enum Arg<'a> {
    /// Kernel bytes, copied in.
    In(&'a [u8]),
    /// A kernel output buffer of this many bytes.
    Out(usize),
    /// User memory, copied in.
    UserIn { ptr: u64, len: u64 },
    /// User memory, copied out.
    UserOut { ptr: u64, len: u64 },
    /// User memory at `ptr`, `offset` bytes into buffer `buf`: passed
    /// zero copy.
    Mapped {
        buf: &'a BufRef,
        offset: u64,
        ptr: u64,
        len: u64,
    },
    /// A buffer handle argument: `{fd, offset, len}` and the whole buffer
    /// (`None`: no buffer, as for fd 0/-1 or length 0).
    Handle {
        buf: Option<&'a BufRef>,
        fd: i32,
        offset: u32,
        len: u32,
    },
}

impl Arg<'_> {
    fn len(&self) -> u64 {
        match *self {
            Arg::In(b) => b.len() as u64,
            Arg::Out(n) => n as u64,
            Arg::UserIn { len, .. } | Arg::UserOut { len, .. } | Arg::Mapped { len, .. } => len,
            Arg::Handle { len, .. } => u64::from(len),
        }
    }

    fn inline(&self) -> bool {
        matches!(
            self,
            Arg::In(_) | Arg::Out(_) | Arg::UserIn { .. } | Arg::UserOut { .. }
        )
    }

    /// The caller-side range used for overlap detection: user memory by
    /// address; kernel buffers each in a range of their own.
    fn range(&self, i: usize) -> (u64, u64) {
        let start = match *self {
            Arg::UserIn { ptr, .. } | Arg::UserOut { ptr, .. } => ptr,
            _ => (1u64 << 63) + ((i as u64) << 33),
        };
        (start, start.saturating_add(self.len()))
    }
}

/// What a call keeps alive: the payload, and the buffers the DSP may
/// touch (objects held, dma-bufs attached).
pub(crate) struct Payload {
    buf: Option<CoherentBuf>,
    _held: Held,
    _cb: Arc<ContextBank>,
}

/// The buffers a call or a mapping keeps reachable by the DSP.
#[derive(Default)]
pub(crate) struct Held {
    objs: KVec<ObjectRef<Bo>>,
    attachments: KVec<Attachment>,
}

impl Held {
    /// Makes `buf` reachable in `cb` for as long as `self` lives; returns
    /// its IOVA and size there.
    pub(crate) fn reach(&mut self, cb: &ContextBank, buf: &BufRef) -> Result<(u64, u64)> {
        match buf {
            BufRef::Bo(bo) => {
                let (iova, obj) = in_cb(cb, bo)?;
                self.objs.push(obj, GFP_KERNEL)?;
                Ok((iova, bo.size() as u64))
            }
            BufRef::DmaBuf(d) => {
                let att = d.attach(cb.dev.as_ref())?;
                let (iova, len) = att.contiguous_range()?;
                self.attachments.push(att, GFP_KERNEL)?;
                Ok((iova, len as u64))
            }
        }
    }
}

impl CallMemory for Payload {}

impl Drop for Payload {
    fn drop(&mut self) {
        if let Some(buf) = self.buf.take() {
            self._cb.give_back(buf);
        }
    }
}

/// A marshalled call.
pub(crate) struct Marshalled {
    /// The payload (shared with the channel while in flight).
    pub(crate) payload: Arc<Payload>,
    /// DSP address and page-rounded size of the payload.
    pub(crate) dsp: (u64, u64),
    pos: KVec<u64>,
}

/// Largest payload (metadata and inline data).
const MAX_PAYLOAD: u64 = 64 << 20;

/// The IOVA of `bo` in `cb` and a new reference to it; `-EINVAL` if it
/// is mapped in another context bank.
fn in_cb(cb: &ContextBank, bo: &ObjectRef<Bo>) -> Result<(u64, ObjectRef<Bo>)> {
    if bo.backing().sid != cb.sid {
        crate::ratelimit::dev_ratelimited!(
            info,
            cb.dev.as_ref(),
            "invoke: buffer of SID {} passed to a call on SID {}\n",
            bo.backing().sid,
            cb.sid
        );
        return Err(EINVAL);
    }
    Ok((bo.backing().mem.memory().iova(), bo.clone()))
}

/// Where a call's arguments go in its payload.
struct Plan {
    /// Where each inline argument starts in the payload.
    pos: KVec<u64>,
    /// Bytes of metadata and inline data.
    size: u64,
}

/// Lays out `args`: overlapping inline buffers share bytes, each other
/// one is 128-byte aligned after the metadata; `-E2BIG` past the limit.
fn plan(cb: &ContextBank, args: &[Arg<'_>]) -> Result<Plan> {
    let n = args.len();
    let mut ranges = KVec::with_capacity(n, GFP_KERNEL)?;
    let mut inline = KVec::with_capacity(n, GFP_KERNEL)?;
    let mut lens = KVec::with_capacity(n, GFP_KERNEL)?;
    for (i, a) in args.iter().enumerate() {
        ranges.push(a.range(i), GFP_KERNEL)?;
        inline.push(a.inline(), GFP_KERNEL)?;
        lens.push(a.len(), GFP_KERNEL)?;
    }
    let mut order = KVec::from_elem(0usize, n, GFP_KERNEL)?;
    let mut ov = KVec::from_elem(Overlap::default(), n, GFP_KERNEL)?;
    let mut pos = KVec::from_elem(0u64, n, GFP_KERNEL)?;
    layout::overlaps(&ranges, &inline, &mut order, &mut ov);
    let size = layout::place(n, &lens, &inline, &order, &ov, &mut pos)
        .filter(|&s| s <= MAX_PAYLOAD)
        .ok_or_else(|| {
            crate::ratelimit::dev_ratelimited!(
                info,
                cb.dev.as_ref(),
                "invoke: inline arguments exceed {MAX_PAYLOAD} bytes\n"
            );
            E2BIG
        })?;
    Ok(Plan { pos, size })
}

/// The page entry of a handle argument: its whole buffer, reachable in
/// `cb` (`(0, 0)` for none); `-EINVAL` if `offset + len` leaves it.
fn handle_page(
    cb: &ContextBank,
    held: &mut Held,
    buf: Option<&BufRef>,
    offset: u32,
    len: u32,
) -> Result<(u64, u64)> {
    let Some(buf) = buf else {
        return Ok((0, 0));
    };
    let (iova, size) = held.reach(cb, buf)?;
    if u64::from(offset) + u64::from(len) > size {
        return Err(EINVAL);
    }
    Ok((topology::dsp_addr(cb.sid, iova).ok_or(EOVERFLOW)?, size))
}

/// The page address of a zero-copy argument `offset` bytes into `buf`;
/// `-EINVAL` if `offset + len` leaves it.
fn mapped_page(
    cb: &ContextBank,
    held: &mut Held,
    buf: &BufRef,
    offset: u64,
    len: u64,
) -> Result<u64> {
    let (iova, size) = held.reach(cb, buf)?;
    if offset.checked_add(len).ok_or(EINVAL)? > size {
        return Err(EINVAL);
    }
    topology::dsp_addr(cb.sid, iova + (offset & !(layout::PAGE - 1))).ok_or(EOVERFLOW)
}

/// Writes inline argument `i` (of `n`) at `at` in the payload `buf` (DSP
/// address `base`): its metadata into `meta`, and its bytes into `buf` if
/// it is an input.
fn write_inline(
    (meta, buf): (&mut [u8], &mut CoherentBuf),
    (i, n): (usize, usize),
    a: &Arg<'_>,
    at: u64,
    base: u64,
) -> Result {
    let (pv, len) = (base + at, a.len());
    let page = (pv & !(layout::PAGE - 1), layout::page_span(pv, len));
    layout::write_buf(meta, n, i, pv, len, page);
    match *a {
        Arg::In(b) => buf.write(at as usize, b),
        Arg::UserIn { ptr, len } => buf.write_from_user(at as usize, ptr, len as usize),
        _ => Ok(()),
    }
}

/// Writes argument `i` of a call: its metadata into `meta`, inline input
/// bytes into the payload `buf` (DSP address `base`); zero-copy buffers
/// are made reachable in `cb` through `held`.
fn write_arg(
    (meta, buf): (&mut [u8], &mut CoherentBuf),
    (i, n): (usize, usize),
    a: &Arg<'_>,
    (at, base): (u64, u64),
    cb: &ContextBank,
    held: &mut Held,
) -> Result {
    match *a {
        Arg::Handle {
            buf,
            fd,
            offset,
            len,
        } => {
            let page = handle_page(cb, held, buf, offset, len)?;
            layout::write_handle(meta, n, i, fd, offset, len, page);
        }
        Arg::Mapped {
            buf,
            offset,
            ptr,
            len,
        } => {
            let page = mapped_page(cb, held, buf, offset, len)?;
            layout::write_buf(meta, n, i, ptr, len, (page, layout::page_span(ptr, len)));
        }
        _ if a.len() == 0 => layout::write_buf(meta, n, i, 0, 0, (0, 0)),
        _ => write_inline((meta, buf), (i, n), a, at, base)?,
    }
    Ok(())
}

/// Builds the payload of a call with `args` for a process on `cb`.
pub(crate) fn marshal(cb: &Arc<ContextBank>, args: &[Arg<'_>]) -> Result<Marshalled> {
    let plan = plan(cb, args)?;
    let mut held = Held::default();
    // Every call has a payload, even without arguments: the fd list,
    // CRC list and poll word are there (as drivers/misc/fastrpc.c sends).
    let alloc = layout::align_up(plan.size, layout::PAGE) as usize;
    let mut buf = cb.take_payload(alloc)?;
    let base = topology::dsp_addr(cb.sid, buf.dma_addr()).ok_or(EOVERFLOW)?;
    // The metadata is built in kernel memory and copied in whole.
    let mut meta = KVec::from_elem(0u8, layout::metalen(args.len()), GFP_KERNEL)?;
    for (i, a) in args.iter().enumerate() {
        let at = (plan.pos[i], base);
        write_arg((&mut meta, &mut buf), (i, args.len()), a, at, cb, &mut held)?;
    }
    buf.write(0, &meta)?;
    Ok(Marshalled {
        payload: Arc::new(
            Payload {
                buf: Some(buf),
                _held: held,
                _cb: cb.clone(),
            },
            GFP_KERNEL,
        )?,
        dsp: (base, alloc as u64),
        pos: plan.pos,
    })
}

impl Marshalled {
    /// Copies the inline output buffers back: user ones to user memory,
    /// kernel ones appended to `out` in argument order. Lengths are the
    /// caller's, never what the DSP wrote in the metadata.
    pub(crate) fn unmarshal(&self, args: &[Arg<'_>], out: &mut KVec<u8>) -> Result {
        let Some(buf) = self.payload.buf.as_ref() else {
            return Ok(());
        };
        for (i, a) in args.iter().enumerate() {
            let at = self.pos[i] as usize;
            match *a {
                Arg::UserOut { ptr, len } if len > 0 => buf.read_to_user(at, ptr, len as usize)?,
                Arg::Out(n) if n > 0 => {
                    let mut b = KVec::from_elem(0u8, n, GFP_KERNEL)?;
                    buf.read(at, &mut b)?;
                    out.extend_from_slice(&b, GFP_KERNEL)?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}
