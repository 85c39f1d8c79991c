// SPDX-License-Identifier: GPL-2.0

//! Open files and their ioctl handlers, one function per ioctl.
//!
//! Each handler gets the device, the file and a kernel copy of the
//! argument struct; the DRM core copies it from and back to userspace.

use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        atomic::Relaxed,
        Arc,
        Mutex, //
    },
    uaccess::{
        UserPtr,
        UserSlice,
        UserSliceReader, //
    },
};

use crate::{
    buffer_ref::{
        resolve,
        Resolved, //
    },
    driver::QdaDevice,
    fastrpc::{
        channel::{
            self,
            Channel,
            Request, //
        },
        invoke::{
            self,
            Arg, //
        },
        process::{
            self,
            Process, //
        },
        retval,
        scalars::Scalars,
        wire, //
    },
    ffi::{
        accel::{
            File,
            FileData, //
        },
        gem::{
            create_handle,
            ObjectRef, //
        },
    },
    gem::{
        Bo,
        BO_FUNCS, //
    },
    memory,
    session::SessionRef,
    uapi, //
};

/// An open accel file: a hold on its process's session (context bank),
/// and the file's own DSP process once attached or created.
pub(crate) struct QdaFile {
    /// The session of the opening process, with the file's client id
    /// (shared only to outlive the file after a failed release).
    session: Arc<SessionRef>,
    /// The DSP channel, for the release call on close.
    channel: Arc<Channel>,
    /// The file's DSP process; the lock is held while it is being
    /// started, so one file starts at most one.
    process: Pin<KBox<Mutex<Option<Process>>>>,
}

impl QdaFile {
    /// The session of the file's process.
    pub(crate) fn session(&self) -> &SessionRef {
        &self.session
    }

    /// PD type of the file's DSP process; `-ENOTCONN` before attach or
    /// create.
    fn pd(&self) -> Result<u32> {
        self.process.lock().as_ref().map(|p| p.pd).ok_or(ENOTCONN)
    }

    /// Runs `f` on the file's DSP process; `-ENOTCONN` if it has none.
    fn with_process<R>(&self, f: impl FnOnce(&mut Process) -> Result<R>) -> Result<R> {
        let mut guard = self.process.lock();
        let p: &mut Option<Process> = &mut guard;
        f(p.as_mut().ok_or(ENOTCONN)?)
    }

    /// Gives the file its DSP process; `-EALREADY` if it has one. `make`
    /// runs with the file's process lock held (it talks to the DSP).
    fn start_process(&self, make: impl FnOnce() -> Result<Process>) -> Result {
        let mut p = self.process.lock();
        if p.is_some() {
            return Err(EALREADY);
        }
        *p = Some(make()?);
        Ok(())
    }
}

impl FileData for QdaFile {
    type Device = QdaDevice;

    fn open(dev: &QdaDevice) -> Result<Self> {
        let current = kernel::current!();
        let session = dev
            .sessions
            .acquire(current.group_leader())
            .inspect_err(|_| {
                crate::ratelimit::dev_ratelimited!(
                    info,
                    dev.channel.device(),
                    "{}: no free session for process {}\n",
                    dev.domain.label(),
                    current.tgid()
                );
            })?;
        Ok(Self {
            session: Arc::new(session, GFP_KERNEL)?,
            channel: dev.channel.clone(),
            process: KBox::pin_init(new_mutex!(None), GFP_KERNEL)?,
        })
    }
}

impl Drop for QdaFile {
    /// Ends the file's DSP process, before its client id is freed. If the
    /// DSP is gone there is nothing to release. If the DSP did not confirm
    /// the release, it may still use the process's memory and know its
    /// client id: both stay reserved until the channel goes away.
    fn drop(&mut self) {
        let Some(p) = self.process.lock().take() else {
            return;
        };
        let (cb, client_id) = (self.session.cb(), self.session.client_id());
        let Err(e) = process::release(&self.channel, cb, client_id, &p) else {
            return;
        };
        if e == ENODEV {
            return;
        }
        crate::ratelimit::dev_ratelimited!(
            warn,
            self.channel.device(),
            "release of client {} failed ({:?}): its memory and id stay reserved\n",
            client_id,
            e
        );
        let kept: Result<KBox<dyn Send>, _> =
            KBox::new((self.session.clone(), p), GFP_KERNEL).map(|b| b as KBox<dyn Send>);
        match kept {
            Ok(k) => self.channel.keep_until_gone(k),
            Err(_) => pr_err!("release of client {}: cannot keep its memory\n", client_id),
        }
    }
}

/// IOCTL: `DRM_IOCTL_QDA_QUERY`, identify the DSP behind this node.
pub(crate) fn query(
    dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_query,
) -> Result<u32> {
    args.dsp_name = dev.domain.dsp_name();
    // Bit i: DSP attribute i is non-zero (attributes 1..31 of the
    // capability query); 0 if the DSP cannot be asked.
    args.capabilities = attributes(dev, file).map_or(0, |a| {
        a.iter()
            .take(32)
            .enumerate()
            .fold(0u32, |m, (i, &v)| if v != 0 { m | (1 << i) } else { m })
    });
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_GEM_CREATE`, allocate a buffer object in the
/// process's context bank (memory policy: see [`memory`]).
pub(crate) fn gem_create(
    dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_gem_create,
) -> Result<u32> {
    // `pad` is not checked: the library's struct has no such member, so
    // its 4 tail bytes are whatever its stack held.
    args.handle = create_bo(dev, file, args.size, 0)?;
    Ok(0)
}

/// Allocates a buffer of `size` bytes from `backend` for `file`'s session.
fn create_bo(dev: &QdaDevice, file: &File<QdaFile>, size: u64, backend: u32) -> Result<u32> {
    let size = memory::bo_size(size)?;
    let cb = file.data().session().cb();
    let mem = dev.memory.alloc(cb, size, backend).inspect_err(|e| {
        crate::ratelimit::dev_ratelimited!(
            info,
            dev.channel.device(),
            "{}: allocating {} bytes (backend {}) failed: {:?}\n",
            dev.domain.label(),
            size,
            backend,
            e
        );
    })?;
    let bo = Bo { mem, sid: cb.sid };
    create_handle(file, &BO_FUNCS, size, bo)
}

/// IOCTL: `DRM_IOCTL_QDA_GEM_CREATE_EX`, allocate a buffer object from a
/// chosen memory backend.
pub(crate) fn gem_create_ex(
    dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_gem_create_ex,
) -> Result<u32> {
    args.handle = create_bo(dev, file, args.size, args.backend)?;
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_GEM_MMAP_OFFSET`, the offset to `mmap()` a handle
/// at on this file.
pub(crate) fn gem_mmap_offset(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_gem_mmap_offset,
) -> Result<u32> {
    if args.pad != 0 {
        return Err(EINVAL);
    }
    let bo = ObjectRef::lookup(file, &BO_FUNCS, args.handle)?;
    args.offset = bo.mmap_offset();
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_GEM_INFO`, backend, size and DSP address of a
/// handle.
pub(crate) fn gem_info(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_gem_info,
) -> Result<u32> {
    let bo = ObjectRef::lookup(file, &BO_FUNCS, args.handle)?;
    args.backend = bo.backing().mem.kind();
    args.size = bo.size() as u64;
    args.dsp_addr = bo.backing().dsp_addr()?;
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_INIT_ATTACH`, attach the process to the DSP's
/// root PD.
pub(crate) fn init_attach(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    _args: &mut uapi::NoArgs,
) -> Result<u32> {
    attach_to(file, wire::ROOT_PD)
}

/// Attaches the file's process to the always-present PD of type `pd`.
fn attach_to(file: &File<QdaFile>, pd: u32) -> Result<u32> {
    let f = file.data();
    let s = f.session();
    f.start_process(|| process::attach(&f.channel, s.cb(), s.client_id(), pd))?;
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_INIT_ATTACH_SNS`, attach the file's process to
/// the DSP's sensors PD.
pub(crate) fn init_attach_sns(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    _args: &mut uapi::NoArgs,
) -> Result<u32> {
    attach_to(file, wire::SENSORS_PD)
}

/// IOCTL: `DRM_IOCTL_QDA_INIT_CREATE_STATIC`, start a static PD (the
/// audio PD) on the DSP's remote heap.
pub(crate) fn init_create_static(
    dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_init_create_static,
) -> Result<u32> {
    let f = file.data();
    let Some(heap) = dev.heap.as_ref() else {
        crate::ratelimit::dev_ratelimited!(
            info,
            f.channel.device(),
            "{}: no remote heap for a static PD (memory-region)\n",
            dev.domain.label()
        );
        return Err(ENODEV);
    };
    let len = args.namelen as usize;
    if len == 0 || len > process::STATIC_NAME_MAX {
        return Err(EINVAL);
    }
    let mut name = [0u8; process::STATIC_NAME_MAX];
    UserSlice::new(UserPtr::from_addr(args.name as usize), len)
        .reader()
        .read_slice(&mut name[..len])?;
    let s = f.session();
    f.start_process(|| {
        process::create_static(&f.channel, s.cb(), s.client_id(), &name[..len], heap)
    })?;
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_INIT_CREATE`, create a dynamic user PD running a
/// shell image.
pub(crate) fn init_create(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_init_create,
) -> Result<u32> {
    let f = file.data();
    let s = f.session();
    let comm = crate::ffi::current_comm();
    let name_len = comm
        .iter()
        .position(|&b| b == 0)
        .map_or(comm.len(), |n| n + 1);
    // With a pointer, the shell's bytes are in the caller's memory: a
    // reference that names no buffer mapped there (the library passes a
    // GEM handle of its own allocation file) means they are copied.
    let shell = match (args.filefd, args.file) {
        (..=0, _) => None,
        (fd, 0) => Some(resolve(file, fd, 0, "init_create")?),
        (fd, ptr) => resolve(file, fd, ptr, "init_create").ok(),
    };
    let a = process::CreateArgs {
        filelen: args.filelen,
        shell,
        attrs: args.attrs,
        siglen: args.siglen,
        file: args.file,
    };
    f.start_process(|| process::create(&f.channel, s.cb(), s.client_id(), &comm[..name_len], &a))?;
    Ok(0)
}

/// Size of one `struct drm_qda_invoke_arg`.
const INVOKE_ARG_SIZE: usize = 24;

/// One `struct drm_qda_invoke_arg`: pointer, length, buffer handle.
fn read_arg(reader: &mut UserSliceReader) -> Result<(u64, u64, i32)> {
    let mut a = [0u8; INVOKE_ARG_SIZE];
    reader.read_slice(&mut a)?;
    let word = |o: usize| u64::from_le_bytes(a[o..o + 8].try_into().unwrap_or([0; 8]));
    let fd = i32::from_le_bytes([a[16], a[17], a[18], a[19]]);
    Ok((word(0), word(8), fd))
}

/// One argument as read: `(ptr, len, fd)` and its resolved buffer.
type ReadArg = ((u64, u64, i32), Option<Resolved>);

/// Reads the arguments of a call on `file` and resolves their buffer
/// references.
fn read_args(file: &File<QdaFile>, sc: Scalars, ptr: u64) -> Result<KVec<ReadArg>> {
    let n = sc.len();
    let mut reader = UserSlice::new(UserPtr::from_addr(ptr as usize), n * INVOKE_ARG_SIZE).reader();
    let mut args = KVec::with_capacity(n, GFP_KERNEL)?;
    for i in 0..n {
        let (ptr, len, fd) = read_arg(&mut reader)?;
        // Buffers with a reference and bytes pass zero copy (the pointer
        // must lie in the buffer); handle arguments name a buffer when
        // they have one and bytes (fd 0/-1 or no length: none, as
        // drivers/misc/fastrpc.c).
        let r = match (fd, len) {
            (1.., 1..) if i < sc.buffers() => Some(resolve(file, fd, ptr, "invoke")?),
            (..=-2 | 1.., 1..) => Some(resolve(file, fd, 0, "invoke")?),
            _ => None,
        };
        args.push(((ptr, len, fd), r), GFP_KERNEL)?;
    }
    Ok(args)
}

/// The marshalling of argument `i` of `sc`, read as `(ptr, len, fd)`.
fn to_arg(
    sc: Scalars,
    i: usize,
    (ptr, len, fd): (u64, u64, i32),
    r: Option<&Resolved>,
) -> Result<Arg<'_>> {
    if i >= sc.buffers() {
        return Ok(Arg::Handle {
            buf: r.map(|r| &r.buf),
            fd,
            offset: ptr as u32,
            len: u32::try_from(len).map_err(|_| EINVAL)?,
        });
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

/// IOCTL: `DRM_IOCTL_QDA_INVOKE`, call a method on a remote handle. Only
/// the 16 bytes of `struct drm_qda_invoke` are read and written, whatever
/// size the request encodes. An argument's `fd` names the buffer its
/// pointer lies in (see [`crate::buffer_ref`]; passed zero copy) or is
/// -1/0 (copied inline). Returns the remote method's return value.
pub(crate) fn invoke(
    dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_invoke,
) -> Result<u32> {
    if args.handle == process::INIT_HANDLE {
        return Err(EPERM);
    }
    let f = file.data();
    let s = f.session();
    let pd = f.pd()?;
    let sc = Scalars(args.sc);
    let read = read_args(file, sc, args.args)?;
    let mut list = KVec::with_capacity(sc.len(), GFP_KERNEL)?;
    for (i, (a, r)) in read.iter().enumerate() {
        list.push(to_arg(sc, i, *a, r.as_ref())?, GFP_KERNEL)?;
    }
    let m = invoke::marshal(s.cb(), &list)?;
    let req = Request {
        client_id: s.client_id(),
        pd,
        handle: args.handle,
        sc: sc.0,
        payload: m.dsp,
        timeout_ms: match f.channel.user_timeout_ms.load(Relaxed) {
            0 => None,
            ms => Some(ms),
        },
        uninterruptible: false,
        user: true,
    };
    let r = f.channel.call(&req, m.payload.clone()).inspect_err(|&e| {
        if e == EAGAIN {
            crate::ratelimit::dev_ratelimited!(
                warn,
                dev.channel.device(),
                "{}: call refused: {} calls orphaned by callers that gave up (limit {})\n",
                dev.domain.label(),
                f.channel.orphans().0,
                channel::ORPHAN_LIMIT
            );
        }
    })?;
    m.unmarshal(&list, &mut KVec::new())?;
    retval::user_result(r).map_err(|e| Error::from_errno(-e))
}

/// IOCTL: `DRM_IOCTL_QDA_MAP`, map memory into the DSP process: a legacy
/// mapping (kernel pages, or a dma-buf) or one with SMMU attributes (a
/// dma-buf). The kernel keeps track of it until `DRM_IOCTL_QDA_MUNMAP` or
/// the process ends.
pub(crate) fn map(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_map,
) -> Result<u32> {
    if args.reserved != 0 {
        return Err(EINVAL);
    }
    let f = file.data();
    let s = f.session();
    let pd = f.pd()?;
    let a = process::MapArgs {
        request: args.request,
        flags: args.flags,
        fd: args.fd,
        buf: match args.fd {
            ..=0 => None,
            fd => Some(resolve(file, fd, args.vaddrin, "map")?.buf),
        },
        offset: args.offset,
        vaddrin: args.vaddrin,
        size: args.size,
    };
    // Room for the record first, so that tracking cannot fail after the
    // DSP made the mapping.
    f.with_process(|p| Ok(p.maps.reserve(1, GFP_KERNEL)?))?;
    let m = process::map(&f.channel, s.cb(), s.client_id(), pd, a)?;
    args.vaddrout = m.vaddrout;
    f.with_process(|p| Ok(p.maps.push(m, GFP_KERNEL)?))?;
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_MUNMAP`, undo a mapping this file made: legacy
/// ones by `vaddrout` and `size`, attribute ones by `fd` and `vaddr`, the
/// DSP address `DRM_IOCTL_QDA_MAP` returned (as the library does).
/// `-EINVAL` if the kernel made no such mapping.
pub(crate) fn munmap(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_munmap,
) -> Result<u32> {
    let f = file.data();
    let s = f.session();
    let pd = f.pd()?;
    let m = f.with_process(|p| {
        let i = p
            .maps
            .iter()
            .position(|m| {
                m.request == args.request
                    && match args.request {
                        process::MAP_LEGACY => m.vaddrout == args.vaddrout && m.size == args.size,
                        _ => m.fd == args.fd && m.vaddrout == args.vaddr,
                    }
            })
            .ok_or(EINVAL)?;
        Ok(p.maps.remove(i)?)
    })?;
    if let Err(e) = process::unmap(&f.channel, s.cb(), s.client_id(), pd, &m) {
        // The DSP still uses it: keep tracking it.
        f.with_process(|p| Ok(p.maps.push(m, GFP_KERNEL)?))?;
        return Err(e);
    }
    Ok(0)
}

/// The DSP's attributes: the first capability query that succeeds
/// publishes them for the device's lifetime; until then every caller asks
/// the DSP itself (no lock is held across the call, which may take up to
/// the kernel call timeout). Concurrent first queries may each ask; the
/// first answer published is kept, the others are dropped.
fn attributes(dev: &QdaDevice, file: &File<QdaFile>) -> Result<Arc<KVec<u32>>> {
    if let Some(a) = dev.attributes.as_ref() {
        return Ok(a.clone());
    }
    let f = file.data();
    let pd = f.pd().unwrap_or(wire::ROOT_PD);
    let fresh = Arc::new(
        process::capabilities(&f.channel, f.session().cb(), pd)?,
        GFP_KERNEL,
    )?;
    dev.attributes.populate(fresh.clone());
    // `None` only while a concurrent first query is publishing its
    // answer: ours is as good.
    Ok(dev.attributes.as_ref().cloned().unwrap_or(fresh))
}

/// IOCTL: `DRM_IOCTL_QDA_GET_ATTR`, one DSP attribute (capability query on
/// handle 2); `-EOVERFLOW` past the last one.
pub(crate) fn get_attr(
    dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_get_attr,
) -> Result<u32> {
    if args.attribute_id as usize >= process::DSP_ATTRIBUTES {
        return Err(EOVERFLOW);
    }
    let attrs = attributes(dev, file)?;
    args.value = *attrs.get(args.attribute_id as usize).ok_or(EOVERFLOW)?;
    Ok(0)
}
