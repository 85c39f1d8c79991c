// SPDX-License-Identifier: GPL-2.0

//! KUnit: reserved-memory region checks and the carve-out page allocator
//! (exhaustion, fragmentation, alignment, free-then-reuse, double free).

#[kernel::macros::kunit_tests(qda_memory)]
mod tests {
    use crate::memory::{
        bo_size,
        page_bitmap::{
            alloc,
            free, //
        },
    };
    use crate::platform::regions::*;
    use kernel::prelude::*;

    fn r(base: u64, size: u64) -> Region {
        Region {
            base,
            size,
            kind: RegionKind::Carveout,
        }
    }

    #[test]
    fn region_cells_decode() {
        assert_eq!(
            reg_entry(&[0, 0x8180_0000, 0, 0x1e0_0000], 2, 2),
            Ok((0x8180_0000, 0x1e0_0000))
        );
        assert_eq!(
            reg_entry(&[0x8000_0000, 0x1000], 1, 1),
            Ok((0x8000_0000, 0x1000))
        );
        assert_eq!(reg_entry(&[1, 2, 3], 2, 2), Err(RegionError::BadCells));
        assert_eq!(reg_entry(&[], 2, 2), Err(RegionError::BadCells));
        assert_eq!(reg_entry(&[1, 2, 3, 4], 3, 1), Err(RegionError::BadCells));
    }

    #[test]
    fn region_kinds() {
        assert_eq!(classify(true, false, false), Ok(RegionKind::Carveout));
        assert_eq!(classify(false, true, true), Ok(RegionKind::Cma));
        assert_eq!(classify(false, false, true), Ok(RegionKind::Other));
        assert_eq!(
            classify(true, true, true),
            Err(RegionError::NoMapAndReusable)
        );
    }

    #[test]
    fn good_and_bad_region_sets() {
        // The QEMU test layout.
        let good = [
            r(0x8180_0000, 0x1e0_0000),
            r(0x8430_0000, 0x50_0000),
            r(0x8670_0000, 0x280_0000),
            r(0x9ae0_0000, 0x190_0000),
        ];
        assert_eq!(check_regions(&good), Ok(()));
        // Touching is fine, overlapping by one byte is not.
        assert_eq!(
            check_regions(&[r(0x1000, 0x1000), r(0x2000, 0x1000)]),
            Ok(())
        );
        assert_eq!(
            check_regions(&[r(0x1000, 0x1001), r(0x2000, 0x1000)]),
            Err((1, RegionError::Overlaps(0)))
        );
        assert_eq!(check_regions(&[r(0x1000, 0)]), Err((0, RegionError::Empty)));
        assert_eq!(
            check_regions(&[r(u64::MAX - 10, 100)]),
            Err((0, RegionError::Wraps))
        );
    }

    #[test]
    fn bo_sizes() {
        assert_eq!(bo_size(0), Err(EINVAL));
        assert_eq!(bo_size(1), Ok(4096));
        assert_eq!(bo_size(4097), Ok(8192));
        assert_eq!(bo_size(u64::MAX), Err(E2BIG));
    }

    #[test]
    fn allocator_exhaustion_and_reuse() {
        let mut w = [0u64; 2];
        assert_eq!(alloc(&mut w, 100, 60, 1), Some(0));
        assert_eq!(alloc(&mut w, 100, 41, 1), None);
        assert_eq!(alloc(&mut w, 100, 40, 1), Some(60));
        assert_eq!(alloc(&mut w, 100, 1, 1), None);
        assert_eq!(free(&mut w, 100, 0, 60), Ok(()));
        assert_eq!(alloc(&mut w, 100, 60, 1), Some(0));
    }

    #[test]
    fn allocator_fragmentation_and_alignment() {
        let mut w = [0u64; 1];
        for i in 0..8 {
            assert_eq!(alloc(&mut w, 64, 8, 1), Some(i * 8));
        }
        // Free every other run: 32 pages free but no 16-page hole.
        for i in (0..8).step_by(2) {
            assert_eq!(free(&mut w, 64, i * 8, 8), Ok(()));
        }
        assert_eq!(alloc(&mut w, 64, 16, 1), None);
        // Free runs now: 0..8, 16..24, 32..40, 48..56.
        assert_eq!(alloc(&mut w, 64, 8, 16), Some(0));
        assert_eq!(alloc(&mut w, 64, 4, 16), Some(16));
        assert_eq!(alloc(&mut w, 64, 4, 4), Some(20));
        assert_eq!(alloc(&mut w, 64, 8, 8), Some(32));
        assert_eq!(alloc(&mut w, 64, 8, 8), Some(48));
        assert_eq!(alloc(&mut w, 64, 1, 1), None);
    }

    #[test]
    fn allocator_rejects_bad_frees() {
        let mut w = [0u64; 1];
        assert_eq!(alloc(&mut w, 64, 4, 1), Some(0));
        assert_eq!(free(&mut w, 64, 0, 4), Ok(()));
        assert_eq!(free(&mut w, 64, 0, 4), Err(()));
        assert_eq!(free(&mut w, 64, 60, 8), Err(()));
        assert_eq!(alloc(&mut w, 64, 0, 1), None);
        assert_eq!(alloc(&mut w, 64, 1, 3), None);
    }
}
