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

/// `DRM_IOCTL_VERSION`.
pub const DRM_IOCTL_VERSION: u32 = drm_iowr(0x00, size_of::<DrmVersion>());
/// `DRM_IOCTL_QDA_QUERY`.
pub const DRM_IOCTL_QDA_QUERY: u32 = drm_ior(DRM_COMMAND_BASE, size_of::<Query>());
/// `DRM_IOCTL_QDA_INIT_ATTACH`.
pub const DRM_IOCTL_QDA_INIT_ATTACH: u32 = drm_io(DRM_COMMAND_BASE + 3);

const _: () = assert!(size_of::<Query>() == 20);
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
