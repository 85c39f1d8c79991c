//! The qda UAPI (`include/uapi/drm/qda_accel.h`) for userspace.
//!
//! Layouts are checked at compile time against the sizes the header
//! documents; the kernel side checks the same numbers in KUnit.

use core::mem::size_of;

const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;
/// DRM's ioctl type character.
const DRM_IOCTL_BASE: u32 = b'd' as u32;
/// First driver-private DRM ioctl number.
pub const DRM_COMMAND_BASE: u32 = 0x40;

/// `_IOC(dir, type, nr, size)`.
pub const fn ioc(dir: u32, ty: u32, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | (ty << 8) | nr
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
pub const DSP_NAME_LEN: usize = 16;

/// `struct drm_qda_query`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Query {
    /// DT label of the DSP, NUL padded.
    pub dsp_name: [u8; DSP_NAME_LEN],
    /// Capability bits.
    pub capabilities: u32,
}

/// `struct drm_version` (generic DRM).
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

/// `struct drm_qda_gem_create`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GemCreate {
    /// Requested size in bytes.
    pub size: u64,
    /// Returned handle.
    pub handle: u32,
    /// Must be zero.
    pub pad: u32,
}

/// `struct drm_qda_gem_create_ex`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GemCreateEx {
    /// Requested size in bytes.
    pub size: u64,
    /// Returned handle.
    pub handle: u32,
    /// `QDA_MEM_*` backend, 0 for the default.
    pub backend: u32,
}

/// `struct drm_qda_gem_mmap_offset`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GemMmapOffset {
    /// Handle to map.
    pub handle: u32,
    /// Must be zero.
    pub pad: u32,
    /// Returned fake offset for `mmap()`.
    pub offset: u64,
}

/// `struct drm_qda_gem_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GemInfo {
    /// Handle to describe.
    pub handle: u32,
    /// Returned `QDA_MEM_*` backend.
    pub backend: u32,
    /// Returned size in bytes.
    pub size: u64,
    /// Returned DSP address (IOVA | SID << 32).
    pub dsp_addr: u64,
}

/// `struct drm_gem_close` (generic DRM).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct GemClose {
    /// Handle to close.
    pub handle: u32,
    /// Must be zero.
    pub pad: u32,
}

/// `struct drm_prime_handle` (generic DRM).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PrimeHandle {
    /// GEM handle.
    pub handle: u32,
    /// `DRM_CLOEXEC | DRM_RDWR` for export.
    pub flags: u32,
    /// dma-buf fd.
    pub fd: i32,
}

/// `QDA_MEM_DMA_COHERENT`.
pub const QDA_MEM_DMA_COHERENT: u32 = 1;
/// `QDA_MEM_CMA`.
pub const QDA_MEM_CMA: u32 = 2;
/// `QDA_MEM_CARVEOUT`.
pub const QDA_MEM_CARVEOUT: u32 = 3;
/// `QDA_MEM_IMPORTED`.
pub const QDA_MEM_IMPORTED: u32 = 4;

/// `DRM_IOCTL_GEM_CLOSE`.
pub const DRM_IOCTL_GEM_CLOSE: u32 = ioc(IOC_WRITE, DRM_IOCTL_BASE, 0x09, size_of::<GemClose>());
/// `DRM_IOCTL_PRIME_HANDLE_TO_FD`.
pub const DRM_IOCTL_PRIME_HANDLE_TO_FD: u32 = drm_iowr(0x2d, size_of::<PrimeHandle>());
/// `DRM_IOCTL_PRIME_FD_TO_HANDLE`.
pub const DRM_IOCTL_PRIME_FD_TO_HANDLE: u32 = drm_iowr(0x2e, size_of::<PrimeHandle>());
/// `DRM_IOCTL_QDA_GEM_CREATE`.
pub const DRM_IOCTL_QDA_GEM_CREATE: u32 = drm_iowr(DRM_COMMAND_BASE + 1, size_of::<GemCreate>());
/// `DRM_IOCTL_QDA_GEM_MMAP_OFFSET`.
pub const DRM_IOCTL_QDA_GEM_MMAP_OFFSET: u32 =
    drm_iowr(DRM_COMMAND_BASE + 2, size_of::<GemMmapOffset>());
/// `DRM_IOCTL_QDA_GEM_INFO`.
pub const DRM_IOCTL_QDA_GEM_INFO: u32 = drm_iowr(DRM_COMMAND_BASE + 8, size_of::<GemInfo>());

/// `DRM_IOCTL_QDA_GEM_CREATE_EX`.
pub const DRM_IOCTL_QDA_GEM_CREATE_EX: u32 =
    drm_iowr(DRM_COMMAND_BASE + 9, size_of::<GemCreateEx>());

/// `DRM_IOCTL_VERSION`.
pub const DRM_IOCTL_VERSION: u32 = drm_iowr(0x00, size_of::<DrmVersion>());
/// `DRM_IOCTL_QDA_QUERY`.
pub const DRM_IOCTL_QDA_QUERY: u32 = drm_ior(DRM_COMMAND_BASE, size_of::<Query>());
/// `DRM_IOCTL_QDA_INIT_ATTACH`.
pub const DRM_IOCTL_QDA_INIT_ATTACH: u32 = drm_io(DRM_COMMAND_BASE + 3);

const _: () = assert!(size_of::<Query>() == 20);
const _: () = assert!(size_of::<GemCreate>() == 16);
const _: () = assert!(size_of::<GemMmapOffset>() == 16);
const _: () = assert!(size_of::<GemInfo>() == 24);
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
    fn drm_version_matches_the_kernel_layout() {
        assert_eq!(size_of::<DrmVersion>(), 64);
        assert_eq!(DRM_IOCTL_VERSION, 0xc040_6400);
    }
}
