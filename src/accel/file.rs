// SPDX-License-Identifier: GPL-2.0

//! Open files and their ioctl handlers, one function per ioctl.
//!
//! Each handler gets the device, the file and a kernel copy of the
//! argument struct; the DRM core copies it from and back to userspace.

use kernel::prelude::*;

use crate::{
    accel::{
        names::resolve,
        uapi, //
    },
    buffer::bo::BO_FUNCS,
    dsp::{
        attributes,
        client::Client,
        invoke::{
            self,
            Call, //
        },
        mapping::{
            self,
            Unmap, //
        },
        start::{
            self,
            CreateRequest,
            StaticError, //
        },
        Dsp, //
    },
    fastrpc::{
        process,
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
    platform::session::SessionRef, //
};

/// An open accel file: its DSP client (see [`crate::dsp::client`]).
pub(crate) struct QdaFile {
    client: Client,
}

impl QdaFile {
    /// The file's DSP client.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The session of the file's process.
    pub(crate) fn session(&self) -> &SessionRef {
        self.client.session()
    }
}

impl FileData for QdaFile {
    type Device = Dsp;

    fn open(dev: &Dsp) -> Result<Self> {
        Ok(Self {
            client: Client::open(dev)?,
        })
    }
}

/// IOCTL: `DRM_IOCTL_QDA_QUERY`, identify the DSP behind this node.
pub(crate) fn query(
    dev: &Dsp,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_query,
) -> Result<u32> {
    args.dsp_name = dev.domain.dsp_name();
    // Bit i: DSP attribute i is non-zero (attributes 1..31 of the
    // capability query); 0 if the DSP cannot be asked.
    args.capabilities = attributes::all(dev, file.data().client()).map_or(0, |a| {
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
    dev: &Dsp,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_gem_create,
) -> Result<u32> {
    // `pad` is not checked: the library's struct has no such member, so
    // its 4 tail bytes are whatever its stack held.
    args.handle = create_bo(dev, file, args.size, 0)?;
    Ok(0)
}

/// Allocates a buffer of `size` bytes from `backend` for `file`'s session.
fn create_bo(dev: &Dsp, file: &File<QdaFile>, size: u64, backend: u32) -> Result<u32> {
    let c = file.data().client();
    let (bo, size) = dev.alloc_bo(c, size, backend)?;
    create_handle(file, &BO_FUNCS, size, bo)
}

/// IOCTL: `DRM_IOCTL_QDA_GEM_CREATE_EX`, allocate a buffer object from a
/// chosen memory backend.
pub(crate) fn gem_create_ex(
    dev: &Dsp,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_gem_create_ex,
) -> Result<u32> {
    args.handle = create_bo(dev, file, args.size, args.backend)?;
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_GEM_MMAP_OFFSET`, the offset to `mmap()` a handle
/// at on this file.
pub(crate) fn gem_mmap_offset(
    _dev: &Dsp,
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
    _dev: &Dsp,
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
/// root PD (privileged: see [`crate::dsp::policy`]).
pub(crate) fn init_attach(
    dev: &Dsp,
    file: &File<QdaFile>,
    _args: &mut uapi::NoArgs,
) -> Result<u32> {
    start::attach(dev, file.data().client(), wire::ROOT_PD)
}

/// IOCTL: `DRM_IOCTL_QDA_INIT_ATTACH_SNS`, attach the file's process to
/// the DSP's sensors PD (privileged).
pub(crate) fn init_attach_sns(
    dev: &Dsp,
    file: &File<QdaFile>,
    _args: &mut uapi::NoArgs,
) -> Result<u32> {
    start::attach(dev, file.data().client(), wire::SENSORS_PD)
}

/// IOCTL: `DRM_IOCTL_QDA_INIT_CREATE_STATIC`, start a static PD (the
/// audio PD) on the DSP's remote heap (privileged).
pub(crate) fn init_create_static(
    dev: &Dsp,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_init_create_static,
) -> Result<u32> {
    start::create_static(dev, file.data().client(), (args.namelen, args.name)).map_err(
        |e| match e {
            StaticError::NoHeap => ENODEV,
            StaticError::Failed(e) => e,
        },
    )
}

/// IOCTL: `DRM_IOCTL_QDA_INIT_CREATE`, create a dynamic user PD running a
/// shell image.
pub(crate) fn init_create(
    dev: &Dsp,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_init_create,
) -> Result<u32> {
    let c = file.data().client();
    let req = CreateRequest {
        filelen: args.filelen,
        filefd: args.filefd,
        attrs: args.attrs,
        siglen: args.siglen,
        file: args.file,
    };
    // An accel file counts as a file of the secure node if its opener was
    // privileged (upstream's rule for its two nodes).
    start::create(dev, c, file, &req, c.privilege.is_daemon())
}

/// IOCTL: `DRM_IOCTL_QDA_INVOKE`, call a method on a remote handle. Only
/// the 16 bytes of `struct drm_qda_invoke` are read and written, whatever
/// size the request encodes. An argument's `fd` names the buffer its
/// pointer lies in (see [`crate::buffer::reference`]; passed zero copy) or is
/// -1/0 (copied inline). Returns the remote method's return value.
pub(crate) fn invoke(
    dev: &Dsp,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_invoke,
) -> Result<u32> {
    let call = Call {
        handle: args.handle,
        sc: args.sc,
        args: args.args,
    };
    invoke::call::<uapi::drm_qda_invoke_arg>(dev, file.data().client(), file, &call)
}

/// IOCTL: `DRM_IOCTL_QDA_MAP`, map memory into the DSP process: a legacy
/// mapping (kernel pages, or a dma-buf) or one with SMMU attributes (a
/// dma-buf). The kernel keeps track of it until `DRM_IOCTL_QDA_MUNMAP` or
/// the process ends.
pub(crate) fn map(_dev: &Dsp, file: &File<QdaFile>, args: &mut uapi::drm_qda_map) -> Result<u32> {
    if args.reserved != 0 {
        return Err(EINVAL);
    }
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
        charge: None,
        reuse: None,
    };
    args.vaddrout = mapping::map(file.data().client(), a)?;
    Ok(0)
}

/// IOCTL: `DRM_IOCTL_QDA_MUNMAP`, undo a mapping this file made: legacy
/// ones by `vaddrout` and `size`, attribute ones by `fd` and `vaddr`, the
/// DSP address `DRM_IOCTL_QDA_MAP` returned (as the library does).
/// `-EINVAL` if the kernel made no such mapping.
pub(crate) fn munmap(
    _dev: &Dsp,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_munmap,
) -> Result<u32> {
    let which = match args.request {
        process::MAP_LEGACY => Unmap::Legacy {
            vaddrout: args.vaddrout,
            size: args.size,
        },
        process::MAP_ATTR => Unmap::Attr {
            fd: Some(args.fd),
            vaddr: args.vaddr,
        },
        // The kernel makes no mapping of another kind.
        _ => Unmap::Nothing,
    };
    mapping::unmap(file.data().client(), which)
}

/// IOCTL: `DRM_IOCTL_QDA_GET_ATTR`, one DSP attribute (capability query on
/// handle 2); `-EOVERFLOW` past the last one.
pub(crate) fn get_attr(
    dev: &Dsp,
    file: &File<QdaFile>,
    args: &mut uapi::drm_qda_get_attr,
) -> Result<u32> {
    args.value = attributes::one(dev, file.data().client(), args.attribute_id)?;
    Ok(0)
}
