//! The qda UAPI (`include/uapi/drm/qda_accel.h`) for userspace.
//!
//! The structures and request numbers come from [`sys`], generated from
//! the header by `scripts/gen-uapi.sh` (`make check` fails if the two
//! disagree); this module gives them Rust names. Only the generic DRM
//! requests, which `drm.h` defines with function-like macros, are computed
//! here.

use core::mem::size_of;

#[allow(non_camel_case_types, non_upper_case_globals, dead_code)]
#[rustfmt::skip]
pub mod sys;

const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;
/// DRM's ioctl type character.
const DRM_IOCTL_BASE: u32 = b'd' as u32;
/// First driver-private DRM ioctl number.
pub const DRM_COMMAND_BASE: u32 = sys::DRM_COMMAND_BASE;

/// `_IOC(dir, type, nr, size)`.
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | (ty << 8) | nr
}
/// `DRM_IOW(nr, size)`.
pub const fn drm_iow(nr: u32, size: usize) -> u32 {
    ioc(IOC_WRITE, DRM_IOCTL_BASE, nr, size)
}
/// `DRM_IOR(nr, size)`.
pub const fn drm_ior(nr: u32, size: usize) -> u32 {
    ioc(IOC_READ, DRM_IOCTL_BASE, nr, size)
}
/// `DRM_IOWR(nr, size)`.
pub const fn drm_iowr(nr: u32, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, DRM_IOCTL_BASE, nr, size)
}
/// `DRM_IO(nr)`.
pub const fn drm_io(nr: u32) -> u32 {
    ioc(IOC_NONE, DRM_IOCTL_BASE, nr, 0)
}

/// Length of [`Query::dsp_name`].
pub const DSP_NAME_LEN: usize = sys::QDA_DSP_NAME_LEN as usize;

/// `struct drm_qda_query`.
pub type Query = sys::drm_qda_query;
/// `struct drm_qda_gem_create`.
pub type GemCreate = sys::drm_qda_gem_create;
/// `struct drm_qda_gem_create_ex`.
pub type GemCreateEx = sys::drm_qda_gem_create_ex;
/// `struct drm_qda_gem_mmap_offset`.
pub type GemMmapOffset = sys::drm_qda_gem_mmap_offset;
/// `struct drm_qda_gem_info`.
pub type GemInfo = sys::drm_qda_gem_info;
/// `struct drm_qda_init_create`.
pub type InitCreate = sys::drm_qda_init_create;
/// `struct drm_qda_init_create_static`.
pub type InitCreateStatic = sys::drm_qda_init_create_static;
/// `struct drm_qda_invoke`.
pub type Invoke = sys::drm_qda_invoke;
/// `struct drm_qda_invoke_arg`.
pub type InvokeArg = sys::drm_qda_invoke_arg;
/// `struct drm_qda_map`.
pub type Map = sys::drm_qda_map;
/// `struct drm_qda_munmap`.
pub type Munmap = sys::drm_qda_munmap;
/// `struct drm_qda_get_attr`.
pub type GetAttr = sys::drm_qda_get_attr;
/// `struct drm_gem_close` (generic DRM).
pub type GemClose = sys::drm_gem_close;
/// `struct drm_prime_handle` (generic DRM).
pub type PrimeHandle = sys::drm_prime_handle;

/// `struct drm_version` (generic DRM; not part of the qda header).
#[repr(C)]
#[derive(Debug)]
pub struct DrmVersion {
    pub version_major: i32,
    pub version_minor: i32,
    pub version_patchlevel: i32,
    pub name_len: usize,
    pub name: *mut u8,
    pub date_len: usize,
    pub date: *mut u8,
    pub desc_len: usize,
    pub desc: *mut u8,
}

/// Longest static process name (`QDA_STATIC_PD_NAME_MAX`).
pub const STATIC_PD_NAME_MAX: usize = sys::QDA_STATIC_PD_NAME_MAX as usize;

pub use sys::{
    QDA_MAP_REQUEST_ATTR, QDA_MAP_REQUEST_LEGACY, QDA_MEM_CARVEOUT, QDA_MEM_CMA,
    QDA_MEM_DMA_COHERENT, QDA_MEM_IMPORTED, QDA_PROC_ATTR_DEBUG, QDA_PROC_ATTR_PRIVILEGED,
};

/// `DRM_IOCTL_QDA_QUERY`.
pub const DRM_IOCTL_QDA_QUERY: u32 = sys::DRM_IOCTL_QDA_QUERY;
/// `DRM_IOCTL_QDA_GEM_CREATE`.
pub const DRM_IOCTL_QDA_GEM_CREATE: u32 = sys::DRM_IOCTL_QDA_GEM_CREATE;
/// `DRM_IOCTL_QDA_GEM_MMAP_OFFSET`.
pub const DRM_IOCTL_QDA_GEM_MMAP_OFFSET: u32 = sys::DRM_IOCTL_QDA_GEM_MMAP_OFFSET;
/// `DRM_IOCTL_QDA_INIT_ATTACH`.
pub const DRM_IOCTL_QDA_INIT_ATTACH: u32 = sys::DRM_IOCTL_QDA_INIT_ATTACH;
/// `DRM_IOCTL_QDA_INIT_CREATE`.
pub const DRM_IOCTL_QDA_INIT_CREATE: u32 = sys::DRM_IOCTL_QDA_INIT_CREATE;
/// `DRM_IOCTL_QDA_MAP`.
pub const DRM_IOCTL_QDA_MAP: u32 = sys::DRM_IOCTL_QDA_MAP;
/// `DRM_IOCTL_QDA_MUNMAP`.
pub const DRM_IOCTL_QDA_MUNMAP: u32 = sys::DRM_IOCTL_QDA_MUNMAP;
/// `DRM_IOCTL_QDA_INVOKE`.
pub const DRM_IOCTL_QDA_INVOKE: u32 = sys::DRM_IOCTL_QDA_INVOKE;
/// `DRM_IOCTL_QDA_GEM_INFO`.
pub const DRM_IOCTL_QDA_GEM_INFO: u32 = sys::DRM_IOCTL_QDA_GEM_INFO;
/// `DRM_IOCTL_QDA_GEM_CREATE_EX`.
pub const DRM_IOCTL_QDA_GEM_CREATE_EX: u32 = sys::DRM_IOCTL_QDA_GEM_CREATE_EX;
/// `DRM_IOCTL_QDA_GET_ATTR`.
pub const DRM_IOCTL_QDA_GET_ATTR: u32 = sys::DRM_IOCTL_QDA_GET_ATTR;

/// `DRM_IOCTL_QDA_INIT_CREATE_STATIC`.
pub const DRM_IOCTL_QDA_INIT_CREATE_STATIC: u32 = sys::DRM_IOCTL_QDA_INIT_CREATE_STATIC;
/// `DRM_IOCTL_QDA_INIT_ATTACH_SNS`.
pub const DRM_IOCTL_QDA_INIT_ATTACH_SNS: u32 = sys::DRM_IOCTL_QDA_INIT_ATTACH_SNS;

/// `DRM_IOCTL_GEM_CLOSE`.
pub const DRM_IOCTL_GEM_CLOSE: u32 = ioc(IOC_WRITE, DRM_IOCTL_BASE, 0x09, size_of::<GemClose>());
/// `DRM_IOCTL_PRIME_HANDLE_TO_FD`.
pub const DRM_IOCTL_PRIME_HANDLE_TO_FD: u32 = drm_iowr(0x2d, size_of::<PrimeHandle>());
/// `DRM_IOCTL_PRIME_FD_TO_HANDLE`.
pub const DRM_IOCTL_PRIME_FD_TO_HANDLE: u32 = drm_iowr(0x2e, size_of::<PrimeHandle>());
/// `DRM_IOCTL_VERSION`.
pub const DRM_IOCTL_VERSION: u32 = drm_iowr(0x00, size_of::<DrmVersion>());

/// The requests above, typed by their argument.
pub mod req {
    use super::*;
    use crate::ioctl::{IndirectIoctl, Ioctl, IoctlNoArg};

    // SAFETY (every `Ioctl::new` below): the request reads and writes its
    // one structure, which holds no address the kernel follows, and every
    // bit pattern is a valid value of it (integers only).

    /// `DRM_IOCTL_QDA_QUERY`.
    // SAFETY: see above.
    pub const QUERY: Ioctl<Query> = unsafe { Ioctl::new(DRM_IOCTL_QDA_QUERY) };
    /// `DRM_IOCTL_QDA_GEM_CREATE`.
    // SAFETY: see above.
    pub const GEM_CREATE: Ioctl<GemCreate> = unsafe { Ioctl::new(DRM_IOCTL_QDA_GEM_CREATE) };
    /// `DRM_IOCTL_QDA_GEM_CREATE_EX`.
    // SAFETY: see above.
    pub const GEM_CREATE_EX: Ioctl<GemCreateEx> =
        unsafe { Ioctl::new(DRM_IOCTL_QDA_GEM_CREATE_EX) };
    /// `DRM_IOCTL_QDA_GEM_MMAP_OFFSET`.
    // SAFETY: see above.
    pub const GEM_MMAP_OFFSET: Ioctl<GemMmapOffset> =
        unsafe { Ioctl::new(DRM_IOCTL_QDA_GEM_MMAP_OFFSET) };
    /// `DRM_IOCTL_QDA_GEM_INFO`.
    // SAFETY: see above.
    pub const GEM_INFO: Ioctl<GemInfo> = unsafe { Ioctl::new(DRM_IOCTL_QDA_GEM_INFO) };
    /// `DRM_IOCTL_QDA_INIT_ATTACH`.
    // SAFETY: INIT_ATTACH ignores its argument.
    pub const INIT_ATTACH: IoctlNoArg = unsafe { IoctlNoArg::new(DRM_IOCTL_QDA_INIT_ATTACH) };
    /// `DRM_IOCTL_QDA_INIT_CREATE`: reads the shell image at `file`.
    pub const INIT_CREATE: IndirectIoctl<InitCreate> =
        IndirectIoctl::new(DRM_IOCTL_QDA_INIT_CREATE);
    /// `DRM_IOCTL_QDA_INIT_CREATE_STATIC`: reads the name at `name`.
    pub const INIT_CREATE_STATIC: IndirectIoctl<InitCreateStatic> =
        IndirectIoctl::new(DRM_IOCTL_QDA_INIT_CREATE_STATIC);
    /// `DRM_IOCTL_QDA_INIT_ATTACH_SNS`.
    // SAFETY: INIT_ATTACH_SNS ignores its argument.
    pub const INIT_ATTACH_SNS: IoctlNoArg =
        unsafe { IoctlNoArg::new(DRM_IOCTL_QDA_INIT_ATTACH_SNS) };
    /// `DRM_IOCTL_QDA_MAP` (`vaddrin` is passed on, not accessed).
    // SAFETY: see above.
    pub const MAP: Ioctl<Map> = unsafe { Ioctl::new(DRM_IOCTL_QDA_MAP) };
    /// `DRM_IOCTL_QDA_MUNMAP`.
    // SAFETY: see above.
    pub const MUNMAP: Ioctl<Munmap> = unsafe { Ioctl::new(DRM_IOCTL_QDA_MUNMAP) };
    /// `DRM_IOCTL_QDA_INVOKE`: reads the argument array at `args` and the
    /// buffers it names.
    pub const INVOKE: IndirectIoctl<Invoke> = IndirectIoctl::new(DRM_IOCTL_QDA_INVOKE);
    /// `DRM_IOCTL_QDA_GET_ATTR`.
    // SAFETY: see above.
    pub const GET_ATTR: Ioctl<GetAttr> = unsafe { Ioctl::new(DRM_IOCTL_QDA_GET_ATTR) };
    /// `DRM_IOCTL_GEM_CLOSE`.
    // SAFETY: see above.
    pub const GEM_CLOSE: Ioctl<GemClose> = unsafe { Ioctl::new(DRM_IOCTL_GEM_CLOSE) };
    /// `DRM_IOCTL_PRIME_HANDLE_TO_FD`.
    // SAFETY: see above.
    pub const PRIME_HANDLE_TO_FD: Ioctl<PrimeHandle> =
        unsafe { Ioctl::new(DRM_IOCTL_PRIME_HANDLE_TO_FD) };
    /// `DRM_IOCTL_PRIME_FD_TO_HANDLE`.
    // SAFETY: see above.
    pub const PRIME_FD_TO_HANDLE: Ioctl<PrimeHandle> =
        unsafe { Ioctl::new(DRM_IOCTL_PRIME_FD_TO_HANDLE) };
    /// `DRM_IOCTL_VERSION`: writes the strings at `name`, `date`, `desc`.
    pub const VERSION: IndirectIoctl<DrmVersion> = IndirectIoctl::new(DRM_IOCTL_VERSION);
}

// The sizes the header documents (and the FastRPC library relies on).
const _: () = assert!(size_of::<Query>() == 20);
const _: () = assert!(size_of::<GemCreate>() == 16);
const _: () = assert!(size_of::<GemMmapOffset>() == 16);
const _: () = assert!(size_of::<GemInfo>() == 24);
const _: () = assert!(size_of::<InvokeArg>() == 24 && size_of::<Invoke>() == 16);
const _: () = assert!(size_of::<InitCreateStatic>() == 16);
const _: () = assert!(size_of::<Map>() == 48 && size_of::<Munmap>() == 32);
const _: () = assert!(DRM_IOCTL_GEM_CLOSE == 0x4008_6409);
const _: () = assert!(DRM_IOCTL_PRIME_HANDLE_TO_FD == 0xc00c_642d);
const _: () = assert!(DRM_IOCTL_QDA_QUERY == 0x8014_6440);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_match_the_fastrpc_library() {
        assert_eq!(DRM_IOCTL_QDA_QUERY, 0x8014_6440);
        assert_eq!(drm_iowr(DRM_COMMAND_BASE + 1, 16), 0xc010_6441);
        assert_eq!(DRM_IOCTL_QDA_INIT_ATTACH, 0x0000_6443);
        // INVOKE as the library encodes it (size of the 24-byte argument).
        assert_eq!(drm_iowr(DRM_COMMAND_BASE + 7, 24), 0xc018_6447);
    }

    #[test]
    fn header_request_numbers_encode_their_structures() {
        use sys::*;
        let base = DRM_COMMAND_BASE;
        assert_eq!(
            DRM_IOCTL_QDA_QUERY,
            drm_ior(base + DRM_QDA_QUERY, size_of::<Query>())
        );
        assert_eq!(
            DRM_IOCTL_QDA_INIT_ATTACH,
            drm_io(base + DRM_QDA_INIT_ATTACH)
        );
        for (req, nr, size) in [
            (
                DRM_IOCTL_QDA_GEM_CREATE,
                DRM_QDA_GEM_CREATE,
                size_of::<GemCreate>(),
            ),
            (
                DRM_IOCTL_QDA_GEM_MMAP_OFFSET,
                DRM_QDA_GEM_MMAP_OFFSET,
                size_of::<GemMmapOffset>(),
            ),
            (
                DRM_IOCTL_QDA_INIT_CREATE,
                DRM_QDA_INIT_CREATE,
                size_of::<InitCreate>(),
            ),
            (DRM_IOCTL_QDA_MAP, DRM_QDA_MAP, size_of::<Map>()),
            (DRM_IOCTL_QDA_MUNMAP, DRM_QDA_MUNMAP, size_of::<Munmap>()),
            (DRM_IOCTL_QDA_INVOKE, DRM_QDA_INVOKE, size_of::<Invoke>()),
            (
                DRM_IOCTL_QDA_GEM_INFO,
                DRM_QDA_GEM_INFO,
                size_of::<GemInfo>(),
            ),
            (
                DRM_IOCTL_QDA_GEM_CREATE_EX,
                DRM_QDA_GEM_CREATE_EX,
                size_of::<GemCreateEx>(),
            ),
            (
                DRM_IOCTL_QDA_GET_ATTR,
                DRM_QDA_GET_ATTR,
                size_of::<GetAttr>(),
            ),
        ] {
            assert_eq!(req, drm_iowr(base + nr, size), "request {nr:#x}");
        }
    }

    #[test]
    fn static_pd_requests_follow_the_contract() {
        // DRM_IOW(0x40 + 0x0b, 16) and DRM_IO(0x40 + 0x0c).
        assert_eq!(DRM_IOCTL_QDA_INIT_CREATE_STATIC, 0x4010_644b);
        assert_eq!(
            DRM_IOCTL_QDA_INIT_CREATE_STATIC,
            drm_iow(
                DRM_COMMAND_BASE + sys::DRM_QDA_INIT_CREATE_STATIC,
                size_of::<InitCreateStatic>()
            )
        );
        assert_eq!(DRM_IOCTL_QDA_INIT_ATTACH_SNS, 0x0000_644c);
        assert_eq!(
            DRM_IOCTL_QDA_INIT_ATTACH_SNS,
            drm_io(DRM_COMMAND_BASE + sys::DRM_QDA_INIT_ATTACH_SNS)
        );
        assert_eq!(STATIC_PD_NAME_MAX, 128);
        // namelen, memlen, then the name's address at offset 8.
        let a = InitCreateStatic {
            namelen: 1,
            memlen: 2,
            name: 3,
        };
        let base = &a as *const _ as usize;
        assert_eq!(&a.name as *const _ as usize - base, 8);
    }

    #[test]
    fn drm_version_matches_the_kernel_layout() {
        assert_eq!(size_of::<DrmVersion>(), 64);
        assert_eq!(DRM_IOCTL_VERSION, 0xc040_6400);
    }
}
