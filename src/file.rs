// SPDX-License-Identifier: GPL-2.0

//! Open files and their ioctl handlers, one function per ioctl.
//!
//! Each handler gets the device, the file and a kernel copy of the
//! argument struct; the DRM core copies it from and back to userspace.

use core::sync::atomic::Ordering;
use kernel::{
    prelude::*,
    sync::Arc,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::{
    driver::QdaDevice,
    fastrpc::{
        channel::{
            Channel,
            Request, //
        },
        invoke::{
            self,
            Arg, //
        },
        process,
        scalars::Scalars, //
    },
    ffi::{
        accel::{
            File,
            FileData, //
        },
        dmabuf::DmaBuf,
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

/// An open accel file: a hold on its process's session.
pub(crate) struct QdaFile {
    /// The session (context bank) of the opening process; `None` only
    /// while closing.
    session: Option<SessionRef>,
    /// The DSP channel, for the release call on the last close.
    channel: Arc<Channel>,
}

impl QdaFile {
    /// The session of the file's process.
    pub(crate) fn session(&self) -> &SessionRef {
        // INVARIANT: `session` is only taken in `drop`.
        self.session.as_ref().expect("session taken before drop")
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
                crate::ratelimit::pr_info_ratelimited!(
                    "{}: no free session for process {}\n",
                    dev.domain.label(),
                    current.tgid()
                );
            })?;
        Ok(Self {
            session: Some(session),
            channel: dev.channel.clone(),
        })
    }
}

impl Drop for QdaFile {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let (cb, client_id) = (session.cb().clone(), session.client_id());
        if let Some(p) = session.close() {
            // Last file of the process: end its DSP side. If the DSP is
            // gone there is nothing to release.
            if let Err(e) = process::release(&self.channel, &cb, client_id, &p) {
                if e != ENODEV {
                    crate::ratelimit::pr_info_ratelimited!(
                        "release of session {} failed: {:?}\n",
                        client_id,
                        e
                    );
                }
            }
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
    if args.pad != 0 {
        return Err(EINVAL);
    }
    args.handle = create_bo(dev, file, args.size, 0)?;
    Ok(0)
}

/// Allocates a buffer of `size` bytes from `backend` for `file`'s session.
fn create_bo(dev: &QdaDevice, file: &File<QdaFile>, size: u64, backend: u32) -> Result<u32> {
    let size = memory::bo_size(size)?;
    let cb = file.data().session().cb();
    let mem = dev.memory.alloc(cb, size, backend).inspect_err(|e| {
        crate::ratelimit::pr_info_ratelimited!(
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
    let f = file.data();
    let s = f.session();
    s.start_process(|| process::attach(&f.channel, s.cb(), s.client_id()))?;
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
    let a = process::CreateArgs {
        filelen: args.filelen,
        filefd: args.filefd,
        attrs: args.attrs,
        siglen: args.siglen,
        file: args.file,
    };
    s.start_process(|| process::create(&f.channel, s.cb(), s.client_id(), &comm[..name_len], &a))?;
    Ok(0)
}

/// Size of one `struct drm_qda_invoke_arg`.
const INVOKE_ARG_SIZE: usize = 24;

/// IOCTL: `DRM_IOCTL_QDA_INVOKE`, call a method on a remote handle. Only
/// the 16 bytes of `struct drm_qda_invoke` are read and written, whatever
/// size the request encodes. Returns the remote method's return value.
pub(crate) fn invoke(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_invoke,
) -> Result<u32> {
    if args.handle == process::INIT_HANDLE {
        return Err(EPERM);
    }
    let f = file.data();
    let s = f.session();
    let pd = s.pd().ok_or(ENOTCONN)?;
    let sc = Scalars(args.sc);
    let n = sc.len();
    let mut reader =
        UserSlice::new(UserPtr::from_addr(args.args as usize), n * INVOKE_ARG_SIZE).reader();
    let mut list = KVec::with_capacity(n, GFP_KERNEL)?;
    for i in 0..n {
        let mut a = [0u8; INVOKE_ARG_SIZE];
        reader.read_slice(&mut a)?;
        let ptr = u64::from_le_bytes(a[0..8].try_into().map_err(|_| EINVAL)?);
        let len = u64::from_le_bytes(a[8..16].try_into().map_err(|_| EINVAL)?);
        let fd = i32::from_le_bytes(a[16..20].try_into().map_err(|_| EINVAL)?);
        let zero_copy = fd > 0 && len > 0;
        let arg = if i < sc.inbufs() {
            if zero_copy {
                Arg::Mapped { fd, ptr, len }
            } else {
                Arg::UserIn { ptr, len }
            }
        } else if i < sc.buffers() {
            if zero_copy {
                Arg::Mapped { fd, ptr, len }
            } else {
                Arg::UserOut { ptr, len }
            }
        } else {
            Arg::Handle {
                fd,
                offset: ptr as u32,
                len: u32::try_from(len).map_err(|_| EINVAL)?,
            }
        };
        list.push(arg, GFP_KERNEL)?;
    }
    let sid = s.cb().sid;
    let drm = file.drm_device();
    let resident = |buf: &DmaBuf| {
        let bo = ObjectRef::from_own_export(drm, &BO_FUNCS, buf)?;
        (bo.backing().sid == sid).then(|| bo.backing().mem.memory().iova())
    };
    let m = invoke::marshal(s.cb(), &list, &resident)?;
    let req = Request {
        client_id: s.client_id(),
        pd,
        handle: args.handle,
        sc: sc.0,
        payload: m.dsp,
        timeout_ms: match f.channel.user_timeout_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(ms),
        },
    };
    let r = f.channel.call(&req, m.payload.clone())?;
    m.unmarshal(&list, &mut KVec::new())?;
    match r {
        -4095..=-1 => Err(Error::from_errno(r)),
        // The DSP's own codes (e.g. AEE errors) reach the caller as they are.
        r => Ok(r as u32),
    }
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
    let pd = s.pd().ok_or(ENOTCONN)?;
    let a = process::MapArgs {
        request: args.request,
        flags: args.flags,
        fd: args.fd,
        offset: args.offset,
        vaddrin: args.vaddrin,
        size: args.size,
    };
    let m = process::map(&f.channel, s.cb(), s.client_id(), pd, &a)?;
    args.vaddrout = m.vaddrout;
    s.with_process(|p| Ok(p.maps.push(m, GFP_KERNEL)?))?;
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_MUNMAP`, undo a mapping this process made:
/// legacy ones by `vaddrout` and `size`, attribute ones by `fd`, `vaddr`
/// and `size`. `-EINVAL` if the kernel made no such mapping.
pub(crate) fn munmap(
    _dev: &QdaDevice,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_munmap,
) -> Result<u32> {
    let f = file.data();
    let s = f.session();
    let pd = s.pd().ok_or(ENOTCONN)?;
    let m = s.with_process(|p| {
        let i = p
            .maps
            .iter()
            .position(|m| {
                m.request == args.request
                    && m.size == args.size
                    && match args.request {
                        process::MAP_LEGACY => m.vaddrout == args.vaddrout,
                        _ => m.fd == args.fd && m.vaddrin == args.vaddr,
                    }
            })
            .ok_or(EINVAL)?;
        Ok(p.maps.remove(i)?)
    })?;
    if let Err(e) = process::unmap(&f.channel, s.cb(), s.client_id(), pd, &m) {
        // The DSP still uses it: keep tracking it.
        s.with_process(|p| Ok(p.maps.push(m, GFP_KERNEL)?))?;
        return Err(e);
    }
    Ok(0)
}

/// The DSP's attributes, queried once per device and cached.
fn attributes(dev: &QdaDevice, file: &File<QdaFile>) -> Result<KVec<u32>> {
    let mut cache = dev.attributes.lock();
    if cache.is_none() {
        let f = file.data();
        *cache = Some(process::capabilities(&f.channel, f.session().cb())?);
    }
    let mut v = KVec::new();
    v.extend_from_slice(cache.as_deref().unwrap_or(&[]), GFP_KERNEL)?;
    Ok(v)
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
    args.value = attributes(dev, file)?[args.attribute_id as usize];
    Ok(0)
}
