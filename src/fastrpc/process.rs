// SPDX-License-Identifier: GPL-2.0

//! Process control on remote handle 1 (kernel-only): attach to the root
//! PD, create a dynamic user PD, release it on the last close.

use kernel::{
    device::Device,
    prelude::*,
    sync::Arc, //
};

use super::{
    channel::{
        Channel,
        Request, //
    },
    invoke::{
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
    buffer_ref::{
        BufRef,
        Resolved, //
    },
    context_bank::ContextBank,
    ffi::dma::CoherentBuf,
    remote_heap::HeapInfo,
    topology, //
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
    /// Init memory given to a created process.
    _init_mem: Option<CoherentBuf>,
    /// Mappings made on the DSP for the process.
    pub(crate) maps: KVec<RemoteMap>,
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

/// Sends a kernel call on `handle` with a payload on `cb`; returns the
/// kernel output buffers' bytes.
fn kernel_call_on(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    (handle, pd): (u32, u32),
    sc: Scalars,
    args: &[Arg<'_>],
    uninterruptible: bool,
) -> Result<KVec<u8>> {
    let m = invoke::marshal(cb, args)?;
    let req = Request {
        client_id: 0,
        pd,
        handle,
        sc: sc.0,
        payload: m.dsp,
        timeout_ms: Some(KERNEL_CALL_TIMEOUT_MS),
        uninterruptible,
        user: false,
    };
    let r = channel.call(&req, m.payload.clone())?;
    remote_result(channel.device(), handle, sc, r)?;
    let mut out = KVec::new();
    m.unmarshal(args, &mut out)?;
    Ok(out)
}

/// Sends a kernel call on handle 1.
fn kernel_call(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    pd: u32,
    sc: Scalars,
    args: &[Arg<'_>],
) -> Result<KVec<u8>> {
    kernel_call_on(channel, cb, (INIT_HANDLE, pd), sc, args, false)
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
        false,
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
    /// Kernel-allocated pages (legacy map without a buffer).
    Pages { _pages: CoherentBuf },
    /// A buffer of the caller, reachable in the process's CB.
    Buffer { _held: invoke::Held },
}

/// A mapping made on the DSP for a process, tracked by the kernel.
pub(crate) struct RemoteMap {
    /// `QDA_MAP_REQUEST_*`.
    pub(crate) request: u32,
    /// Buffer handle given by the caller (-1 for kernel memory).
    pub(crate) fd: i32,
    /// DSP virtual address.
    pub(crate) vaddrout: u64,
    /// Size in bytes, as the caller gave it.
    pub(crate) size: u64,
    /// Size of the page entry sent to the DSP.
    dsp_size: u64,
    _mem: MapMemory,
}

/// What `DRM_IOCTL_QDA_MAP` asks for.
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
}

/// The only legacy mapping flag: pages added to the process's heap.
const ADSP_MMAP_ADD_PAGES: u32 = 0x1000;
/// `QDA_MAP_REQUEST_LEGACY`.
pub(crate) const MAP_LEGACY: u32 = 1;
/// `QDA_MAP_REQUEST_ATTR`.
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
fn map_memory(cb: &Arc<ContextBank>, a: &MapArgs) -> Result<(MapMemory, u64, u64)> {
    if let Some(buf) = a.buf.as_ref() {
        let mut held = invoke::Held::default();
        let (iova, len) = held.reach(cb, buf)?;
        if u64::from(a.offset).checked_add(a.size).ok_or(EINVAL)? > len {
            return Err(EINVAL);
        }
        return Ok((MapMemory::Buffer { _held: held }, iova, len));
    }
    if a.request != MAP_LEGACY {
        return Err(EBADF);
    }
    let size = super::layout::align_up(a.size, super::layout::PAGE).ok_or(EINVAL)?;
    let b = CoherentBuf::new(cb.dev.as_ref(), size as usize)?;
    let iova = b.dma_addr();
    // Allocated in whole pages, described with the size asked for.
    Ok((MapMemory::Pages { _pages: b }, iova, a.size))
}

/// Sends the MMAP or MEM_MAP request for `a` with page entry `page`;
/// returns the DSP's answer.
fn send_map(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    (client_id, pd): (i32, u32),
    a: &MapArgs,
    page: &[u8],
) -> Result<KVec<u8>> {
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
        return kernel_call(channel, cb, pd, Scalars::new(method::MMAP, 2, 1), &args);
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
    kernel_call(channel, cb, pd, Scalars::new(method::MEM_MAP, 3, 1), &args)
}

/// Maps memory into the DSP process (`MMAP` or `MEM_MAP`).
pub(crate) fn map(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    client_id: i32,
    pd: u32,
    a: MapArgs,
) -> Result<RemoteMap> {
    check_map(cb, &a)?;
    let (mem, iova, len) = map_memory(cb, &a)?;
    if a.request != MAP_LEGACY && a.request != MAP_ATTR {
        return Err(EINVAL);
    }
    let addr = topology::dsp_addr(cb.sid, iova).ok_or(EOVERFLOW)?;
    // MMAP names the whole memory; MEM_MAP the buffer's start and the
    // requested length (as drivers/misc/fastrpc.c sends them).
    let page = PhyPage {
        addr,
        size: if a.request == MAP_ATTR { a.size } else { len },
    }
    .encode();
    let out = send_map(channel, cb, (client_id, pd), &a, &page)?;
    let vaddrout = MapRsp::decode(&out).ok_or(EIO)?.vaddr;
    Ok(RemoteMap {
        request: a.request,
        fd: a.fd,
        vaddrout,
        size: a.size,
        dsp_size: len,
        _mem: mem,
    })
}

/// Undoes `m` on the DSP (`MUNMAP` or `MEM_UNMAP`). The memory is freed
/// when `m` is dropped, after the DSP let go of it.
pub(crate) fn unmap(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    client_id: i32,
    pd: u32,
    m: &RemoteMap,
) -> Result {
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
    )
    .map(|_| ())
}

/// Attaches the process `client_id` to a PD that is always there: the
/// root PD (`ROOT_PD`, daemons) or the sensors PD (`SENSORS_PD`).
pub(crate) fn attach(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    client_id: i32,
    pd: u32,
) -> Result<Process> {
    let id = ClientReq { client_id }.encode();
    kernel_call(
        channel,
        cb,
        pd,
        Scalars::new(method::ATTACH, 1, 0),
        &[Arg::In(&id)],
    )?;
    Ok(Process {
        pd,
        _init_mem: None,
        maps: KVec::new(),
    })
}

/// Longest static-PD name.
pub(crate) const STATIC_NAME_MAX: usize = 128;

/// Starts static PD `name` (e.g. the audio PD) for process `client_id`.
/// Its memory is the remote heap `heap`, sent with the first create on
/// the channel only; if that create fails, the next one sends it again.
pub(crate) fn create_static(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    client_id: i32,
    name: &[u8],
    heap: &HeapInfo,
) -> Result<Process> {
    if name.is_empty() || name.len() > STATIC_NAME_MAX {
        return Err(EINVAL);
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
    kernel_call(
        channel,
        cb,
        wire::USER_PD,
        Scalars::new(method::CREATE_STATIC, 3, 0),
        &[Arg::In(&inbuf), Arg::In(name), Arg::In(&page)],
    )?;
    if let Some(c) = claim {
        c.keep();
    }
    Ok(Process {
        pd: wire::USER_PD,
        _init_mem: None,
        maps: KVec::new(),
    })
}

/// What `DRM_IOCTL_QDA_INIT_CREATE` asks for.
pub(crate) struct CreateArgs {
    /// Shell image length.
    pub(crate) filelen: u32,
    /// The buffer holding the shell, else it is read from `file`.
    pub(crate) shell: Option<Resolved>,
    /// `QDA_PROC_ATTR_*`.
    pub(crate) attrs: u32,
    /// Signature length.
    pub(crate) siglen: u32,
    /// User pointer to the shell.
    pub(crate) file: u64,
}

/// Creates a dynamic user PD for process `client_id` running the shell
/// described by `a`, named after the calling task.
pub(crate) fn create(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    client_id: i32,
    comm: &[u8],
    a: &CreateArgs,
) -> Result<Process> {
    if a.filelen > INIT_FILELEN_MAX {
        return Err(EFBIG);
    }
    // Init memory: four times the shell, at least 2 MiB, in whole MiB.
    let memlen =
        super::layout::align_up((u64::from(a.filelen) * 4).max(2 << 20), 1 << 20).ok_or(EFBIG)?;
    let init_mem = CoherentBuf::new(cb.dev.as_ref(), memlen as usize)?;
    let page_addr = topology::dsp_addr(cb.sid, init_mem.dma_addr()).ok_or(EOVERFLOW)?;
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
    kernel_call(
        channel,
        cb,
        wire::USER_PD,
        Scalars::new(method, 4, 0),
        &args,
    )?;
    Ok(Process {
        pd: wire::USER_PD,
        _init_mem: Some(init_mem),
        maps: KVec::new(),
    })
}

/// Releases the DSP side of process `client_id` (last close).
pub(crate) fn release(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    client_id: i32,
    p: &Process,
) -> Result {
    let id = ClientReq { client_id }.encode();
    // The last close of a task being killed (a daemon's SIGKILL) runs with
    // the signal pending: its wait would end at once and leave the process
    // unconfirmed. It waits for the DSP's answer (or the DSP's end)
    // instead.
    let dying = kernel::current!().signal_pending();
    kernel_call_on(
        channel,
        cb,
        (INIT_HANDLE, p.pd),
        Scalars::new(method::RELEASE, 1, 0),
        &[Arg::In(&id)],
        dying,
    )
    .map(|_| ())
}
