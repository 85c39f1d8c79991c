// SPDX-License-Identifier: GPL-2.0

//! Process control on remote handle 1 (kernel-only): attach to the root
//! PD, create a dynamic user PD, map and unmap, release it on the last
//! close.
//!
//! Kernel calls wait for the answer, a fatal signal or 10 s (a release:
//! the answer or 10 s, whatever the signals). Memory a request hands to
//! the DSP (init memory, map pages or buffers, a released process) goes
//! with the call: if the caller gives up after sending
//! ([`CallError::Unanswered`]), it stays with the orphaned slot until the
//! DSP answers, and what the DSP may keep using after its answer (a
//! process it may have started, a mapping it may have made) stays with the
//! process, marked unanswered, until the process's release is confirmed.

use kernel::{
    device::Device,
    prelude::*,
    sync::Arc, //
};

use super::channel::{
    CallError,
    CallMemory,
    Wait, //
};

use super::{
    channel::{
        Channel,
        Request, //
    },
    marshal::{
        self,
        Arg, //
    },
    proc_msgs::{
        method,
        CapsReq,
        ClientReq,
        CreateReq,
        CreateStaticReq,
        MapRsp,
        MemMapReq,
        MemUnmapReq,
        MmapReq,
        MunmapReq,
        PhyPage,
        CAPS_METHOD,
        UTILITIES_HANDLE, //
    },
    scalars::Scalars,
    wire, //
};
use crate::{
    buffer::reference::{
        BufRef,
        Resolved, //
    },
    ffi::{
        dma::CoherentBuf,
        dmabuf::{
            Attachment,
            DmaBuf, //
        },
    },
    platform::{
        context_bank::ContextBank,
        remote_heap::HeapInfo, //
    },
};

pub(crate) use super::proc_msgs::INIT_HANDLE;
/// Largest shell image.
pub(crate) const INIT_FILELEN_MAX: u32 = 2 << 20;
/// Timeout of kernel-originated calls.
const KERNEL_CALL_TIMEOUT_MS: u32 = 10_000;

/// A DSP process of a session, alive until released.
pub(crate) struct Process {
    /// PD type of the process.
    pub(crate) pd: u32,
    /// Whether the DSP answered the start: a start the caller gave up
    /// leaves an unconfirmed process, which the DSP may have started, to be
    /// released on close (no other call may use it).
    pub(crate) confirmed: bool,
    /// Init memory given to a created process.
    _init_mem: Option<Arc<CoherentBuf>>,
    /// Mappings made on the DSP for the process, and the memory of maps
    /// the caller gave up on (unanswered records).
    maps: KVec<RemoteMap>,
    /// Records on their way (a map or an unmap being sent), for which
    /// `maps` keeps room: `maps.capacity() >= maps.len() + in_flight`.
    in_flight: usize,
}

impl CallMemory for CoherentBuf {}

/// Two pieces of call memory kept together.
struct Both {
    _payload: Arc<dyn CallMemory>,
    _named: Arc<dyn CallMemory>,
}

impl CallMemory for Both {}

/// A kernel call that did not succeed: the errno, and what the DSP may
/// still use because the request was sent and not (readably) answered:
/// to keep until the process is released.
pub(crate) struct Failed<T> {
    pub(crate) err: Error,
    pub(crate) kept: Option<T>,
}

impl<T> From<Error> for Failed<T> {
    fn from(err: Error) -> Self {
        Self { err, kept: None }
    }
}

impl<T> From<kernel::alloc::AllocError> for Failed<T> {
    fn from(_: kernel::alloc::AllocError) -> Self {
        ENOMEM.into()
    }
}

impl<T> Failed<T> {
    /// `e` of a call that handed `kept` to the DSP.
    fn of_call(e: CallError, kept: impl FnOnce() -> T) -> Self {
        match e {
            CallError::Failed(err) | CallError::Refused(err) => Self { err, kept: None },
            CallError::Unanswered(err) => Self {
                err,
                kept: Some(kept()),
            },
        }
    }
}

impl Process {
    /// An attachment of `d` held by one of the process's mappings.
    pub(crate) fn attachment_of(&self, d: &DmaBuf) -> Option<Arc<Attachment>> {
        self.maps.iter().find_map(|m| match &*m._mem {
            MapMemory::Buffer { held } => held.attachment_of(d),
            MapMemory::Pages { .. } => None,
        })
    }

    fn new(pd: u32, confirmed: bool, init_mem: Option<Arc<CoherentBuf>>) -> Self {
        Self {
            pd,
            confirmed,
            _init_mem: init_mem,
            maps: KVec::new(),
            in_flight: 0,
        }
    }

    /// Makes room for the record of a map about to be sent, so that it
    /// can always be stored ([`Process::track`]) once the DSP made it.
    pub(crate) fn reserve_record(&mut self) -> Result {
        if self.maps.len().saturating_add(self.in_flight) >= MAX_MAPS {
            return Err(ENOSPC);
        }
        let room = self.in_flight.checked_add(1).ok_or(ENOMEM)?;
        self.maps.reserve(room, GFP_KERNEL)?;
        self.in_flight = room;
        Ok(())
    }

    /// Gives up a room [`Process::reserve_record`] made (nothing to track).
    pub(crate) fn unreserve_record(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Stores `m` in a room made for it (by [`Process::reserve_record`] or
    /// [`Process::take_record`]): never allocates, never fails.
    pub(crate) fn track(&mut self, m: RemoteMap) {
        self.unreserve_record();
        if let Err(e) = self.maps.push_within_capacity(m) {
            // Cannot happen (room was kept); if it did, the memory the DSP
            // maps must not be freed: leak it.
            pr_err!("mapping record without room: memory leaked for the DSP\n");
            core::mem::forget(e);
        }
    }

    /// A process of PD type `pd` with no memory (KUnit).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn for_test(pd: u32) -> Self {
        Self::new(pd, true, None)
    }

    /// Room for records: capacity, records, records on their way (KUnit).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn room(&self) -> (usize, usize, usize) {
        (self.maps.capacity(), self.maps.len(), self.in_flight)
    }

    /// Takes out the first answered record `which` selects for an unmap,
    /// keeping its room for [`Process::track`].
    pub(crate) fn take_record(&mut self, which: impl Fn(&RemoteMap) -> bool) -> Result<RemoteMap> {
        let i = self
            .maps
            .iter()
            .position(|m| m.answered && which(m))
            .ok_or(EINVAL)?;
        let m = self.maps.remove(i).map_err(|_| EINVAL)?;
        self.in_flight += 1;
        Ok(m)
    }
}

/// Maps a remote return value of a kernel call to a result.
///
/// Unlike `INVOKE`, the ioctls behind kernel calls (attach, create, map,
/// unmap, the capability query) keep the errno convention of DRM ioctls:
/// a real errno is passed on, the DSP's own codes become `EIO` with a
/// rate-limited line naming the code (upstream returns them as the ioctl's
/// value), and "unsupported API" becomes `EOPNOTSUPP`.
fn remote_result(dev: &Device, handle: u32, sc: Scalars, r: i32) -> Result {
    match super::retval::user_result(r) {
        Ok(0) => Ok(()),
        Ok(code) if code == DSP_UNSUPPORTED_API => Err(EOPNOTSUPP),
        Ok(code) => {
            crate::ratelimit::dev_ratelimited!(
                info,
                dev,
                "kernel call on handle {} method {}: DSP error {:#x}\n",
                handle,
                sc.method(),
                code
            );
            Err(EIO)
        }
        Err(e) => Err(Error::from_errno(-e)),
    }
}

/// How a kernel call is sent besides its arguments.
#[derive(Default)]
struct Opts {
    /// Memory the request names, kept with the call if it is orphaned.
    keep: Option<Arc<dyn CallMemory>>,
    /// The release of this client id (its own slot, waiting
    /// uninterruptibly for at most the timeout).
    release_of: Option<i32>,
}

/// Sends a kernel call on `handle` with a payload on `cb`; returns the
/// kernel output buffers' bytes. An answer whose output cannot be read
/// counts as unanswered: the DSP did what it was asked.
fn kernel_call_on(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    (handle, pd): (u32, u32),
    sc: Scalars,
    args: &[Arg<'_>],
    opts: Opts,
) -> Result<KVec<u8>, CallError> {
    let m = marshal::marshal(cb, args).map_err(CallError::Failed)?;
    let req = Request {
        client_id: 0,
        pd,
        handle,
        sc: sc.0,
        payload: m.dsp,
        wait: match opts.release_of {
            Some(_) => Wait::Uninterruptible(KERNEL_CALL_TIMEOUT_MS),
            None => Wait::Killable(KERNEL_CALL_TIMEOUT_MS),
        },
        user: false,
        release_of: opts.release_of,
        owner: None,
    };
    let memory: Arc<dyn CallMemory> = match opts.keep {
        Some(k) => Arc::new(
            Both {
                _payload: m.payload.clone(),
                _named: k,
            },
            GFP_KERNEL,
        )
        .map_err(|_| CallError::Failed(ENOMEM))?,
        None => m.payload.clone(),
    };
    let r = channel.call(&req, memory)?;
    remote_result(channel.device(), handle, sc, r).map_err(CallError::Refused)?;
    let mut out = KVec::new();
    m.unmarshal(args, &mut out).map_err(CallError::Unanswered)?;
    Ok(out)
}

/// Sends a kernel call on handle 1.
fn kernel_call(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    pd: u32,
    sc: Scalars,
    args: &[Arg<'_>],
    keep: Option<Arc<dyn CallMemory>>,
) -> Result<KVec<u8>, CallError> {
    let opts = Opts {
        keep,
        release_of: None,
    };
    kernel_call_on(channel, cb, (INIT_HANDLE, pd), sc, args, opts)
}

/// The DSP's answer to a method it does not implement.
const DSP_UNSUPPORTED_API: u32 = 0x8000_0414;
/// Attributes the capability query returns.
pub(crate) const DSP_ATTRIBUTES: usize = 256;

/// Queries the DSP's attributes (handle 2, method 0): `attrs[0]` is 0,
/// `attrs[1..]` come from the DSP.
/// `pd` is the PD type of the asking file's process (`ROOT_PD` before it
/// has one), as upstream puts it in the message's `ctx`.
pub(crate) fn capabilities(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    pd: u32,
) -> Result<KVec<u32>> {
    let req = CapsReq {
        count: (DSP_ATTRIBUTES - 1) as u32,
    };
    let out = kernel_call_on(
        channel,
        cb,
        (UTILITIES_HANDLE, pd),
        Scalars::new(CAPS_METHOD, 1, 1),
        &[Arg::In(&req.encode()), Arg::Out(req.answer_len())],
        Opts::default(),
    )?;
    let mut attrs = KVec::with_capacity(DSP_ATTRIBUTES, GFP_KERNEL)?;
    attrs.push(0, GFP_KERNEL)?;
    for a in super::proc_msgs::caps_attrs(&out) {
        attrs.push(a, GFP_KERNEL)?;
    }
    Ok(attrs)
}

/// Memory behind a DSP mapping, kept until it is unmapped.
pub(crate) enum MapMemory {
    /// Kernel-allocated pages (legacy map without a buffer), and what
    /// they are charged to (see [`MapArgs::charge`]).
    Pages {
        _pages: CoherentBuf,
        _charge: Option<KBox<dyn Send + Sync>>,
    },
    /// A buffer of the caller, reachable in the process's CB.
    Buffer { held: marshal::HeldBuffers },
}

/// A mapping made on the DSP for a process, tracked by the kernel.
pub(crate) struct RemoteMap {
    /// The kind of mapping: [`MAP_LEGACY`] or [`MAP_ATTR`].
    pub(crate) request: u32,
    /// Buffer handle given by the caller (-1 for kernel memory).
    pub(crate) fd: i32,
    /// DSP virtual address.
    pub(crate) vaddrout: u64,
    /// Size in bytes, as the caller gave it.
    pub(crate) size: u64,
    /// Size of the page entry sent to the DSP.
    dsp_size: u64,
    /// Whether the DSP answered the map (else `vaddrout` is unknown and
    /// the record only keeps the memory until the process is released).
    pub(crate) answered: bool,
    _mem: Arc<MapMemory>,
}

impl CallMemory for MapMemory {}

impl RemoteMap {
    /// An answered record of a mapping at `vaddrout` holding nothing
    /// (KUnit).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn for_test(vaddrout: u64) -> Result<Self> {
        Ok(Self {
            request: MAP_ATTR,
            fd: 1,
            vaddrout,
            size: 4096,
            dsp_size: 4096,
            answered: true,
            _mem: Arc::new(
                MapMemory::Buffer {
                    held: marshal::HeldBuffers::default(),
                },
                GFP_KERNEL,
            )?,
        })
    }
}

/// Most mappings one DSP process may have (`-ENOSPC` past it).
pub(crate) const MAX_MAPS: usize = 1024;

/// A mapping to make in a DSP process.
pub(crate) struct MapArgs {
    pub(crate) request: u32,
    pub(crate) flags: u32,
    /// The buffer reference as the caller gave it, and its buffer
    /// (`None`: no buffer).
    pub(crate) fd: i32,
    pub(crate) buf: Option<BufRef>,
    pub(crate) offset: u32,
    pub(crate) vaddrin: u64,
    pub(crate) size: u64,
    /// What new kernel pages are charged to, kept as long as they are.
    pub(crate) charge: Option<KBox<dyn Send + Sync>>,
    /// An attachment of the buffer's dma-buf another mapping of the
    /// process holds (see [`Process::attachment_of`]): used instead of a
    /// new one, as drivers/misc/fastrpc.c reuses the map of an fd.
    pub(crate) reuse: Option<Arc<Attachment>>,
}

/// The only legacy mapping flag: pages added to the process's heap.
const ADSP_MMAP_ADD_PAGES: u32 = 0x1000;
/// A legacy mapping: kernel pages or a buffer, by address (method
/// `MMAP`); numbered as the accel UAPI numbers it.
pub(crate) const MAP_LEGACY: u32 = 1;
/// A mapping of a buffer with SMMU attributes (method `MEM_MAP`).
pub(crate) const MAP_ATTR: u32 = 2;

/// Checks a map request: a size up to 1 GiB; legacy maps only add pages.
fn check_map(cb: &ContextBank, a: &MapArgs) -> Result {
    if a.size == 0 || a.size > (1 << 30) {
        return Err(EINVAL);
    }
    if a.request == MAP_LEGACY && a.flags != ADSP_MMAP_ADD_PAGES {
        // Heap pages (physical or hypervisor-assigned) are for static PDs;
        // like drivers/misc/fastrpc.c, never fake them with SMMU pages.
        crate::ratelimit::dev_ratelimited!(
            info,
            cb.dev.as_ref(),
            "map: legacy flags {:#x} refused\n",
            a.flags
        );
        return Err(EINVAL);
    }
    Ok(())
}

/// The memory a map request names, reachable in `cb`: the caller's
/// buffer, or (legacy only) new kernel pages. Also its IOVA and length.
fn map_memory(cb: &Arc<ContextBank>, a: &mut MapArgs) -> Result<(MapMemory, u64, u64)> {
    if let Some(buf) = a.buf.as_ref() {
        let mut held = marshal::HeldBuffers::default();
        if let Some(att) = a.reuse.take() {
            held.adopt(att)?;
        }
        let (iova, len) = held.reach(cb, buf)?;
        if u64::from(a.offset).checked_add(a.size).ok_or(EINVAL)? > len {
            return Err(EINVAL);
        }
        return Ok((MapMemory::Buffer { held }, iova, len));
    }
    if a.request != MAP_LEGACY {
        return Err(EBADF);
    }
    let size = super::layout::align_up(a.size, super::layout::PAGE).ok_or(EINVAL)?;
    let b = CoherentBuf::new_accounted(cb.dev.as_ref(), size as usize)?;
    let iova = b.dma_addr();
    // Allocated in whole pages, described with the size asked for.
    let pages = MapMemory::Pages {
        _pages: b,
        _charge: a.charge.take(),
    };
    Ok((pages, iova, a.size))
}

/// Sends the MMAP or MEM_MAP request for `a` with page entry `page`;
/// returns the DSP's answer.
fn send_map(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    (client_id, pd): (i32, u32),
    a: &MapArgs,
    (page, mem): (&[u8], &Arc<MapMemory>),
) -> Result<KVec<u8>, CallError> {
    let keep = Some(mem.clone() as Arc<dyn CallMemory>);
    if a.request == MAP_LEGACY {
        let req = MmapReq {
            client_id,
            flags: a.flags,
            vaddr: a.vaddrin,
            num: PhyPage::NUM,
            pad: 0,
        }
        .encode();
        let args = [Arg::In(&req), Arg::In(page), Arg::Out(MapRsp::SIZE)];
        return kernel_call(
            channel,
            cb,
            pd,
            Scalars::new(method::MMAP, 2, 1),
            &args,
            keep,
        );
    }
    // No extra data: data_len 0 and an empty third buffer.
    let req = MemMapReq {
        client_id,
        fd: a.fd,
        offset: a.offset as i32,
        flags: a.flags,
        vaddrin: a.vaddrin,
        num: PhyPage::NUM,
        data_len: 0,
    }
    .encode();
    let args = [
        Arg::In(&req),
        Arg::In(page),
        Arg::In(&[]),
        Arg::Out(MapRsp::SIZE),
    ];
    kernel_call(
        channel,
        cb,
        pd,
        Scalars::new(method::MEM_MAP, 3, 1),
        &args,
        keep,
    )
}

/// The DSP process a kernel call is for: its channel, the context bank of
/// its session and its client id.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    /// The channel to the DSP.
    pub(crate) channel: &'a Arc<Channel>,
    /// The context bank the process's memory is mapped in.
    pub(crate) cb: &'a Arc<ContextBank>,
    /// The process's client id.
    pub(crate) client_id: i32,
}

/// Maps memory into the DSP process (`MMAP` or `MEM_MAP`). If the caller
/// gives up after sending, the failure keeps an unanswered record: the
/// DSP may map the memory.
pub(crate) fn map(t: Target<'_>, pd: u32, mut a: MapArgs) -> Result<RemoteMap, Failed<RemoteMap>> {
    let Target {
        channel,
        cb,
        client_id,
    } = t;
    check_map(cb, &a)?;
    let (mem, iova, len) = map_memory(cb, &mut a)?;
    let mem = Arc::new(mem, GFP_KERNEL)?;
    if a.request != MAP_LEGACY && a.request != MAP_ATTR {
        return Err(EINVAL.into());
    }
    let addr = cb.window().dsp_addr(iova).ok_or(EOVERFLOW)?;
    // MMAP names the whole memory; MEM_MAP the buffer's start and the
    // requested length (as drivers/misc/fastrpc.c sends them).
    let page = PhyPage {
        addr,
        size: if a.request == MAP_ATTR { a.size } else { len },
    }
    .encode();
    let record = |vaddrout, answered| RemoteMap {
        request: a.request,
        fd: a.fd,
        vaddrout,
        size: a.size,
        dsp_size: len,
        answered,
        _mem: mem.clone(),
    };
    let out = send_map(channel, cb, (client_id, pd), &a, (&page, &mem))
        .map_err(|e| Failed::of_call(e, || record(0, false)))?;
    match MapRsp::decode(&out) {
        Some(rsp) => Ok(record(rsp.vaddr, true)),
        // Answered but unreadable: the DSP may have mapped it.
        None => Err(Failed {
            err: EIO,
            kept: Some(record(0, false)),
        }),
    }
}

/// Undoes `m` on the DSP (`MUNMAP` or `MEM_UNMAP`). The memory is freed
/// when `m` is dropped, after the DSP let go of it.
pub(crate) fn unmap(t: Target<'_>, pd: u32, m: &RemoteMap) -> Result {
    let Target {
        channel,
        cb,
        client_id,
    } = t;
    let (method, req) = if m.request == MAP_LEGACY {
        let req = MunmapReq {
            client_id,
            pad: 0,
            vaddr: m.vaddrout,
            size: m.dsp_size,
        };
        (method::MUNMAP, req.encode())
    } else {
        // vaddrin is the DSP address of the mapping.
        let req = MemUnmapReq {
            client_id,
            fd: m.fd,
            vaddrin: m.vaddrout,
            len: m.size,
        };
        (method::MEM_UNMAP, req.encode())
    };
    kernel_call(
        channel,
        cb,
        pd,
        Scalars::new(method, 1, 0),
        &[Arg::In(&req)],
        None,
    )
    .map(|_| ())
    .map_err(CallError::errno)
}

/// Attaches the process `client_id` to a PD that is always there: the
/// root PD (`ROOT_PD`, daemons) or the sensors PD (`SENSORS_PD`).
pub(crate) fn attach(t: Target<'_>, pd: u32) -> Result<Process, Failed<Process>> {
    let Target {
        channel,
        cb,
        client_id,
    } = t;
    let id = ClientReq { client_id }.encode();
    kernel_call(
        channel,
        cb,
        pd,
        Scalars::new(method::ATTACH, 1, 0),
        &[Arg::In(&id)],
        None,
    )
    .map_err(|e| Failed::of_call(e, || Process::new(pd, false, None)))?;
    Ok(Process::new(pd, true, None))
}

/// Longest static-PD name.
pub(crate) const STATIC_NAME_MAX: usize = 128;

/// Starts static PD `name` (e.g. the audio PD) for process `client_id`.
/// Its memory is the remote heap `heap`, sent with the first create on
/// the channel only; if that create fails, the next one sends it again.
pub(crate) fn create_static(
    t: Target<'_>,
    name: &[u8],
    heap: &HeapInfo,
) -> Result<Process, Failed<Process>> {
    let Target {
        channel,
        cb,
        client_id,
    } = t;
    if name.is_empty() || name.len() > STATIC_NAME_MAX {
        return Err(EINVAL.into());
    }
    let claim = heap.claim();
    let page = match claim {
        Some(_) => PhyPage {
            addr: heap.base,
            size: heap.size,
        },
        None => PhyPage { addr: 0, size: 0 },
    };
    let inbuf = CreateStaticReq {
        client_id,
        namelen: name.len() as u32,
        pageslen: u32::from(claim.is_some()),
    }
    .encode();
    let page = page.encode();
    let r = kernel_call(
        channel,
        cb,
        wire::USER_PD,
        Scalars::new(method::CREATE_STATIC, 3, 0),
        &[Arg::In(&inbuf), Arg::In(name), Arg::In(&page)],
        None,
    );
    let confirmed = match r {
        Ok(_) => true,
        Err(CallError::Unanswered(_)) => false,
        Err(CallError::Failed(e) | CallError::Refused(e)) => return Err(e.into()),
    };
    // Answered or not, the DSP may have the heap: it is not sent again.
    if let Some(c) = claim {
        c.keep();
    }
    let p = Process::new(wire::USER_PD, confirmed, None);
    match r {
        Err(e) => Err(Failed {
            err: e.errno(),
            kept: Some(p),
        }),
        Ok(_) => Ok(p),
    }
}

/// A dynamic PD to create.
pub(crate) struct CreateArgs {
    /// Shell image length.
    pub(crate) filelen: u32,
    /// The buffer holding the shell, else it is read from `file`.
    pub(crate) shell: Option<Resolved>,
    /// PD attributes (`FASTRPC_MODE_*`).
    pub(crate) attrs: u32,
    /// Signature length.
    pub(crate) siglen: u32,
    /// User pointer to the shell.
    pub(crate) file: u64,
}

/// The init memory of a new dynamic PD whose shell is `filelen` bytes
/// long: four times the shell, at least 2 MiB, in whole MiB, allocated on
/// `cb`; with its DSP address and length.
fn init_memory(cb: &ContextBank, filelen: u32) -> Result<(Arc<CoherentBuf>, u64, u64)> {
    if filelen > INIT_FILELEN_MAX {
        return Err(EFBIG);
    }
    let memlen =
        super::layout::align_up((u64::from(filelen) * 4).max(2 << 20), 1 << 20).ok_or(EFBIG)?;
    let init_mem = Arc::new(
        CoherentBuf::new_accounted(cb.dev.as_ref(), memlen as usize)?,
        GFP_KERNEL,
    )?;
    let page_addr = cb.window().dsp_addr(init_mem.dma_addr()).ok_or(EOVERFLOW)?;
    Ok((init_mem, page_addr, memlen))
}

/// Creates a dynamic user PD for process `client_id` running the shell
/// described by `a`, named after the calling task.
pub(crate) fn create(
    t: Target<'_>,
    comm: &[u8],
    a: &CreateArgs,
) -> Result<Process, Failed<Process>> {
    let Target {
        channel,
        cb,
        client_id,
    } = t;
    let (init_mem, page_addr, memlen) = init_memory(cb, a.filelen)?;
    let inbuf = CreateReq {
        client_id,
        namelen: comm.len() as u32,
        filelen: a.filelen,
        pageslen: 1,
        attrs: a.attrs,
        siglen: a.siglen,
    }
    .encode();
    let pages = PhyPage {
        addr: page_addr,
        size: memlen,
    }
    .encode();
    let file = if let Some(r) = a.shell.as_ref() {
        Arg::Mapped {
            buf: &r.buf,
            offset: r.offset,
            ptr: a.file,
            len: u64::from(a.filelen),
        }
    } else {
        Arg::UserIn {
            ptr: a.file,
            len: u64::from(a.filelen),
        }
    };
    let method = if a.attrs != 0 {
        method::CREATE_ATTR
    } else {
        method::CREATE
    };
    let args = [Arg::In(&inbuf), Arg::In(comm), file, Arg::In(&pages)];
    let keep = Some(init_mem.clone() as Arc<dyn CallMemory>);
    kernel_call(
        channel,
        cb,
        wire::USER_PD,
        Scalars::new(method, 4, 0),
        &args,
        keep,
    )
    .map_err(|e| {
        Failed::of_call(e, || {
            Process::new(wire::USER_PD, false, Some(init_mem.clone()))
        })
    })?;
    Ok(Process::new(wire::USER_PD, true, Some(init_mem)))
}

/// Releases the DSP side of process `client_id` of PD type `pd` (last
/// close). `kept` holds the process and what the DSP knows it by (its
/// session and client id): if the release is sent and not answered within
/// the timeout, it stays with the orphaned call until the DSP answers or
/// goes away. The wait ignores signals (the last close of a killed task
/// runs with SIGKILL pending) but not the timeout.
pub(crate) fn release(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    (client_id, pd): (i32, u32),
    kept: Arc<dyn CallMemory>,
) -> Result<(), CallError> {
    let id = ClientReq { client_id }.encode();
    let opts = Opts {
        keep: Some(kept),
        release_of: Some(client_id),
    };
    kernel_call_on(
        channel,
        cb,
        (INIT_HANDLE, pd),
        Scalars::new(method::RELEASE, 1, 0),
        &[Arg::In(&id)],
        opts,
    )
    .map(|_| ())
}
