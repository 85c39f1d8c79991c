//! Properties of the checks on device-tree, allocator and access values
//! (`access_policy.rs`, `memory/page_bitmap.rs`, `memory/regions.rs`,
//! `topology.rs`) on hostile input: never a panic, and each accepts
//! exactly what its rule says, checked against a brute-force reference.

use crate::{
    access_policy::{
        legacy_nodes, session_rejected, unsigned_support, PdStart, ATTR_PRIVILEGED, ATTR_UNSIGNED,
    },
    domain::Domain,
    gen::{cases, Gen},
    page_bitmap,
    regions::*,
    topology::*,
};

/// A small count most of the time, a hostile one else.
fn small(g: &mut Gen, n: u64) -> usize {
    match g.below(8) {
        0 => g.u64() as usize,
        _ => g.below(n) as usize,
    }
}

fn bit(words: &[u64], i: usize) -> bool {
    words[i / 64] & (1 << (i % 64)) != 0
}

/// Whether an aligned run of `count` free pages exists below `pages`.
fn fits(words: &[u64], pages: usize, count: usize, align: usize) -> bool {
    (0..pages).step_by(align).any(|s| {
        s.checked_add(count).is_some_and(|e| e <= pages) && (s..s + count).all(|p| !bit(words, p))
    })
}

#[test]
fn page_bitmap_alloc_takes_only_free_aligned_runs() {
    cases("bitmap_alloc", |g| {
        let mut words: Vec<u64> = (0..g.below(6)).map(|_| g.bits() & g.bits()).collect();
        let cap = words.len() * 64;
        let pages = match g.below(4) {
            0 => small(g, 400),
            _ => g.below(cap as u64 + 1) as usize,
        };
        let (count, align) = (small(g, 40), 1usize << g.below(8));
        let align = if g.one_in(8) { small(g, 9) } else { align };
        let before = words.clone();
        match page_bitmap::alloc(&mut words, pages, count, align) {
            Some(s) => {
                assert!(s % align == 0 && s + count <= pages && pages <= cap);
                for p in 0..cap {
                    let taken = (s..s + count).contains(&p);
                    assert!(!taken || !bit(&before, p), "page {p} given twice");
                    assert_eq!(bit(&words, p), bit(&before, p) || taken);
                }
            }
            None => {
                assert_eq!(words, before);
                let valid = count > 0 && align.is_power_of_two() && pages <= cap;
                assert!(!valid || !fits(&before, pages, count, align));
            }
        }
    });
}

#[test]
fn page_bitmap_free_takes_back_only_used_pages() {
    cases("bitmap_free", |g| {
        let mut words: Vec<u64> = (0..g.below(6)).map(|_| g.bits() | g.bits()).collect();
        let cap = words.len() * 64;
        let pages = match g.below(4) {
            0 => small(g, 400),
            _ => g.below(cap as u64 + 1) as usize,
        };
        let (start, count) = (small(g, cap as u64 + 2), small(g, 70));
        let before = words.clone();
        let r = page_bitmap::free(&mut words, pages, start, count);
        let end = start.checked_add(count);
        let valid = end.is_some_and(|e| count > 0 && e <= pages && pages <= cap)
            && (start..start + count).all(|p| bit(&before, p));
        assert_eq!(r.is_ok(), valid, "free({pages}, {start}, {count})");
        for p in 0..cap {
            let freed = valid && (start..start + count).contains(&p);
            assert_eq!(bit(&words, p), bit(&before, p) && !freed);
        }
    });
}

/// A region with a hostile base and size, near others sometimes.
fn region(g: &mut Gen, near: u64) -> Region {
    let base = if g.one_in(2) {
        near.wrapping_add(g.below(0x4000))
    } else {
        g.u64()
    };
    let size = match g.below(3) {
        0 => g.u64(),
        _ => g.below(0x4000),
    };
    let kind = g.pick(&[RegionKind::Carveout, RegionKind::Cma, RegionKind::Other]);
    Region { base, size, kind }
}

/// The first refusal of `regions`, by brute force in 128 bits.
fn regions_ref(regions: &[Region]) -> Result<(), (usize, RegionError)> {
    let end = |r: &Region| u128::from(r.base) + u128::from(r.size);
    for (i, r) in regions.iter().enumerate() {
        match r {
            r if r.size == 0 => return Err((i, RegionError::Empty)),
            r if end(r) > u128::from(u64::MAX) => return Err((i, RegionError::Wraps)),
            _ => {}
        }
        let base = u128::from(r.base);
        if let Some(j) = regions[..i]
            .iter()
            .position(|o| base < end(o) && u128::from(o.base) < end(r))
        {
            return Err((i, RegionError::Overlaps(j)));
        }
    }
    Ok(())
}

#[test]
fn regions_are_refused_exactly_when_bad() {
    cases("regions", |g| {
        let near = g.u64();
        let regions: Vec<Region> = (0..g.below(6)).map(|_| region(g, near)).collect();
        assert_eq!(
            check_regions(&regions),
            regions_ref(&regions),
            "{regions:?}"
        );
    });
}

#[test]
fn reg_entries_decode_any_cells() {
    cases("reg_entry", |g| {
        let cells: Vec<u32> = (0..g.below(7)).map(|_| g.u32()).collect();
        let (ac, sc) = (small(g, 4) as u32, small(g, 4) as u32);
        let r = reg_entry(&cells, ac, sc);
        let (a, s) = (ac as usize, sc as usize);
        let ok = (1..=2).contains(&a)
            && (1..=2).contains(&s)
            && !cells.is_empty()
            && cells.len() % (a + s) == 0;
        assert_eq!(r.is_ok(), ok, "{cells:?} {ac} {sc}");
        let read = |c: &[u32]| c.iter().fold(0u128, |acc, &v| (acc << 32) | u128::from(v));
        if let Ok((base, size)) = r {
            assert_eq!(u128::from(base), read(&cells[..a]));
            assert_eq!(u128::from(size), read(&cells[a..a + s]));
        }
    });
}

#[test]
fn memory_region_roles_name_each_entry_once() {
    cases("roles", |g| {
        let entries = small(g, 10);
        let named = [(); 3].map(|_| g.one_in(3).then(|| small(g, 10)));
        let has_names = !g.one_in(4);
        let Ok(r) = roles(entries, named, has_names) else {
            return;
        };
        let got = [r.remote_heap, r.apps_cma, r.apps_carveout];
        let mut ids: Vec<usize> = got.iter().flatten().copied().collect();
        ids.sort_unstable();
        let want: Vec<usize> = (0..entries).collect();
        assert_eq!(ids, want, "{entries} {named:?} {has_names}");
    });
}

#[test]
fn context_bank_layouts_are_checked() {
    cases("check_cbs", |g| {
        let cbs: Vec<CbSpec> = (0..g.below(6))
            .map(|_| CbSpec {
                sid: small(g, 8) as u32,
                nsessions: small(g, 6) as u32,
                coherent: g.one_in(2),
                smmu: g.one_in(2),
            })
            .collect();
        let sum: u128 = cbs.iter().map(|c| u128::from(c.nsessions)).sum();
        let distinct = cbs
            .iter()
            .enumerate()
            .all(|(i, c)| cbs[..i].iter().all(|o| o.sid != c.sid));
        let each = cbs.iter().all(|c| c.sid <= MAX_SID && c.nsessions > 0);
        match check_cbs(&cbs, AddrLayout::DEFAULT) {
            Ok(total) => {
                assert!(each && distinct && !cbs.is_empty());
                assert_eq!(total as u128, sum);
                assert!(total <= MAX_SESSIONS);
            }
            Err(TopologyError::TooManySessions(t)) => {
                assert!(each && distinct && sum > MAX_SESSIONS as u128 && t > MAX_SESSIONS);
            }
            Err(TopologyError::NoContextBanks) => assert!(cbs.is_empty()),
            Err(_) => assert!(!(each && distinct), "{cbs:?}"),
        }
    });
}

#[test]
fn dsp_addresses_keep_sid_and_iova() {
    cases("dsp_addr", |g| {
        let (sid, iova) = (g.u32(), g.u64());
        for l in [
            AddrLayout::DEFAULT,
            AddrLayout::new(56, 34).unwrap(),
            AddrLayout::new(56, 32).unwrap(),
        ] {
            let ok = sid <= l.max_sid() && iova < l.iova_limit();
            match l.dsp_addr(sid, iova) {
                Some(a) => {
                    assert!(ok);
                    assert_eq!(l.split(a), (u64::from(sid), iova));
                }
                None => assert!(!ok),
            }
        }
    });
}

#[test]
fn access_rules_hold_for_any_attributes() {
    let domains = [
        Domain::Adsp,
        Domain::Mdsp,
        Domain::Sdsp,
        Domain::Cdsp(0),
        Domain::Cdsp(3),
        Domain::Gdsp(1),
    ];
    cases("access", |g| {
        let (attrs, d, secure) = (g.u32(), g.pick(&domains), g.one_in(2));
        let s = PdStart::create(attrs);
        let unsigned = attrs & ATTR_UNSIGNED != 0;
        let privileged = attrs & ATTR_PRIVILEGED != 0;
        assert_eq!(
            s,
            PdStart::Create {
                unsigned,
                privileged
            }
        );
        assert_eq!(
            s.needs_privilege(secure),
            privileged || (secure && !unsigned)
        );
        let nodes = legacy_nodes(d, secure);
        assert!(!nodes.is_empty());
        assert_eq!(nodes.contains(&false), unsigned_support(d) || !secure);
        for &node_secure in nodes {
            let rejected = session_rejected(node_secure, secure, d, unsigned);
            // Only a non-secure node of a secure channel refuses, and
            // only what is not an unsigned PD on a DSP that runs them.
            assert_eq!(
                rejected,
                !node_secure && secure && !(unsigned && unsigned_support(d))
            );
        }
    });
}
