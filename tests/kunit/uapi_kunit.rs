// SPDX-License-Identifier: GPL-2.0

//! KUnit: the generated UAPI is binary compatible with what existing
//! userspace (the FastRPC library's QDA backend) sends: struct sizes, field
//! offsets and ioctl request numbers.

#[kernel::macros::kunit_tests(qda_uapi)]
mod tests {
    use crate::{
        accel::uapi::*,
        ffi::{
            accel::ioc_size,
            sys::drm_qda_invoke_arg, //
        },
    };
    use core::mem::{
        offset_of,
        size_of, //
    };

    /// `_IOC(dir, 'd', 0x40 + nr, size)` as the library computes it.
    const fn drm_ioc(dir: u32, nr: u32, size: usize) -> u32 {
        (dir << 30) | ((size as u32) << 16) | ((b'd' as u32) << 8) | (0x40 + nr)
    }
    const R: u32 = 2;
    const WR: u32 = 3;

    #[test]
    fn struct_layouts_match_the_library() {
        assert_eq!(size_of::<drm_qda_query>(), 20);
        assert_eq!(offset_of!(drm_qda_query, capabilities), 16);
        assert_eq!(size_of::<drm_qda_gem_create>(), 16);
        assert_eq!(offset_of!(drm_qda_gem_create, handle), 8);
        assert_eq!(size_of::<drm_qda_gem_mmap_offset>(), 16);
        assert_eq!(offset_of!(drm_qda_gem_mmap_offset, handle), 0);
        assert_eq!(offset_of!(drm_qda_gem_mmap_offset, offset), 8);
        assert_eq!(size_of::<drm_qda_init_create>(), 24);
        assert_eq!(offset_of!(drm_qda_init_create, file), 16);
        // Six 32-bit fields, then three 64-bit ones: 48 bytes.
        assert_eq!(size_of::<drm_qda_map>(), 48);
        assert_eq!(offset_of!(drm_qda_map, vaddrin), 24);
        assert_eq!(offset_of!(drm_qda_map, vaddrout), 40);
        assert_eq!(size_of::<drm_qda_munmap>(), 32);
        assert_eq!(offset_of!(drm_qda_munmap, vaddr), 8);
        assert_eq!(size_of::<drm_qda_invoke>(), 16);
        assert_eq!(size_of::<drm_qda_invoke_arg>(), 24);
        assert_eq!(offset_of!(drm_qda_invoke_arg, fd), 16);
    }

    #[test]
    fn ioctl_numbers_match_the_library() {
        assert_eq!(DRM_IOCTL_QDA_QUERY, drm_ioc(R, 0, 20));
        assert_eq!(DRM_IOCTL_QDA_QUERY, 0x8014_6440);
        assert_eq!(DRM_IOCTL_QDA_GEM_CREATE, drm_ioc(WR, 1, 16));
        assert_eq!(DRM_IOCTL_QDA_GEM_MMAP_OFFSET, drm_ioc(WR, 2, 16));
        assert_eq!(DRM_IOCTL_QDA_INIT_ATTACH, drm_ioc(0, 3, 0));
        assert_eq!(DRM_IOCTL_QDA_INIT_CREATE, drm_ioc(WR, 4, 24));
        assert_eq!(DRM_IOCTL_QDA_MAP, drm_ioc(WR, 5, 48));
        assert_eq!(DRM_IOCTL_QDA_MUNMAP, drm_ioc(WR, 6, 32));
        assert_eq!(DRM_IOCTL_QDA_INVOKE, drm_ioc(WR, 7, 16));
    }

    #[test]
    fn ioc_size_decodes_both_invoke_encodings() {
        assert_eq!(ioc_size(DRM_IOCTL_QDA_INVOKE), 16);
        assert_eq!(ioc_size(drm_ioc(WR, 7, 24)), 24);
        assert_eq!(ioc_size(DRM_IOCTL_QDA_QUERY), 20);
    }
}
