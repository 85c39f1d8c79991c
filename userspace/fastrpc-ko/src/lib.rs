//! A typed client of the upstream driver's UAPI (`drivers/misc/fastrpc.c`,
//! `include/uapi/misc/fastrpc.h` of Linux 7.3) on `/dev/fastrpc-<label>`.
//!
//! Used to run the same operations through fastrpc.ko and through qda on
//! one simulated DSP (`qdactl compare`, the `qda_differential` suite).
//! The structures are written from the header's layout; the size and
//! request-number asserts below pin them.
//!
//! ```no_run
//! let up = fastrpc_ko::Legacy::open("cdsp")?;
//! up.attach()?;
//! let null = qda::rpc::open_module_with(|h, sc, a| up.invoke(h, sc, a), "null")?;
//! up.invoke(null, qda::rpc::scalars(2, 0, 0), &mut [])?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::{
    fs::{File, OpenOptions},
    io,
    mem::{offset_of, size_of},
    os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd},
};

use qda::{
    ioctl::{ioctl, ioctl_indirect, ioctl_no_arg},
    rpc::Arg,
    uapi,
};

/// The ioctl type character of fastrpc.ko.
const TYPE: u32 = b'R' as u32;
const IOC_NONE: u32 = 0;
const IOC_READ_WRITE: u32 = 3;

/// `_IO('R', nr)`.
const fn io(nr: u32) -> u32 {
    uapi::ioc(IOC_NONE, TYPE, nr, 0)
}

/// `_IOWR('R', nr, size)`.
const fn iowr(nr: u32, size: usize) -> u32 {
    uapi::ioc(IOC_READ_WRITE, TYPE, nr, size)
}

/// `struct fastrpc_invoke_args`: the same layout as [`Arg`] (and
/// `struct drm_qda_invoke_arg`), so qda's argument arrays are passed as
/// they are.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct InvokeArgs {
    pub ptr: u64,
    pub length: u64,
    pub fd: i32,
    pub attr: u32,
}

/// `struct fastrpc_invoke`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Invoke {
    pub handle: u32,
    pub sc: u32,
    /// Address of an array of [`InvokeArgs`].
    pub args: u64,
}

/// `struct fastrpc_init_create`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct InitCreate {
    /// Length of the shell image.
    pub filelen: u32,
    /// dma-buf fd holding the image (-1: copied from `file`).
    pub filefd: i32,
    pub attrs: u32,
    pub siglen: u32,
    /// Address of the image in the caller's memory.
    pub file: u64,
}

/// `struct fastrpc_alloc_dma_buf`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct AllocDmaBuf {
    /// [out] the new dma-buf.
    pub fd: i32,
    pub flags: u32,
    pub size: u64,
}

/// `struct fastrpc_req_mmap`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ReqMmap {
    pub fd: i32,
    /// `ADSP_MMAP_*` flags the DSP maps with.
    pub flags: u32,
    pub vaddrin: u64,
    pub size: u64,
    /// [out] the DSP's address.
    pub vaddrout: u64,
}

/// `struct fastrpc_req_munmap`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ReqMunmap {
    pub vaddrout: u64,
    pub size: u64,
}

/// `struct fastrpc_mem_map`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MemMap {
    pub version: i32,
    pub fd: i32,
    pub offset: i32,
    /// `enum fastrpc_map_flags`.
    pub flags: u32,
    pub vaddrin: u64,
    pub length: u64,
    /// [out] the DSP's address.
    pub vaddrout: u64,
    /// SMMU attributes (`FASTRPC_ATTR_*`).
    pub attrs: i32,
    pub reserved: [i32; 4],
}

/// `struct fastrpc_mem_unmap` (the header spells `version` "vesion").
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MemUnmap {
    pub version: i32,
    pub fd: i32,
    /// The DSP's address MEM_MAP returned.
    pub vaddr: u64,
    pub length: u64,
    pub reserved: [i32; 5],
}

/// `struct fastrpc_ioctl_capability`. Linux 7.3 calls the first field
/// `unused` and ignores it; older kernels read it as the domain id.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Capability {
    pub domain: u32,
    pub attribute_id: u32,
    /// [out] the attribute's value.
    pub capability: u32,
    pub reserved: [u32; 4],
}

/// `struct fastrpc_init_create_static`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct InitCreateStatic {
    pub namelen: u32,
    pub memlen: u32,
    /// Address of the PD's name.
    pub name: u64,
}

/// `struct fastrpc_ioctl_set_option`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SetOption {
    pub request_id: u32,
    pub value: u32,
    pub reserved: [i32; 6],
}

/// `FASTRPC_POLL_MODE`, the only option of SET_OPTION.
pub const FASTRPC_POLL_MODE: u32 = 1;
/// `FASTRPC_MODE_UNSIGNED_MODULE`: INIT_CREATE of an unsigned PD.
pub const FASTRPC_MODE_UNSIGNED_MODULE: u32 = 1 << 3;

/// `FASTRPC_IOCTL_INIT_CREATE_STATIC`.
pub const FASTRPC_IOCTL_INIT_CREATE_STATIC: u32 = iowr(9, size_of::<InitCreateStatic>());
/// `FASTRPC_IOCTL_SET_OPTION`.
pub const FASTRPC_IOCTL_SET_OPTION: u32 = iowr(12, size_of::<SetOption>());
/// `FASTRPC_IOCTL_ALLOC_DMA_BUFF`.
pub const FASTRPC_IOCTL_ALLOC_DMA_BUFF: u32 = iowr(1, size_of::<AllocDmaBuf>());
/// `FASTRPC_IOCTL_FREE_DMA_BUFF`.
pub const FASTRPC_IOCTL_FREE_DMA_BUFF: u32 = iowr(2, size_of::<u32>());
/// `FASTRPC_IOCTL_INVOKE`.
pub const FASTRPC_IOCTL_INVOKE: u32 = iowr(3, size_of::<Invoke>());
/// `FASTRPC_IOCTL_INIT_ATTACH`.
pub const FASTRPC_IOCTL_INIT_ATTACH: u32 = io(4);
/// `FASTRPC_IOCTL_INIT_CREATE`.
pub const FASTRPC_IOCTL_INIT_CREATE: u32 = iowr(5, size_of::<InitCreate>());
/// `FASTRPC_IOCTL_MMAP`.
pub const FASTRPC_IOCTL_MMAP: u32 = iowr(6, size_of::<ReqMmap>());
/// `FASTRPC_IOCTL_MUNMAP`.
pub const FASTRPC_IOCTL_MUNMAP: u32 = iowr(7, size_of::<ReqMunmap>());
/// `FASTRPC_IOCTL_INIT_ATTACH_SNS`.
pub const FASTRPC_IOCTL_INIT_ATTACH_SNS: u32 = io(8);
/// `FASTRPC_IOCTL_MEM_MAP`.
pub const FASTRPC_IOCTL_MEM_MAP: u32 = iowr(10, size_of::<MemMap>());
/// `FASTRPC_IOCTL_MEM_UNMAP`.
pub const FASTRPC_IOCTL_MEM_UNMAP: u32 = iowr(11, size_of::<MemUnmap>());
/// `FASTRPC_IOCTL_GET_DSP_INFO`.
pub const FASTRPC_IOCTL_GET_DSP_INFO: u32 = iowr(13, size_of::<Capability>());

/// `ADSP_MMAP_ADD_PAGES`: MMAP flags for kernel-allocated pages added to
/// the DSP process's heap.
pub const ADSP_MMAP_ADD_PAGES: u32 = 0x1000;
/// `FASTRPC_MAP_STATIC`.
pub const FASTRPC_MAP_STATIC: u32 = 0;
/// `FASTRPC_MAP_FD`.
pub const FASTRPC_MAP_FD: u32 = 2;

// SAFETY (every `Ioctl::new` below): the request reads and writes its one
// structure, which holds no address the kernel follows (`vaddrin` is passed
// to the DSP, not accessed), and every bit pattern is a valid value of it.
mod req {
    use super::*;
    use qda::ioctl::{IndirectIoctl, Ioctl, IoctlNoArg};

    // SAFETY: see above.
    pub const ALLOC_DMA_BUFF: Ioctl<AllocDmaBuf> =
        unsafe { Ioctl::new(FASTRPC_IOCTL_ALLOC_DMA_BUFF) };
    /// Reads the argument array at `args` and the buffers it names.
    pub const INVOKE: IndirectIoctl<Invoke> = IndirectIoctl::new(FASTRPC_IOCTL_INVOKE);
    // SAFETY: INIT_ATTACH ignores its argument.
    pub const INIT_ATTACH: IoctlNoArg = unsafe { IoctlNoArg::new(FASTRPC_IOCTL_INIT_ATTACH) };
    // SAFETY: INIT_ATTACH_SNS ignores its argument.
    pub const INIT_ATTACH_SNS: IoctlNoArg =
        unsafe { IoctlNoArg::new(FASTRPC_IOCTL_INIT_ATTACH_SNS) };
    /// Reads the shell image at `file`.
    pub const INIT_CREATE: IndirectIoctl<InitCreate> =
        IndirectIoctl::new(FASTRPC_IOCTL_INIT_CREATE);
    // SAFETY: see above.
    pub const MMAP: Ioctl<ReqMmap> = unsafe { Ioctl::new(FASTRPC_IOCTL_MMAP) };
    // SAFETY: see above.
    pub const MUNMAP: Ioctl<ReqMunmap> = unsafe { Ioctl::new(FASTRPC_IOCTL_MUNMAP) };
    // SAFETY: see above.
    pub const MEM_MAP: Ioctl<MemMap> = unsafe { Ioctl::new(FASTRPC_IOCTL_MEM_MAP) };
    // SAFETY: see above.
    pub const MEM_UNMAP: Ioctl<MemUnmap> = unsafe { Ioctl::new(FASTRPC_IOCTL_MEM_UNMAP) };
    /// Reads the name at `name`.
    pub const INIT_CREATE_STATIC: IndirectIoctl<InitCreateStatic> =
        IndirectIoctl::new(FASTRPC_IOCTL_INIT_CREATE_STATIC);
    // SAFETY: see above.
    pub const SET_OPTION: Ioctl<SetOption> = unsafe { Ioctl::new(FASTRPC_IOCTL_SET_OPTION) };
    // SAFETY: see above.
    pub const GET_DSP_INFO: Ioctl<Capability> = unsafe { Ioctl::new(FASTRPC_IOCTL_GET_DSP_INFO) };
}

// The C layouts (x86-64 and arm64 agree: no pointers, natural alignment).
const _: () = assert!(size_of::<InvokeArgs>() == 24);
const _: () = assert!(size_of::<Invoke>() == 16);
const _: () = assert!(size_of::<InitCreate>() == 24);
const _: () = assert!(size_of::<AllocDmaBuf>() == 16);
const _: () = assert!(size_of::<ReqMmap>() == 32);
const _: () = assert!(size_of::<ReqMunmap>() == 16);
const _: () = assert!(size_of::<MemMap>() == 64 && offset_of!(MemMap, attrs) == 40);
const _: () = assert!(size_of::<MemUnmap>() == 48 && offset_of!(MemUnmap, reserved) == 24);
const _: () = assert!(size_of::<Capability>() == 28);
const _: () = assert!(size_of::<InitCreateStatic>() == 16);
const _: () = assert!(size_of::<SetOption>() == 32);
// qda's argument arrays are fastrpc.ko's.
const _: () = assert!(size_of::<Arg>() == size_of::<InvokeArgs>());
const _: () = assert!(size_of::<uapi::InvokeArg>() == size_of::<InvokeArgs>());
const _: () = assert!(offset_of!(uapi::InvokeArg, ptr) == offset_of!(InvokeArgs, ptr));
const _: () = assert!(offset_of!(uapi::InvokeArg, length) == offset_of!(InvokeArgs, length));
const _: () = assert!(offset_of!(uapi::InvokeArg, fd) == offset_of!(InvokeArgs, fd));
const _: () = assert!(offset_of!(uapi::InvokeArg, attr) == offset_of!(InvokeArgs, attr));
const _: () = assert!(FASTRPC_IOCTL_INVOKE == 0xc010_5203);
const _: () = assert!(FASTRPC_IOCTL_INIT_ATTACH == 0x0000_5204);

/// The domain id of DSP `label` as fastrpc.ko numbers them: by the
/// label's first four letters, so `cdsp1` is a CDSP and `gdsp0` and
/// `gdsp1` GDSPs.
pub fn domain_id(label: &str) -> Option<u32> {
    match label.get(..4)? {
        "adsp" => Some(0),
        "mdsp" => Some(1),
        "sdsp" => Some(2),
        "cdsp" => Some(3),
        "gdsp" => Some(4),
        _ => None,
    }
}

/// An open `/dev/fastrpc-<label>`.
#[derive(Debug)]
pub struct Legacy {
    file: File,
    domain: u32,
}

impl AsFd for Legacy {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl Legacy {
    /// Opens `/dev/fastrpc-<label>`.
    pub fn open(label: &str) -> io::Result<Self> {
        Self::open_node(label, false)
    }

    /// Opens `/dev/fastrpc-<label>`, or `/dev/fastrpc-<label>-secure` if
    /// `secure`.
    pub fn open_node(label: &str, secure: bool) -> io::Result<Self> {
        let domain = domain_id(label).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no fastrpc domain is called {label:?}"),
            )
        })?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(Self::node(label, secure))?;
        Ok(Self { file, domain })
    }

    /// The path of the node of `label` (`-secure` if `secure`).
    pub fn node(label: &str, secure: bool) -> String {
        let tail = if secure { "-secure" } else { "" };
        format!("/dev/fastrpc-{label}{tail}")
    }

    /// Starts static PD `name` (`FASTRPC_IOCTL_INIT_CREATE_STATIC`).
    pub fn create_static(&self, name: &str) -> io::Result<()> {
        let mut a = InitCreateStatic {
            namelen: name.len() as u32,
            memlen: 0,
            name: name.as_ptr() as u64,
        };
        // SAFETY: INIT_CREATE_STATIC only reads `namelen` bytes at `name`,
        // borrowed until we return.
        unsafe { ioctl_indirect(self.file.as_fd(), req::INIT_CREATE_STATIC, &mut a)? };
        Ok(())
    }

    /// `FASTRPC_IOCTL_SET_OPTION` as given.
    pub fn set_option(&self, opt: SetOption) -> io::Result<()> {
        let mut a = opt;
        ioctl(self.file.as_fd(), req::SET_OPTION, &mut a)?;
        Ok(())
    }

    /// The node's fd.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// Attaches to the DSP's root PD (`FASTRPC_IOCTL_INIT_ATTACH`).
    pub fn attach(&self) -> io::Result<()> {
        ioctl_no_arg(self.file.as_fd(), req::INIT_ATTACH)?;
        Ok(())
    }

    /// Attaches to the DSP's sensors PD (`FASTRPC_IOCTL_INIT_ATTACH_SNS`).
    pub fn attach_sensors(&self) -> io::Result<()> {
        ioctl_no_arg(self.file.as_fd(), req::INIT_ATTACH_SNS)?;
        Ok(())
    }

    /// Creates a dynamic user PD running `shell` (`FASTRPC_IOCTL_INIT_CREATE`):
    /// without `shell_fd` its bytes are copied; otherwise `shell_fd` is the
    /// dma-buf holding them and `shell` lies in a mapping of it.
    pub fn create(
        &self,
        shell_fd: Option<BorrowedFd<'_>>,
        shell: &[u8],
        attrs: u32,
    ) -> io::Result<()> {
        let mut a = InitCreate {
            filelen: shell.len() as u32,
            filefd: shell_fd.map_or(-1, |fd| fd.as_raw_fd()),
            attrs,
            siglen: 0,
            file: shell.as_ptr() as u64,
        };
        // SAFETY: INIT_CREATE only reads through `a.file`, the address of
        // the `filelen` bytes of `shell`, borrowed until we return.
        unsafe { ioctl_indirect(self.file.as_fd(), req::INIT_CREATE, &mut a)? };
        Ok(())
    }

    /// Calls method `sc` of remote `handle` (`FASTRPC_IOCTL_INVOKE`); the
    /// remote return value comes back as it is.
    pub fn invoke(&self, handle: u32, sc: u32, args: &mut [Arg<'_>]) -> io::Result<i32> {
        qda::rpc::kernel_view(sc, args, |args| {
            let mut inv = Invoke {
                handle,
                sc,
                args: args.as_mut_ptr() as u64,
            };
            // SAFETY: INVOKE reads `sc`'s count of arguments from
            // `inv.args`, i.e. from `args` (an `Arg` is a `struct
            // fastrpc_invoke_args`, asserted above), which holds at least
            // that many and has none the kernel would write that is
            // borrowed shared or is no address (`kernel_view` checked);
            // `args` is borrowed until we return, as are the buffers the
            // arguments name (exclusively for outputs).
            unsafe { ioctl_indirect(self.file.as_fd(), req::INVOKE, &mut inv) }
        })
    }

    /// Allocates a `size`-byte dma-buf in the file's context bank
    /// (`FASTRPC_IOCTL_ALLOC_DMA_BUFF`).
    pub fn alloc_dma_buf(&self, size: u64) -> io::Result<OwnedFd> {
        let mut a = AllocDmaBuf {
            fd: -1,
            flags: 0,
            size,
        };
        ioctl(self.file.as_fd(), req::ALLOC_DMA_BUFF, &mut a)?;
        // SAFETY: the kernel returned a new fd that we now own.
        Ok(unsafe { OwnedFd::from_raw_fd(a.fd) })
    }

    /// Adds `size` bytes of kernel pages to the DSP process
    /// (`FASTRPC_IOCTL_MMAP`); returns the DSP's address.
    pub fn mmap(&self, flags: u32, size: u64) -> io::Result<u64> {
        let mut a = ReqMmap {
            fd: -1,
            flags,
            vaddrin: 0,
            size,
            vaddrout: 0,
        };
        ioctl(self.file.as_fd(), req::MMAP, &mut a)?;
        Ok(a.vaddrout)
    }

    /// Undoes [`Legacy::mmap`] (`FASTRPC_IOCTL_MUNMAP`).
    pub fn munmap(&self, vaddrout: u64, size: u64) -> io::Result<()> {
        let mut a = ReqMunmap { vaddrout, size };
        ioctl(self.file.as_fd(), req::MUNMAP, &mut a)?;
        Ok(())
    }

    /// Maps `length` bytes of dma-buf `fd`, mapped by this process at
    /// `vaddrin`, into the DSP process (`FASTRPC_IOCTL_MEM_MAP`) with
    /// `flags` (`FASTRPC_MAP_*`) and SMMU `attrs`; returns the DSP's
    /// address.
    pub fn mem_map(
        &self,
        fd: BorrowedFd<'_>,
        flags: u32,
        vaddrin: u64,
        length: u64,
        attrs: i32,
    ) -> io::Result<u64> {
        let mut a = MemMap {
            fd: fd.as_raw_fd(),
            flags,
            vaddrin,
            length,
            attrs,
            ..Default::default()
        };
        ioctl(self.file.as_fd(), req::MEM_MAP, &mut a)?;
        Ok(a.vaddrout)
    }

    /// Undoes [`Legacy::mem_map`] of `fd` at DSP address `vaddr`
    /// (`FASTRPC_IOCTL_MEM_UNMAP`).
    pub fn mem_unmap(&self, fd: BorrowedFd<'_>, vaddr: u64, length: u64) -> io::Result<()> {
        let mut a = MemUnmap {
            fd: fd.as_raw_fd(),
            vaddr,
            length,
            ..Default::default()
        };
        ioctl(self.file.as_fd(), req::MEM_UNMAP, &mut a)?;
        Ok(())
    }

    /// One DSP attribute (`FASTRPC_IOCTL_GET_DSP_INFO`).
    pub fn dsp_info(&self, attribute_id: u32) -> io::Result<u32> {
        let mut a = Capability {
            domain: self.domain,
            attribute_id,
            ..Default::default()
        };
        ioctl(self.file.as_fd(), req::GET_DSP_INFO, &mut a)?;
        Ok(a.capability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_match_the_header() {
        assert_eq!(FASTRPC_IOCTL_ALLOC_DMA_BUFF, 0xc010_5201);
        assert_eq!(FASTRPC_IOCTL_FREE_DMA_BUFF, 0xc004_5202);
        assert_eq!(FASTRPC_IOCTL_INVOKE, 0xc010_5203);
        assert_eq!(FASTRPC_IOCTL_INIT_ATTACH, 0x0000_5204);
        assert_eq!(FASTRPC_IOCTL_INIT_CREATE, 0xc018_5205);
        assert_eq!(FASTRPC_IOCTL_MMAP, 0xc020_5206);
        assert_eq!(FASTRPC_IOCTL_MUNMAP, 0xc010_5207);
        assert_eq!(FASTRPC_IOCTL_INIT_ATTACH_SNS, 0x0000_5208);
        assert_eq!(FASTRPC_IOCTL_MEM_MAP, 0xc040_520a);
        assert_eq!(FASTRPC_IOCTL_MEM_UNMAP, 0xc030_520b);
        assert_eq!(FASTRPC_IOCTL_GET_DSP_INFO, 0xc01c_520d);
    }

    #[test]
    fn domains_are_numbered_as_upstream() {
        assert_eq!(domain_id("adsp"), Some(0));
        assert_eq!(domain_id("cdsp"), Some(3));
        assert_eq!(domain_id("gpdsp"), None);
        assert_eq!(domain_id("cdsp1"), Some(3));
        assert_eq!(domain_id("gdsp0"), Some(4));
        assert_eq!(domain_id("gdsp1"), Some(4));
        assert_eq!(domain_id("ads"), None);
    }
}
