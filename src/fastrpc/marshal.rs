// SPDX-License-Identifier: GPL-2.0

//! Marshalling a call into its payload and the results back out.
//!
//! The payload is DMA memory of the calling process's context bank, so the
//! DSP reaches it only through that CB. Inline buffers are copied in (input)
//! and out (output, at most the caller's own length: nothing the DSP writes
//! in the metadata is trusted). Buffers named by a reference (see
//! [`crate::buffer::reference`]) are passed zero copy: a qda buffer already mapped
//! in the caller's CB is held by the call, any other dma-buf is attached to
//! the CB for the call, and the DSP gets the IOVA.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use super::{
    channel::CallMemory,
    layout,
    plan::{
        self,
        Placed,
        PlanError,
        Span, //
    },
};
use crate::{
    buffer::{
        bo::Bo,
        reference::BufRef, //
    },
    ffi::{
        dma::CoherentBuf,
        dmabuf::{
            Attachment,
            DmaBuf, //
        },
        gem::ObjectRef, //
    },
    platform::context_bank::ContextBank, //
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

    /// The argument as the payload planner sees it.
    fn span(&self) -> Span {
        match *self {
            Arg::In(_) | Arg::Out(_) => Span::Kernel { len: self.len() },
            Arg::UserIn { ptr, len } | Arg::UserOut { ptr, len } => Span::User { ptr, len },
            Arg::Mapped { .. } | Arg::Handle { .. } => Span::Direct,
        }
    }
}

/// What a call keeps alive: the payload, and the buffers the DSP may
/// touch (objects held, dma-bufs attached).
pub(crate) struct Payload {
    buf: Option<CoherentBuf>,
    _held: HeldBuffers,
    _cb: Arc<ContextBank>,
}

/// The buffers a call or a mapping keeps reachable by the DSP.
#[derive(Default)]
pub(crate) struct HeldBuffers {
    objs: KVec<ObjectRef<Bo>>,
    attachments: KVec<Arc<Attachment>>,
}

impl HeldBuffers {
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
                // One attachment per dma-buf, however many arguments name
                // it (as drivers/misc/fastrpc.c maps an fd once per call).
                if let Some(att) = self.attachment_of(d) {
                    let (iova, len) = att.contiguous_range()?;
                    return Ok((iova, len as u64));
                }
                let att = Arc::new(d.attach(cb.dev.as_ref())?, GFP_KERNEL)?;
                let (iova, len) = att.contiguous_range()?;
                self.attachments.push(att, GFP_KERNEL)?;
                Ok((iova, len as u64))
            }
        }
    }
}

impl HeldBuffers {
    /// The attachment `self` holds of `d`, if any.
    pub(crate) fn attachment_of(&self, d: &DmaBuf) -> Option<Arc<Attachment>> {
        let same = |a: &&Arc<Attachment>| a.dma_buf().as_raw() == d.as_raw();
        self.attachments.iter().find(same).cloned()
    }

    /// Holds `att` (an attachment to the same context bank) too, so that
    /// [`HeldBuffers::reach`] uses it instead of attaching its dma-buf again.
    pub(crate) fn adopt(&mut self, att: Arc<Attachment>) -> Result {
        Ok(self.attachments.push(att, GFP_KERNEL)?)
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

/// The IOVA of `bo` in `cb` and a new reference to it; `-EINVAL` if it
/// is mapped in another context bank.
fn in_cb(cb: &ContextBank, bo: &ObjectRef<Bo>) -> Result<(u64, ObjectRef<Bo>)> {
    if bo.backing().window.sid != cb.sid {
        crate::ratelimit::dev_ratelimited!(
            debug,
            cb.dev.as_ref(),
            "invoke: buffer of SID {} passed to a call on SID {}\n",
            bo.backing().window.sid,
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

/// The errno of a refused plan, with a rate-limited line: `-EFAULT` for
/// a range past the top of the address space, `-E2BIG` past the limit.
fn plan_error(cb: &ContextBank, e: PlanError) -> Error {
    crate::ratelimit::dev_ratelimited!(
        debug,
        cb.dev.as_ref(),
        "invoke: inline arguments refused ({e:?}, limit {} bytes)\n",
        plan::MAX_PAYLOAD
    );
    match e {
        PlanError::Wraps => EFAULT,
        PlanError::TooBig => E2BIG,
    }
}

/// Lays out `args` (see [`plan`]).
fn lay_out(cb: &ContextBank, args: &[Arg<'_>]) -> Result<Plan> {
    let n = args.len();
    let mut spans = KVec::with_capacity(n, GFP_KERNEL)?;
    for a in args {
        spans.push(a.span(), GFP_KERNEL)?;
    }
    let mut order = KVec::from_elem(0usize, n, GFP_KERNEL)?;
    let mut placed = KVec::from_elem(Placed::default(), n, GFP_KERNEL)?;
    let size = plan::plan(&spans, &mut order, &mut placed).map_err(|e| plan_error(cb, e))?;
    let mut pos = KVec::with_capacity(n, GFP_KERNEL)?;
    for p in placed.iter() {
        pos.push(p.pos, GFP_KERNEL)?;
    }
    Ok(Plan { pos, size })
}

/// `-EINVAL` with a rate-limited line: `offset + len` bytes of an
/// argument leave its buffer of `size` bytes.
fn outside(cb: &ContextBank, offset: u64, len: u64, size: u64) -> Error {
    crate::ratelimit::dev_ratelimited!(
        debug,
        cb.dev.as_ref(),
        "invoke: {len:#x} bytes at offset {offset:#x} leave a buffer of {size:#x} bytes\n"
    );
    EINVAL
}

/// The page entry of a handle argument: its whole buffer, reachable in
/// `cb` (`(0, 0)` for none); `-EINVAL` if `offset + len` leaves it.
fn handle_page(
    cb: &ContextBank,
    held: &mut HeldBuffers,
    buf: Option<&BufRef>,
    offset: u32,
    len: u32,
) -> Result<(u64, u64)> {
    let Some(buf) = buf else {
        return Ok((0, 0));
    };
    let (iova, size) = held.reach(cb, buf)?;
    let (offset, len) = (u64::from(offset), u64::from(len));
    if offset.checked_add(len).is_none_or(|end| end > size) {
        return Err(outside(cb, offset, len, size));
    }
    Ok((cb.window().dsp_addr(iova).ok_or(EOVERFLOW)?, size))
}

/// The page address of a zero-copy argument `offset` bytes into `buf`;
/// `-EINVAL` if `offset + len` leaves it.
fn mapped_page(
    cb: &ContextBank,
    held: &mut HeldBuffers,
    buf: &BufRef,
    offset: u64,
    len: u64,
) -> Result<u64> {
    let (iova, size) = held.reach(cb, buf)?;
    if offset.checked_add(len).is_none_or(|end| end > size) {
        return Err(outside(cb, offset, len, size));
    }
    let page = iova
        .checked_add(offset & !(layout::PAGE - 1))
        .ok_or(EOVERFLOW)?;
    cb.window().dsp_addr(page).ok_or(EOVERFLOW)
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
    let (pv, len) = (base.checked_add(at).ok_or(EOVERFLOW)?, a.len());
    let page = layout::page_entry(pv, len).ok_or(EOVERFLOW)?;
    layout::write_buf(meta, n, i, pv, len, page);
    let at = usize::try_from(at)?;
    match *a {
        Arg::In(b) => buf.write(at, b),
        Arg::UserIn { ptr, len } => buf.write_from_user(at, ptr, usize::try_from(len)?),
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
    held: &mut HeldBuffers,
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
            let span = layout::page_span(ptr, len).ok_or(EFAULT)?;
            let page = mapped_page(cb, held, buf, offset, len)?;
            layout::write_buf(meta, n, i, ptr, len, (page, span));
        }
        _ if a.len() == 0 => layout::write_buf(meta, n, i, 0, 0, (0, 0)),
        _ => write_inline((meta, buf), (i, n), a, at, base)?,
    }
    Ok(())
}

/// Builds the payload of a call with `args` for a process on `cb`.
pub(crate) fn marshal(cb: &Arc<ContextBank>, args: &[Arg<'_>]) -> Result<Marshalled> {
    let plan = lay_out(cb, args)?;
    let mut held = HeldBuffers::default();
    // Every call has a payload, even without arguments: the fd list,
    // CRC list and poll word are there (as drivers/misc/fastrpc.c sends).
    let alloc = layout::align_up(plan.size, layout::PAGE).ok_or(E2BIG)?;
    let alloc = usize::try_from(alloc)?;
    let mut buf = cb.take_payload(alloc)?;
    let base = cb.window().dsp_addr(buf.dma_addr()).ok_or(EOVERFLOW)?;
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
            let at = usize::try_from(self.pos[i])?;
            match *a {
                Arg::UserOut { ptr, len } if len > 0 => {
                    buf.read_to_user(at, ptr, usize::try_from(len)?)?
                }
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
