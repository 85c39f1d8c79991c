//! Host-side tests of the qda driver's pure modules.
//!
//! The driver files are compiled here unchanged (`#[path]`), so these tests
//! exercise the exact code that runs in the kernel, with the full std test
//! harness and no QEMU boot. The `prop_*` modules are property tests:
//! thousands of seeded hostile inputs per function (see [`gen`]), run with
//! overflow checks on as in the test kernel.

#![allow(dead_code)]

#[cfg(test)]
mod access;
#[path = "../../../src/dsp/policy.rs"]
mod access_policy;
#[path = "../../../src/fastrpc/proto/codec.rs"]
mod codec;
#[path = "../../../src/platform/domain.rs"]
mod domain;
#[path = "../../../src/platform/fair_share.rs"]
mod fair_share;
#[cfg(test)]
mod fair_share_tests;
#[cfg(test)]
mod gen;
#[cfg(test)]
mod golden;
#[path = "../../../src/platform/remote_heap/info.rs"]
mod heap_info;
#[path = "../../../src/fastrpc/proto/layout.rs"]
mod layout;
#[path = "../../../src/legacy/names.rs"]
mod legacy_names;
#[path = "../../../src/memory/limits.rs"]
mod limits;
#[cfg(test)]
mod limits_tests;
#[path = "../../../src/memory/page_bitmap.rs"]
mod page_bitmap;
#[path = "../../../src/fastrpc/proto/plan.rs"]
mod plan;
#[path = "../../../src/fastrpc/proto/proc_msgs.rs"]
mod proc_msgs;
#[cfg(test)]
mod prop_layout;
#[cfg(test)]
mod prop_rules;
#[cfg(test)]
mod prop_wire;
#[path = "../../../src/ratelimit.rs"]
#[allow(unused_imports, unused_macros)]
mod ratelimit;
#[path = "../../../src/platform/regions.rs"]
mod regions;
#[path = "../../../src/fastrpc/proto/retval.rs"]
mod retval;
#[path = "../../../src/fastrpc/proto/scalars.rs"]
mod scalars;
#[path = "../../../src/platform/soc.rs"]
mod soc;
#[path = "../../../src/platform/topology.rs"]
mod topology;
#[path = "../../../src/fastrpc/proto/wire.rs"]
mod wire;

/// The driver's folders, as its files name them (`crate::platform::...`).
mod platform {
    pub(crate) use super::{
        domain,
        fair_share,
        soc,
        topology, //
    };
}

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
            smmu: true,
        }
    }

    #[test]
    fn the_qemu_and_kodiak_layouts_are_accepted() {
        assert_eq!(
            check_cbs(&[cb(3, 1), cb(4, 1), cb(5, 1)], AddrLayout::DEFAULT),
            Ok(3)
        );
        assert_eq!(
            check_cbs(&[cb(1, 1), cb(2, 1), cb(3, 2)], AddrLayout::DEFAULT),
            Ok(4)
        );
    }

    #[test]
    fn session_limit_is_inclusive() {
        assert_eq!(
            check_cbs(&[cb(1, MAX_SESSIONS as u32)], AddrLayout::DEFAULT),
            Ok(MAX_SESSIONS)
        );
        assert_eq!(
            check_cbs(&[cb(1, MAX_SESSIONS as u32 + 1)], AddrLayout::DEFAULT),
            Err(TopologyError::TooManySessions(MAX_SESSIONS + 1))
        );
    }

    #[test]
    fn first_error_wins_in_dt_order() {
        assert_eq!(
            check_cbs(&[cb(2, 0), cb(2, 1)], AddrLayout::DEFAULT),
            Err(TopologyError::ZeroSessions(2))
        );
        assert_eq!(
            check_cbs(&[cb(2, 1), cb(2, 0)], AddrLayout::DEFAULT),
            Err(TopologyError::ZeroSessions(2))
        );
        assert_eq!(
            check_cbs(&[cb(2, 1), cb(2, 1)], AddrLayout::DEFAULT),
            Err(TopologyError::DuplicateSid(2))
        );
    }

    #[test]
    fn every_iova_below_4g_round_trips_through_the_prefix() {
        let d = AddrLayout::DEFAULT;
        for sid in [0, 1, 0x1181, MAX_SID] {
            for iova in [0u64, 0x1000, 0xdead_b000, d.iova_limit() - 1] {
                let a = d.dsp_addr(sid, iova).unwrap();
                assert_eq!((a >> 32) as u32, sid);
                assert_eq!(d.split(a), (u64::from(sid), iova));
            }
        }
        assert_eq!(d.dsp_addr(0, d.iova_limit()), None);
    }

    #[test]
    fn every_soc_layout_keeps_the_sid_clear_of_the_iova() {
        use super::{domain::Domain, soc::TABLE};
        for soc in TABLE {
            for dom in [Domain::Adsp, Domain::Sdsp, Domain::Cdsp(0), Domain::Gdsp(1)] {
                let l = soc.layout(dom);
                let top = l.iova_limit() - 1;
                let a = l.dsp_addr(l.max_sid(), top).unwrap();
                assert_eq!(l.split(a), (u64::from(l.max_sid()), top));
                assert_eq!(l.dsp_addr(l.max_sid() + 1, 0), None);
                assert_eq!(l.dsp_addr(0, top + 1), None);
            }
        }
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

#[cfg(test)]
mod fastrpc_tests {
    use super::{layout::*, plan::*, scalars::Scalars, wire::*};

    #[test]
    fn scalars_known_answers() {
        // Process-control methods on handle 1 and the DSP utilities query.
        assert_eq!(Scalars::new(0, 1, 0).0, 0x0001_0000); // INIT_ATTACH
        assert_eq!(Scalars::new(1, 1, 0).0, 0x0101_0000); // INIT_RELEASE
        assert_eq!(Scalars::new(4, 2, 1).0, 0x0402_0100); // INIT_MMAP
        assert_eq!(Scalars::new(6, 4, 0).0, 0x0604_0000); // INIT_CREATE
        assert_eq!(Scalars::new(10, 3, 1).0, 0x0a03_0100); // INIT_MEM_MAP
        assert_eq!(Scalars::build(7, 31, 255, 255, 15, 15).0, 0xffff_ffff);
        let s = Scalars::build(1, 3, 2, 1, 1, 2);
        assert_eq!(
            (
                s.method(),
                s.inbufs(),
                s.outbufs(),
                s.in_handles(),
                s.out_handles()
            ),
            (3, 2, 1, 1, 2)
        );
        assert_eq!(s.len(), 6);
        assert_eq!(Scalars::build(0, 0, 255, 255, 15, 15).len(), 540);
    }

    #[test]
    fn msg_is_40_bytes_little_endian() {
        let m = Msg {
            client_id: 1,
            tid: 0x22,
            ctx: 0x0102_0304_0506_0708,
            handle: 3,
            sc: 0x0202_0100,
            addr: 0x3_ffff_0000,
            size: 0x2000,
        };
        let b = m.encode();
        assert_eq!(b.len(), 40);
        assert_eq!(&b[0..4], &[1, 0, 0, 0]);
        assert_eq!(&b[8..16], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(&b[24..32], &[0, 0, 0xff, 0xff, 3, 0, 0, 0]);
        assert_eq!(Msg::decode(&b), Some(m));
        assert_eq!(Msg::decode(&b[..39]), None);
    }

    #[test]
    fn rsp_is_16_bytes_with_padding() {
        let r = Rsp {
            ctx: 0x1_0101,
            retval: -14,
        };
        let b = r.encode();
        assert_eq!(b.len(), 16);
        assert_eq!(&b[12..16], &[0; 4]);
        assert_eq!(Rsp::decode(&b), Some(r));
        assert_eq!(Rsp::decode(&b[..15]), None);
    }

    #[test]
    fn ctx_ids_carry_index_sequence_and_pd() {
        assert_eq!(ctx_encode(1, 1, USER_PD), 0x1_0101);
        assert_eq!(
            ctx_encode(255, 0xffff_ffff_ffff, ROOT_PD),
            0xffff_ffff_ffff_ff00
        );
        assert_eq!(ctx_decode(ctx_encode(42, 7, USER_PD)), (42, 7));
        // A stale reply (older sequence) for the same index differs.
        assert_ne!(ctx_encode(42, 7, 0), ctx_encode(42, 8, 0));
        assert_eq!(seq_wrap(1 << 48), 0);
    }

    #[test]
    fn metadata_layout_known_answers() {
        assert_eq!(metalen(0), 388);
        assert_eq!(metalen(3), 508);
        assert_eq!(
            (list_off(3, 0), page_off(3, 0), fdlist_off(3), poll_off(3)),
            (48, 72, 120, 504)
        );
        assert_eq!(page_span(0x1ff0, 0x20), Some(0x2000));
        assert_eq!(page_span(0x1000, 0x1000), Some(0x1000));
        assert_eq!(page_span(0x1000, 0), Some(0));
    }

    fn spans(ranges: &[(u64, u64)], inline: &[bool]) -> Vec<Span> {
        let user = |&(ptr, end): &(u64, u64), &inline: &bool| match inline {
            true => Span::User {
                ptr,
                len: end - ptr,
            },
            false => Span::Direct,
        };
        ranges.iter().zip(inline).map(|(r, i)| user(r, i)).collect()
    }

    fn plan(ranges: &[(u64, u64)], inline: &[bool]) -> (Vec<Placed>, Vec<u64>, u64) {
        let n = ranges.len();
        let (mut order, mut out) = (vec![0; n], vec![Placed::default(); n]);
        let size = super::plan::plan(&spans(ranges, inline), &mut order, &mut out).expect("fits");
        let pos = out.iter().map(|p| p.pos).collect();
        (out, pos, size)
    }

    #[test]
    fn absurd_lengths_are_reported_not_wrapped() {
        // Lengths straight from a hostile caller: two disjoint buffers
        // that together cover the address space.
        let (mut order, mut out) = ([0; 2], [Placed::default(); 2]);
        let s = spans(&[(0, 1 << 63), (1 << 63, u64::MAX)], &[true, true]);
        assert_eq!(
            super::plan::plan(&s, &mut order, &mut out),
            Err(PlanError::TooBig)
        );
        // The headline probe of issue 16: a range past the top.
        let probe = [Span::User {
            ptr: 0xffff_ffff_ffff_f000,
            len: u64::MAX,
        }];
        assert_eq!(
            super::plan::plan(&probe, &mut order, &mut out),
            Err(PlanError::Wraps)
        );
        // Alone, a buffer of the limit does not fit after the metadata.
        let s = [Span::Kernel { len: MAX_PAYLOAD }];
        assert_eq!(
            super::plan::plan(&s, &mut order, &mut out),
            Err(PlanError::TooBig)
        );
    }

    #[test]
    fn disjoint_buffers_are_128_aligned() {
        let (_, pos, size) = plan(&[(0x1000, 0x1004), (0x9000, 0x9100)], &[true, true]);
        let m = metalen(2) as u64; // 468
        assert_eq!(Some(pos[0]), align_up(m, 128)); // 512
        assert_eq!(pos[1], 512 + 128);
        assert_eq!(size, 512 + 128 + 0x100);
    }

    #[test]
    fn overlapping_buffers_share_payload_bytes() {
        // b inside a, c overlapping a's tail.
        let (ov, pos, size) = plan(
            &[(0x100, 0x200), (0x140, 0x180), (0x1c0, 0x240)],
            &[true, true, true],
        );
        let part = |p: &Placed| (p.mstart, p.mend, p.offset);
        assert_eq!(part(&ov[1]), (0x200, 0x200, 0xc0));
        assert_eq!(part(&ov[2]), (0x200, 0x240, 0x40));
        let base = pos[0];
        assert_eq!(pos[1], base + 0x40);
        assert_eq!(pos[2], base + 0xc0);
        assert_eq!(size, base + 0x140);
    }

    #[test]
    fn zero_copy_and_empty_buffers_take_no_payload() {
        let (_, pos, size) = plan(&[(0x100, 0x200), (0x100, 0x100)], &[false, true]);
        assert_eq!(pos, vec![0, 0]);
        assert_eq!(size, metalen(2) as u64);
    }

    #[test]
    fn metadata_round_trips() {
        let n = 3;
        let mut meta = vec![0u8; metalen(n)];
        write_buf(&mut meta, n, 0, 0x3_ffff_0214, 8, (0x3_ffff_0000, 0x1000));
        write_handle(&mut meta, n, 2, 7, 0x10, 0x100, (0x4_0000_0000, 0x2000));
        assert_eq!(
            read_buf(&meta, n, 0),
            (0x3_ffff_0214, 8, 0x3_ffff_0000, 0x1000)
        );
        assert_eq!(dsp_data_addr(0x3_ffff_0214, 0x3_ffff_0000), 0x3_ffff_0214);
        assert_eq!(
            &meta[list_off(n, 0)..list_off(n, 0) + 8],
            &[1, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(&meta[32..36], &7i32.to_le_bytes());
        // A handle's list entry: {num = len != 0, pgidx = i}, as upstream.
        assert_eq!(
            &meta[list_off(n, 2)..list_off(n, 2) + 8],
            &[1, 0, 0, 0, 2, 0, 0, 0]
        );
        write_handle(&mut meta, n, 1, 7, 0, 0, (0, 0));
        assert_eq!(
            &meta[list_off(n, 1)..list_off(n, 1) + 8],
            &[0, 0, 0, 0, 1, 0, 0, 0]
        );
    }
}

#[cfg(test)]
mod ratelimit_tests {
    use super::ratelimit::{RateLimit, BURST, INTERVAL_NS};

    #[test]
    fn a_burst_per_window_then_the_count_of_suppressed_lines() {
        let r = RateLimit::new();
        let t0 = 7_000_000_000;
        for i in 0..BURST {
            assert_eq!(r.check(t0 + u64::from(i)), Some(0), "line {i}");
        }
        for i in 0..25 {
            assert_eq!(r.check(t0 + 1000 + i), None);
        }
        // Still the same window.
        assert_eq!(r.check(t0 + INTERVAL_NS - 1), None);
        // A new window: the first line reports the 26 suppressed ones.
        assert_eq!(r.check(t0 + INTERVAL_NS), Some(26));
        assert_eq!(r.check(t0 + INTERVAL_NS + 1), Some(0));
    }
}

#[cfg(test)]
mod retval_tests {
    use super::retval::user_result;

    #[test]
    fn real_errnos_pass_and_kernel_internal_ones_become_eio() {
        assert_eq!(user_result(0), Ok(0));
        assert_eq!(user_result(-5), Err(5));
        assert_eq!(user_result(-133), Err(133));
        // ERESTARTSYS, ERESTARTNOINTR, EPROBE_DEFER, ..., ENOTSUPP: never
        // seen by userspace (a restart would send the call again).
        for r in -531..=-512 {
            assert_eq!(user_result(r), Err(5), "{r}");
        }
        assert_eq!(user_result(-134), Err(5));
        assert_eq!(user_result(-4095), Err(5));
    }

    #[test]
    fn dsp_codes_are_returned_as_they_are() {
        assert_eq!(user_result(0x8000_0414u32 as i32), Ok(0x8000_0414));
        assert_eq!(user_result(-4096), Ok(-4096i32 as u32));
        assert_eq!(user_result(7), Ok(7));
    }
}

#[cfg(test)]
mod proc_msgs_tests {
    //! Golden vectors written from the C structures of
    //! `drivers/misc/fastrpc.c` (arm64: little-endian, 8-byte aligned
    //! `u64`, padding sent as zero).

    use super::proc_msgs::*;

    /// Little-endian bytes of the listed fields, in order.
    fn le(fields: &[(u64, usize)]) -> Vec<u8> {
        fields
            .iter()
            .flat_map(|&(v, n)| v.to_le_bytes()[..n].to_vec())
            .collect()
    }

    #[test]
    fn method_ids_are_upstreams() {
        assert_eq!((INIT_HANDLE, UTILITIES_HANDLE, CAPS_METHOD), (1, 2, 0));
        assert_eq!(
            [
                method::ATTACH,
                method::RELEASE,
                method::MMAP,
                method::MUNMAP,
                method::CREATE,
                method::CREATE_ATTR,
                method::MEM_MAP,
                method::MEM_UNMAP
            ],
            [0, 1, 4, 5, 6, 7, 10, 11]
        );
    }

    #[test]
    fn sizes_are_the_c_structures() {
        assert_eq!(ClientReq::SIZE, 4);
        assert_eq!(CreateReq::SIZE, 24);
        assert_eq!(PhyPage::SIZE, 16);
        assert_eq!(PhyPage::NUM, 16);
        assert_eq!(MmapReq::SIZE, 24);
        assert_eq!(MunmapReq::SIZE, 24);
        assert_eq!(MemMapReq::SIZE, 32);
        assert_eq!(MemUnmapReq::SIZE, 24);
        assert_eq!(MapRsp::SIZE, 8);
        assert_eq!(CapsReq::SIZE, 4);
    }

    #[test]
    fn client_req_golden() {
        let r = ClientReq { client_id: -2 };
        assert_eq!(r.encode(), [0xfe, 0xff, 0xff, 0xff]);
        assert_eq!(ClientReq::decode(&r.encode()), Some(r));
        assert_eq!(ClientReq::decode(&[1, 0, 0]), None);
    }

    #[test]
    fn create_req_golden() {
        let r = CreateReq {
            client_id: 3,
            namelen: 9,
            filelen: 0x1_2345,
            pageslen: 1,
            attrs: 0x8,
            siglen: 0x40,
        };
        #[rustfmt::skip]
        let want = [
            3, 0, 0, 0,        9, 0, 0, 0,
            0x45, 0x23, 1, 0,  1, 0, 0, 0,
            8, 0, 0, 0,        0x40, 0, 0, 0,
        ];
        assert_eq!(r.encode(), want);
        assert_eq!(CreateReq::decode(&want), Some(r));
        assert_eq!(CreateReq::decode(&want[..23]), None);
    }

    #[test]
    fn phy_page_golden() {
        let p = PhyPage {
            addr: 0x5_0000_3000,
            size: 0x20_0000,
        };
        let want = le(&[(0x5_0000_3000, 8), (0x20_0000, 8)]);
        assert_eq!(p.encode().to_vec(), want);
        assert_eq!(PhyPage::decode(&want), Some(p));
        assert_eq!(PhyPage::decode(&want[..15]), None);
    }

    #[test]
    fn mmap_req_golden() {
        // {s32 client_id; u32 flags; u64 vaddr; s32 num; 4 bytes tail}.
        let r = MmapReq {
            client_id: 1,
            flags: 0x1000,
            vaddr: 0,
            num: 16,
            pad: 0,
        };
        #[rustfmt::skip]
        let want = [
            1, 0, 0, 0,  0, 0x10, 0, 0,
            0, 0, 0, 0,  0, 0, 0, 0,
            16, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(r.encode(), want);
        assert_eq!(MmapReq::decode(&want), Some(r));
        assert_eq!(MmapReq::decode(&want[..23]), None);
    }

    #[test]
    fn munmap_req_golden() {
        // {s32 client_id; 4 bytes padding; u64 vaddr; u64 size}.
        let r = MunmapReq {
            client_id: 1,
            pad: 0,
            vaddr: 0x1_0020_0000,
            size: 0x1800,
        };
        let want = le(&[(1, 4), (0, 4), (0x1_0020_0000, 8), (0x1800, 8)]);
        assert_eq!(r.encode().to_vec(), want);
        assert_eq!(MunmapReq::decode(&want), Some(r));
    }

    #[test]
    fn mem_map_req_golden() {
        let r = MemMapReq {
            client_id: 1,
            fd: 7,
            offset: 0,
            flags: 0x1000,
            vaddrin: 0x7f00_0000_1000,
            num: 16,
            data_len: 0,
        };
        #[rustfmt::skip]
        let want = [
            1, 0, 0, 0,                      7, 0, 0, 0,
            0, 0, 0, 0,                      0, 0x10, 0, 0,
            0, 0x10, 0, 0, 0, 0x7f, 0, 0,
            16, 0, 0, 0,                     0, 0, 0, 0,
        ];
        assert_eq!(r.encode(), want);
        assert_eq!(MemMapReq::decode(&want), Some(r));
        assert_eq!(MemMapReq::decode(&want[..31]), None);
        // Negative fields keep their two's complement bytes.
        let n = MemMapReq {
            fd: -1,
            offset: -4096,
            ..r
        };
        assert_eq!(
            &n.encode()[4..12],
            &[0xff, 0xff, 0xff, 0xff, 0, 0xf0, 0xff, 0xff]
        );
        assert_eq!(MemMapReq::decode(&n.encode()), Some(n));
    }

    #[test]
    fn mem_unmap_req_golden() {
        // {s32 client_id; s32 fd; u64 vaddrin; u64 len}.
        let r = MemUnmapReq {
            client_id: 1,
            fd: 7,
            vaddrin: 0x1_0010_0000,
            len: 0x4000,
        };
        let want = le(&[(1, 4), (7, 4), (0x1_0010_0000, 8), (0x4000, 8)]);
        assert_eq!(r.encode().to_vec(), want);
        assert_eq!(MemUnmapReq::decode(&want), Some(r));
        assert_eq!(MemUnmapReq::decode(&want[..23]), None);
    }

    #[test]
    fn map_rsp_golden() {
        let r = MapRsp {
            vaddr: 0x0102_0304_0506_0708,
        };
        assert_eq!(r.encode(), [8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(MapRsp::decode(&r.encode()), Some(r));
        assert_eq!(MapRsp::decode(&[0; 7]), None);
    }

    #[test]
    fn caps_query_golden() {
        let r = CapsReq { count: 255 };
        assert_eq!(r.encode(), [255, 0, 0, 0]);
        assert_eq!(r.answer_len(), 1020);
        assert_eq!(CapsReq::decode(&r.encode()), Some(r));
        assert_eq!(CapsReq::decode(&[255, 0]), None);
        let answer = [1, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 9];
        assert_eq!(caps_attrs(&answer).collect::<Vec<_>>(), [1, 2, 256]);
    }

    #[test]
    fn decode_ignores_trailing_bytes() {
        let mut b = MemUnmapReq {
            client_id: 2,
            fd: 3,
            vaddrin: 4,
            len: 5,
        }
        .encode()
        .to_vec();
        b.push(0xaa);
        assert_eq!(MemUnmapReq::decode(&b).map(|r| r.len), Some(5));
    }
}

/// Documentation/accel/qda/firmware-interface.rst against the typed
/// messages: every structure it documents, at the size, offsets and widths
/// the encoders write.
#[cfg(test)]
mod firmware_doc_tests {
    use super::proc_msgs::*;
    use std::collections::BTreeMap;

    const DOC: &str = include_str!("../../../Documentation/accel/qda/firmware-interface.rst");

    /// `name -> (size, [(field, offset, width)])` as the document gives them.
    fn documented() -> BTreeMap<String, (usize, Vec<(String, usize, usize)>)> {
        let mut out = BTreeMap::new();
        let mut cur: Option<String> = None;
        for line in DOC.lines() {
            if let Some(rest) = line.strip_prefix("``") {
                let mut it = rest.splitn(2, "`` (");
                let (name, tail) = (it.next().unwrap(), it.next());
                if let Some(size) = tail.and_then(|t| t.split(' ').next()?.parse().ok()) {
                    out.insert(name.to_string(), (size, Vec::new()));
                    cur = Some(name.to_string());
                }
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            if let (Some(name), [field, off, width]) = (&cur, f.as_slice()) {
                if let (Ok(off), Ok(width)) = (off.parse(), width.parse()) {
                    out.get_mut(name)
                        .unwrap()
                        .1
                        .push((field.to_string(), off, width));
                }
            }
        }
        out
    }

    /// Each type's size, a sample's bytes, and each field's bytes in it.
    fn encoded() -> BTreeMap<&'static str, (usize, Vec<u8>, Vec<(&'static str, Vec<u8>)>)> {
        let mut m = BTreeMap::new();
        let le4 = |v: u32| v.to_le_bytes().to_vec();
        let le8 = |v: u64| v.to_le_bytes().to_vec();
        m.insert(
            "ClientReq",
            (
                ClientReq::SIZE,
                ClientReq { client_id: 0x11 }.encode().to_vec(),
                vec![("client_id", le4(0x11))],
            ),
        );
        let c = CreateReq {
            client_id: 1,
            namelen: 2,
            filelen: 3,
            pageslen: 4,
            attrs: 5,
            siglen: 6,
        };
        m.insert(
            "CreateReq",
            (
                CreateReq::SIZE,
                c.encode().to_vec(),
                vec![
                    ("client_id", le4(1)),
                    ("namelen", le4(2)),
                    ("filelen", le4(3)),
                    ("pageslen", le4(4)),
                    ("attrs", le4(5)),
                    ("siglen", le4(6)),
                ],
            ),
        );
        let p = PhyPage {
            addr: 0x1_2345_6000,
            size: 0x7000,
        };
        m.insert(
            "PhyPage",
            (
                PhyPage::SIZE,
                p.encode().to_vec(),
                vec![("addr", le8(0x1_2345_6000)), ("size", le8(0x7000))],
            ),
        );
        let r = MmapReq {
            client_id: 1,
            flags: 0x1000,
            vaddr: 0xabc0_0000_1000,
            num: 16,
            pad: 0,
        };
        m.insert(
            "MmapReq",
            (
                MmapReq::SIZE,
                r.encode().to_vec(),
                vec![
                    ("client_id", le4(1)),
                    ("flags", le4(0x1000)),
                    ("vaddr", le8(0xabc0_0000_1000)),
                    ("num", le4(16)),
                    ("pad", le4(0)),
                ],
            ),
        );
        let r = MunmapReq {
            client_id: 2,
            pad: 0,
            vaddr: 0x4000_0000,
            size: 0x3000,
        };
        m.insert(
            "MunmapReq",
            (
                MunmapReq::SIZE,
                r.encode().to_vec(),
                vec![
                    ("client_id", le4(2)),
                    ("pad", le4(0)),
                    ("vaddr", le8(0x4000_0000)),
                    ("size", le8(0x3000)),
                ],
            ),
        );
        let r = MemMapReq {
            client_id: 3,
            fd: 7,
            offset: 8,
            flags: 9,
            vaddrin: 0x7f00_0000_1000,
            num: 16,
            data_len: 0,
        };
        m.insert(
            "MemMapReq",
            (
                MemMapReq::SIZE,
                r.encode().to_vec(),
                vec![
                    ("client_id", le4(3)),
                    ("fd", le4(7)),
                    ("offset", le4(8)),
                    ("flags", le4(9)),
                    ("vaddrin", le8(0x7f00_0000_1000)),
                    ("num", le4(16)),
                    ("data_len", le4(0)),
                ],
            ),
        );
        let r = MemUnmapReq {
            client_id: 4,
            fd: 5,
            vaddrin: 0x4010_0000,
            len: 0x2000,
        };
        m.insert(
            "MemUnmapReq",
            (
                MemUnmapReq::SIZE,
                r.encode().to_vec(),
                vec![
                    ("client_id", le4(4)),
                    ("fd", le4(5)),
                    ("vaddrin", le8(0x4010_0000)),
                    ("len", le8(0x2000)),
                ],
            ),
        );
        m.insert(
            "MapRsp",
            (
                MapRsp::SIZE,
                MapRsp { vaddr: 0x4020_0000 }.encode().to_vec(),
                vec![("vaddr", le8(0x4020_0000))],
            ),
        );
        m.insert(
            "CapsReq",
            (
                CapsReq::SIZE,
                CapsReq { count: 255 }.encode().to_vec(),
                vec![("count", le4(255))],
            ),
        );
        m
    }

    #[test]
    fn every_documented_structure_matches_its_encoder() {
        let doc = documented();
        let enc = encoded();
        assert_eq!(
            doc.keys().map(String::as_str).collect::<Vec<_>>(),
            enc.keys().copied().collect::<Vec<_>>(),
            "documented and typed structures differ"
        );
        for (name, (size, fields)) in &doc {
            let (tsize, bytes, values) = &enc[name.as_str()];
            assert_eq!((size, bytes.len()), (tsize, *tsize), "{name}: size");
            let mut covered = 0;
            for (field, off, width) in fields {
                assert_eq!(*off, covered, "{name}.{field}: fields must be contiguous");
                let v = &values
                    .iter()
                    .find(|(f, _)| f == field)
                    .unwrap_or_else(|| panic!("{name}.{field}"))
                    .1;
                assert_eq!(v.len(), *width, "{name}.{field}: width");
                assert_eq!(
                    &bytes[*off..off + width],
                    v.as_slice(),
                    "{name}.{field}: offset"
                );
                covered = off + width;
            }
            assert_eq!(covered, *size, "{name}: fields do not cover the structure");
            assert_eq!(fields.len(), values.len(), "{name}: undocumented fields");
        }
    }
}

#[cfg(test)]
mod region_role_tests {
    use super::regions::*;

    #[test]
    fn an_unnamed_single_entry_is_the_remote_heap() {
        let r = roles(1, [None; 3], false).unwrap();
        assert_eq!(r.remote_heap, Some(0));
        assert_eq!(r.apps_cma, None);
        assert_eq!(r.apps_carveout, None);
        assert_eq!(roles(0, [None; 3], false), Ok(Roles::default()));
        assert_eq!(roles(2, [None; 3], false), Err(RoleError::Unnamed(1)));
    }

    #[test]
    fn named_entries_take_their_roles() {
        let r = roles(2, [Some(0), Some(1), None], true).unwrap();
        assert_eq!(
            (r.remote_heap, r.apps_cma, r.apps_carveout),
            (Some(0), Some(1), None)
        );
        let r = roles(1, [None, None, Some(0)], true).unwrap();
        assert_eq!((r.remote_heap, r.apps_carveout), (None, Some(0)));
        let r = roles(3, [Some(2), Some(0), Some(1)], true).unwrap();
        assert_eq!(
            (r.remote_heap, r.apps_cma, r.apps_carveout),
            (Some(2), Some(0), Some(1))
        );
    }

    #[test]
    fn bad_names_are_refused() {
        // An entry nobody names (unknown name or missing).
        assert_eq!(
            roles(2, [Some(0), None, None], true),
            Err(RoleError::Unnamed(1))
        );
        // A name past the last entry.
        assert_eq!(
            roles(1, [Some(0), Some(1), None], true),
            Err(RoleError::NoSuchEntry(1))
        );
        // Two names for one entry cannot come from one names list, but
        // the resolver still refuses them.
        assert_eq!(
            roles(1, [Some(0), Some(0), None], true),
            Err(RoleError::Shared(0))
        );
        assert_eq!(
            roles(9, [Some(0), None, None], true),
            Err(RoleError::Unnamed(1))
        );
    }
}

#[cfg(test)]
mod heap_claim_tests {
    use super::heap_info::HeapInfo;

    #[test]
    fn only_the_first_create_gets_the_heap() {
        let h = HeapInfo::new(0x8000_0000, 0x80_0000);
        assert!(!h.is_sent());
        let c = h.claim().expect("first create claims the heap");
        assert!(
            h.claim().is_none(),
            "a concurrent create must not send it too"
        );
        c.keep();
        assert!(h.is_sent());
        assert!(h.claim().is_none(), "later creates send no heap");
    }

    #[test]
    fn a_failed_create_gives_the_heap_back() {
        let h = HeapInfo::new(0x8000_0000, 0x80_0000);
        drop(h.claim().expect("first create"));
        assert!(!h.is_sent());
        let again = h.claim();
        assert!(again.is_some(), "the next create sends the heap again");
        again.unwrap().keep();
        assert!(h.is_sent());
    }
}
