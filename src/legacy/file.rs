// SPDX-License-Identifier: GPL-2.0

//! Open files of the legacy nodes and their ioctl handlers, one function
//! per ioctl of `include/uapi/misc/fastrpc.h`.
//!
//! A legacy file is a DSP client like an accel file (see
//! [`crate::dsp::client`]): same engine, same sessions. Buffers are dma-buf
//! fds, as in `drivers/misc/fastrpc.c`; `ALLOC_DMA_BUFF` exports qda
//! buffer objects, which the accel side and the DSP see as the same
//! memory.

use kernel::{
    fs::File,
    prelude::*,
    sync::Arc, //
};

use super::{
    node::LegacyNode,
    uapi::{
        self,
        read,
        write_field, //
    },
};
use crate::{
    buffer::{
        bo::BO_FUNCS,
        reference::{
            mapping_at,
            resolve_dmabuf,
            Resolve,
            Resolved, //
        },
    },
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
        process::{
            self,
            MapArgs, //
        },
        wire, //
    },
    ffi::{
        accel::DrmDeviceRef,
        gem::create_object,
        misc::NodeFile, //
    },
};

/// An open file of a legacy node.
pub(super) struct LegacyFile {
    client: Client,
    dev: Arc<Dsp>,
    drm: DrmDeviceRef,
    /// Opened on the `-secure` node.
    secure_node: bool,
}

impl Resolve for LegacyFile {
    /// A legacy reference is a dma-buf fd, as upstream reads it.
    fn resolve(&self, fd: i32, ptr: u64, what: &str) -> Result<Resolved> {
        resolve_dmabuf(
            &self.drm,
            self.client.session().cb(),
            fd,
            mapping_at(ptr)?,
            what,
        )
    }
}

impl NodeFile for LegacyFile {
    type Data = LegacyNode;

    fn open(_file: &File, node: &LegacyNode) -> Result<Self> {
        let dev = node.dev.clone();
        Ok(Self {
            client: Client::open(&dev)?,
            drm: node.drm.clone(),
            secure_node: node.secure,
            dev,
        })
    }

    fn ioctl(me: &Self, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        // Inside the accel device's registration guard, as its own ioctls:
        // `-ENODEV` once the DSP is removed, and removal waits for this
        // call before it tears down what the call uses.
        let Some(_registered) = me.drm.enter() else {
            return Err(ENODEV);
        };
        let r = match cmd {
            uapi::INVOKE => me.invoke(arg),
            uapi::INIT_ATTACH => start::attach(&me.dev, &me.client, wire::ROOT_PD),
            uapi::INIT_ATTACH_SNS => start::attach(&me.dev, &me.client, wire::SENSORS_PD),
            uapi::INIT_CREATE_STATIC => me.init_create_static(arg),
            uapi::INIT_CREATE => me.init_create(arg),
            uapi::ALLOC_DMA_BUFF => me.alloc_dma_buff(arg),
            uapi::MMAP => me.mmap(arg),
            uapi::MUNMAP => me.munmap(arg),
            uapi::MEM_MAP => me.mem_map(arg),
            uapi::MEM_UNMAP => me.mem_unmap(arg),
            uapi::SET_OPTION => me.set_option(arg),
            uapi::GET_DSP_INFO => me.get_dsp_info(arg),
            // Including FASTRPC_IOCTL_FREE_DMA_BUFF, which upstream never
            // implemented (a buffer is freed when its fd is closed).
            _ => Err(ENOTTY),
        };
        r.map(|v| v as isize)
    }
}

impl LegacyFile {
    /// `FASTRPC_IOCTL_INVOKE`: as `DRM_IOCTL_QDA_INVOKE`, with dma-buf fds.
    fn invoke(&self, arg: usize) -> Result<u32> {
        let a: uapi::fastrpc_invoke = read(arg)?;
        let call = Call {
            handle: a.handle,
            sc: a.sc,
            args: a.args,
        };
        invoke::call::<uapi::fastrpc_invoke_args>(&self.dev, &self.client, self, &call)
    }

    /// `FASTRPC_IOCTL_INIT_CREATE_STATIC` (`-ENOMEM` without a remote
    /// heap, as upstream).
    fn init_create_static(&self, arg: usize) -> Result<u32> {
        let a: uapi::fastrpc_init_create_static = read(arg)?;
        start::create_static(&self.dev, &self.client, (a.namelen, a.name)).map_err(|e| match e {
            StaticError::NoHeap => ENOMEM,
            StaticError::Failed(e) => e,
        })
    }

    /// `FASTRPC_IOCTL_INIT_CREATE`, with upstream's secure-node rule.
    fn init_create(&self, arg: usize) -> Result<u32> {
        let a: uapi::fastrpc_init_create = read(arg)?;
        let req = CreateRequest {
            filelen: a.filelen,
            filefd: a.filefd,
            attrs: a.attrs,
            siglen: a.siglen,
            file: a.file,
        };
        start::create(&self.dev, &self.client, self, &req, self.secure_node)
    }

    /// `FASTRPC_IOCTL_ALLOC_DMA_BUFF`: a buffer of the default backend in
    /// the file's context bank, exported as a dma-buf fd.
    fn alloc_dma_buff(&self, arg: usize) -> Result<u32> {
        let a: uapi::fastrpc_alloc_dma_buf = read(arg)?;
        let c = &self.client;
        let (bo, size) = self.dev.alloc_bo(c, a.size, 0)?;
        let obj = create_object(&self.drm, &BO_FUNCS, size, bo)?;
        obj.export_fd(kernel::bindings::O_RDWR, |fd| {
            write_field(
                arg,
                core::mem::offset_of!(uapi::fastrpc_alloc_dma_buf, fd),
                &fd,
            )
        })?;
        Ok(0)
    }

    /// `FASTRPC_IOCTL_MMAP`: kernel pages added to the DSP process's heap
    /// (upstream takes neither a buffer nor an address).
    fn mmap(&self, arg: usize) -> Result<u32> {
        let a: uapi::fastrpc_req_mmap = read(arg)?;
        if a.vaddrin != 0 {
            return Err(EINVAL);
        }
        let m = MapArgs {
            request: process::MAP_LEGACY,
            flags: a.flags,
            fd: -1,
            buf: None,
            offset: 0,
            vaddrin: 0,
            size: a.size,
            charge: None,
            reuse: None,
        };
        let vaddrout = mapping::map(&self.client, m)?;
        let at = core::mem::offset_of!(uapi::fastrpc_req_mmap, vaddrout);
        self.publish(arg, at, vaddrout, process::MAP_LEGACY)
    }

    /// Tells the caller the DSP address of its new mapping (`request`) at
    /// byte `at` of the argument; if it cannot be told, the mapping is
    /// undone, as upstream does.
    fn publish(&self, arg: usize, at: usize, vaddrout: u64, request: u32) -> Result<u32> {
        if let Err(e) = write_field(arg, at, &vaddrout) {
            let _ = mapping::unmap(&self.client, Unmap::Made { request, vaddrout });
            return Err(e);
        }
        Ok(0)
    }

    /// `FASTRPC_IOCTL_MUNMAP`: by DSP address and size.
    fn munmap(&self, arg: usize) -> Result<u32> {
        let a: uapi::fastrpc_req_munmap = read(arg)?;
        let which = Unmap::Legacy {
            vaddrout: a.vaddrout,
            size: a.size,
        };
        mapping::unmap(&self.client, which)
    }

    /// `FASTRPC_IOCTL_MEM_MAP`: a dma-buf mapped into the DSP process.
    fn mem_map(&self, arg: usize) -> Result<u32> {
        let a: uapi::fastrpc_mem_map = read(arg)?;
        // As upstream: the fd names the buffer; `vaddrin` is only passed on.
        let buf = self.resolve(a.fd, 0, "mem_map")?.buf;
        let m = MapArgs {
            request: process::MAP_ATTR,
            flags: a.flags,
            fd: a.fd,
            buf: Some(buf),
            offset: a.offset as u32,
            vaddrin: a.vaddrin,
            size: a.length,
            charge: None,
            reuse: None,
        };
        let vaddrout = mapping::map(&self.client, m)?;
        let at = core::mem::offset_of!(uapi::fastrpc_mem_map, vaddrout);
        self.publish(arg, at, vaddrout, process::MAP_ATTR)
    }

    /// `FASTRPC_IOCTL_MEM_UNMAP`: by DSP address, and fd unless negative.
    fn mem_unmap(&self, arg: usize) -> Result<u32> {
        let a: uapi::fastrpc_mem_unmap = read(arg)?;
        let which = Unmap::Attr {
            fd: (a.fd >= 0).then_some(a.fd),
            vaddr: a.vaddr,
        };
        mapping::unmap(&self.client, which)
    }

    /// `FASTRPC_IOCTL_SET_OPTION`: checked as upstream; poll mode (the
    /// only option) is unsupported by qda, so it is refused with
    /// `-EOPNOTSUPP`, as upstream does on SoCs without it.
    fn set_option(&self, arg: usize) -> Result<u32> {
        let a: uapi::fastrpc_ioctl_set_option = read(arg)?;
        if a.reserved.iter().any(|&r| r != 0) || a.request_id != uapi::FASTRPC_POLL_MODE {
            return Err(EINVAL);
        }
        Err(EOPNOTSUPP)
    }

    /// `FASTRPC_IOCTL_GET_DSP_INFO`: one DSP attribute.
    fn get_dsp_info(&self, arg: usize) -> Result<u32> {
        let a: uapi::fastrpc_ioctl_capability = read(arg)?;
        let v = attributes::one(&self.dev, &self.client, a.attribute_id)?;
        write_field(
            arg,
            core::mem::offset_of!(uapi::fastrpc_ioctl_capability, capability),
            &v,
        )?;
        Ok(0)
    }
}
