//! Host-side tests of the qda driver's pure modules.
//!
//! The driver files are compiled here unchanged (`#[path]`), so these tests
//! exercise the exact code that runs in the kernel, with the full std test
//! harness and no QEMU boot.

#![allow(dead_code)]

#[path = "../../../src/domain.rs"]
mod domain;
#[path = "../../../src/memory/page_bitmap.rs"]
mod page_bitmap;
#[path = "../../../src/memory/regions.rs"]
mod regions;
#[path = "../../../src/topology.rs"]
mod topology;

#[cfg(test)]
mod tests {
    use super::domain::{Domain, DSP_NAME_LEN};

    const LABELS: [&str; 9] = [
        "adsp", "mdsp", "sdsp", "cdsp", "cdsp1", "cdsp2", "cdsp3", "gdsp0", "gdsp1",
    ];

    #[test]
    fn every_binding_label_round_trips() {
        for l in LABELS {
            assert_eq!(Domain::from_label(l.as_bytes()).map(Domain::label), Some(l));
        }
    }

    #[test]
    fn labels_map_to_distinct_domains() {
        let all: Vec<_> = LABELS
            .iter()
            .filter_map(|l| Domain::from_label(l.as_bytes()))
            .collect();
        for (i, a) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|b| a != b), "{a:?} repeated");
        }
    }

    #[test]
    fn near_miss_labels_are_rejected() {
        for bad in [
            "", "dsp", "ADSP", "cdsp4", "cdsp0", "gdsp", "gdsp2", "adsp\0", " adsp", "adspx",
        ] {
            assert_eq!(Domain::from_label(bad.as_bytes()), None, "{bad:?} accepted");
        }
    }

    #[test]
    fn dsp_name_fits_and_is_padded() {
        for l in LABELS {
            let name = Domain::from_label(l.as_bytes()).unwrap().dsp_name();
            assert_eq!(name.len(), DSP_NAME_LEN);
            assert_eq!(&name[..l.len()], l.as_bytes());
            assert!(name[l.len()..].iter().all(|&b| b == 0));
        }
    }
}

#[cfg(test)]
mod topology_tests {
    use super::topology::*;

    fn cb(sid: u32, nsessions: u32) -> CbSpec {
        CbSpec {
            sid,
            nsessions,
            coherent: false,
        }
    }

    #[test]
    fn the_qemu_and_kodiak_layouts_are_accepted() {
        assert_eq!(check_cbs(&[cb(3, 1), cb(4, 1), cb(5, 1)]), Ok(3));
        assert_eq!(check_cbs(&[cb(1, 1), cb(2, 1), cb(3, 2)]), Ok(4));
    }

    #[test]
    fn session_limit_is_inclusive() {
        assert_eq!(check_cbs(&[cb(1, MAX_SESSIONS as u32)]), Ok(MAX_SESSIONS));
        assert_eq!(
            check_cbs(&[cb(1, MAX_SESSIONS as u32 + 1)]),
            Err(TopologyError::TooManySessions(MAX_SESSIONS + 1))
        );
    }

    #[test]
    fn first_error_wins_in_dt_order() {
        assert_eq!(
            check_cbs(&[cb(2, 0), cb(2, 1)]),
            Err(TopologyError::ZeroSessions(2))
        );
        assert_eq!(
            check_cbs(&[cb(2, 1), cb(2, 0)]),
            Err(TopologyError::ZeroSessions(2))
        );
        assert_eq!(
            check_cbs(&[cb(2, 1), cb(2, 1)]),
            Err(TopologyError::DuplicateSid(2))
        );
    }

    #[test]
    fn every_iova_below_4g_round_trips_through_the_prefix() {
        for sid in [0, 1, 0x1181, MAX_SID] {
            for iova in [0u64, 0x1000, 0xdead_b000, IOVA_LIMIT - 1] {
                let a = dsp_addr(sid, iova).unwrap();
                assert_eq!((a >> 32) as u32, sid);
                assert_eq!(a & (IOVA_LIMIT - 1), iova);
            }
        }
        assert_eq!(dsp_addr(0, IOVA_LIMIT), None);
    }
}

#[cfg(test)]
mod memory_tests {
    use super::{page_bitmap, regions::*};

    /// A seeded xorshift, so the random test is reproducible.
    fn rng(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn allocator_never_hands_out_a_page_twice() {
        let pages = 300;
        let mut words = vec![0u64; page_bitmap::words_for(pages)];
        let mut owner = vec![None; pages];
        let mut live: Vec<(usize, usize)> = Vec::new();
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        for step in 0..20_000 {
            if live.is_empty() || rng(&mut s) % 3 != 0 {
                let count = 1 + (rng(&mut s) % 20) as usize;
                let align = 1 << (rng(&mut s) % 5);
                if let Some(start) = page_bitmap::alloc(&mut words, pages, count, align) {
                    assert_eq!(start % align, 0);
                    for p in start..start + count {
                        assert!(owner[p].is_none(), "page {p} given twice at step {step}");
                        owner[p] = Some(step);
                    }
                    live.push((start, count));
                } else {
                    // Only fails if no aligned free run exists.
                    let fits = (0..pages).step_by(align).any(|st| {
                        st + count <= pages && (st..st + count).all(|p| owner[p].is_none())
                    });
                    assert!(!fits, "alloc of {count}/{align} failed with room left");
                }
            } else {
                let i = (rng(&mut s) as usize) % live.len();
                let (start, count) = live.swap_remove(i);
                assert_eq!(page_bitmap::free(&mut words, pages, start, count), Ok(()));
                for p in start..start + count {
                    owner[p] = None;
                }
            }
        }
    }

    #[test]
    fn overlap_is_found_whatever_the_order() {
        let a = Region {
            base: 0x1000,
            size: 0x3000,
            kind: RegionKind::Cma,
        };
        let b = Region {
            base: 0x3fff,
            size: 0x10,
            kind: RegionKind::Carveout,
        };
        assert_eq!(check_regions(&[a, b]), Err((1, RegionError::Overlaps(0))));
        assert_eq!(check_regions(&[b, a]), Err((1, RegionError::Overlaps(0))));
        let c = Region { base: 0x4000, ..b };
        assert_eq!(check_regions(&[a, c]), Ok(()));
    }
}
