//! Properties of the invoke payload's layout and plan
//! (`src/fastrpc/layout.rs`, `src/fastrpc/plan.rs`) on hostile inputs:
//! page spans and alignment checked against 128-bit arithmetic, plans that
//! keep every buffer inside the payload, share bytes exactly where the
//! caller's ranges overlap, and refuse what no caller can have.

use crate::{
    gen::{cases, Gen},
    layout::*,
    plan::{self, Placed, PlanError, Span, MAX_PAYLOAD},
};

const TOP: u128 = 1 << 64;

/// `page_span` in 128 bits: `None` where the range or its span leaves
/// 64 bits.
fn span_ref(addr: u64, len: u64) -> Option<u64> {
    if len == 0 {
        return Some(0);
    }
    let (a, last) = (u128::from(addr), u128::from(addr) + u128::from(len) - 1);
    let p = u128::from(PAGE);
    u64::try_from((last / p - a / p + 1) * p)
        .ok()
        .filter(|_| last < TOP)
}

#[test]
fn page_span_is_exact_or_refused() {
    cases("page_span", |g| {
        let (addr, len) = (g.u64(), g.u64());
        let got = page_span(addr, len);
        assert_eq!(got, span_ref(addr, len), "page_span({addr:#x}, {len:#x})");
        if let (Some(s), true) = (got, len > 0) {
            let start = u128::from(addr & !(PAGE - 1));
            assert_eq!(s % PAGE, 0);
            assert!(start + u128::from(s) >= u128::from(addr) + u128::from(len));
            assert!(start + u128::from(s) <= TOP);
            assert!(u128::from(s) < u128::from(len) + 2 * u128::from(PAGE));
        }
    });
}

#[test]
fn page_entry_covers_the_bytes() {
    cases("page_entry", |g| {
        let (pv, len) = (g.u64(), g.u64());
        match page_entry(pv, len) {
            Some((0, 0)) if len == 0 => {}
            Some((a, s)) => {
                assert!(len > 0 && a <= pv && a % PAGE == 0 && s % PAGE == 0);
                let end = u128::from(a) + u128::from(s);
                assert!(end >= u128::from(pv) + u128::from(len) && end <= TOP);
            }
            None => assert_eq!(span_ref(pv, len), None, "{pv:#x}+{len:#x} refused"),
        }
    });
}

#[test]
fn align_up_is_exact_or_refused() {
    cases("align_up", |g| {
        let v = g.u64();
        let a = match g.below(4) {
            0 => g.u64(),
            _ => 1u64 << g.below(64),
        };
        let got = align_up(v, a);
        if !a.is_power_of_two() {
            assert_eq!(got, None, "align_up({v:#x}, {a:#x})");
            return;
        }
        let want = (u128::from(v) + u128::from(a) - 1) / u128::from(a) * u128::from(a);
        assert_eq!(got, u64::try_from(want).ok(), "align_up({v:#x}, {a:#x})");
    });
}

/// A plan's inputs: clustered user buffers (so they overlap), kernel
/// buffers and direct arguments, with hostile lengths and addresses.
fn spans(g: &mut Gen) -> Vec<Span> {
    let base = g.u64();
    let n = g.below(11) as usize;
    let len = |g: &mut Gen| match g.below(3) {
        0 => g.u64(),
        _ => g.below(0x400),
    };
    (0..n)
        .map(|_| match g.below(6) {
            0 => Span::Kernel { len: len(g) },
            1 => Span::Direct,
            2 => Span::User {
                ptr: g.u64(),
                len: len(g),
            },
            _ => Span::User {
                ptr: base.wrapping_add(g.below(0x600)),
                len: len(g),
            },
        })
        .collect()
}

/// The caller range of a span in 128 bits.
fn range(s: Span) -> (u128, u128) {
    match s {
        Span::User { ptr, len } => (u128::from(ptr), u128::from(ptr) + u128::from(len)),
        _ => (0, u128::from(s.len())),
    }
}

/// The first refusal of a span, in argument order.
fn span_error(spans: &[Span]) -> Option<PlanError> {
    spans.iter().find_map(|&s| match range(s) {
        (_, end) if end > u128::from(u64::MAX) => Some(PlanError::Wraps),
        _ if s.len() > MAX_PAYLOAD => Some(PlanError::TooBig),
        _ => None,
    })
}

/// The payload size in 128 bits, computed independently: each group of
/// overlapping user buffers is one aligned run, then each kernel buffer.
fn size_ref(spans: &[Span]) -> u128 {
    let align = |c: u128| c.div_ceil(128) * 128;
    let mut users: Vec<(u128, u128)> = spans
        .iter()
        .filter(|s| matches!(s, Span::User { .. }) && s.len() > 0)
        .map(|&s| range(s))
        .collect();
    users.sort_by_key(|&(s, e)| (s, std::cmp::Reverse(e)));
    let mut cursor = metalen(spans.len()) as u128;
    let mut max: Option<u128> = None;
    for (s, e) in users {
        match max {
            Some(m) if s < m => {
                cursor += e.saturating_sub(m);
                max = Some(m.max(e));
            }
            _ => {
                cursor = align(cursor) + e - s;
                max = Some(e);
            }
        }
    }
    for s in spans.iter().filter(|s| matches!(s, Span::Kernel { .. })) {
        if s.len() > 0 {
            cursor = align(cursor) + u128::from(s.len());
        }
    }
    cursor
}

/// Whether user buffer `j` is placed before `i` and covers its start.
fn covers(spans: &[Span], j: usize, i: usize) -> bool {
    let ((sj, ej), (si, ei)) = (range(spans[j]), range(spans[i]));
    let before = (sj, std::cmp::Reverse(ej), j) < (si, std::cmp::Reverse(ei), i);
    matches!(spans[j], Span::User { .. }) && spans[j].len() > 0 && before && sj <= si && si < ej
}

/// Checks a successful plan of `spans` of `size` bytes placed as `out`.
fn check_placement(spans: &[Span], out: &[Placed], size: u64) {
    let meta = metalen(spans.len()) as u64;
    let live = |i: usize| spans[i].len() > 0 && !matches!(spans[i], Span::Direct);
    for i in 0..spans.len() {
        let (p, len) = (out[i].pos, spans[i].len());
        if !live(i) {
            assert_eq!(p, 0, "argument {i} not inline but placed");
            continue;
        }
        assert!(p >= meta && u128::from(p) + u128::from(len) <= u128::from(size));
        let head = matches!(spans[i], Span::Kernel { .. })
            || !(0..spans.len()).any(|j| j != i && covers(spans, j, i));
        assert!(!head || p % 128 == 0, "head {i} at {p:#x} unaligned");
        for j in (0..spans.len()).filter(|&j| j != i && live(j)) {
            check_pair(spans, out, i, j);
        }
    }
}

/// Two placed buffers share payload bytes exactly where their caller
/// ranges do, at the same distance from their caller address.
fn check_pair(spans: &[Span], out: &[Placed], i: usize, j: usize) {
    let both_user = [i, j]
        .iter()
        .all(|&k| matches!(spans[k], Span::User { .. }));
    let ((si, ei), (sj, ej)) = (range(spans[i]), range(spans[j]));
    let caller = both_user && si.max(sj) < ei.min(ej);
    let (pi, pj) = (u128::from(out[i].pos), u128::from(out[j].pos));
    let payload = pi.max(pj) < (pi + ei - si).min(pj + ej - sj);
    assert_eq!(
        caller, payload,
        "arguments {i} and {j}: {spans:?} -> {out:?}"
    );
    if caller {
        assert_eq!(pi as i128 - si as i128, pj as i128 - sj as i128);
    }
}

#[test]
fn plans_are_sound_or_refused() {
    // Outcomes seen: wraps, too big, placed, placed with shared bytes.
    let mut seen = [0u32; 4];
    cases("plan", |g| {
        let spans = spans(g);
        let n = spans.len();
        let (mut order, mut out) = (vec![0; n], vec![Placed::default(); n]);
        let got = plan::plan(&spans, &mut order, &mut out);
        let shared = out.iter().any(|p| p.offset > 0);
        seen[match got {
            Err(PlanError::Wraps) => 0,
            Err(PlanError::TooBig) => 1,
            Ok(_) => 2 + usize::from(shared),
        }] += 1;
        match (span_error(&spans), got) {
            (Some(e), r) => assert_eq!(r, Err(e), "{spans:?}"),
            (None, Err(e)) => {
                assert_eq!(e, PlanError::TooBig);
                assert!(size_ref(&spans) > u128::from(MAX_PAYLOAD), "{spans:?}");
            }
            (None, Ok(size)) => {
                assert_eq!(u128::from(size), size_ref(&spans), "{spans:?}");
                assert!(size <= MAX_PAYLOAD);
                check_placement(&spans, &out, size);
                check_pages(g, &spans, &out, size);
            }
        }
    });
    assert!(seen.iter().all(|&n| n > 1000), "outcomes {seen:?}");
}

/// The page entries `write_inline` derives from a plan: each covers its
/// buffer and stays inside the payload's pages.
fn check_pages(g: &mut Gen, spans: &[Span], out: &[Placed], size: u64) {
    let alloc = align_up(size, PAGE).expect("a planned size aligns");
    let base = (g.below(0x1_0000) << 32) | (g.below((1 << 20) - (1 << 14)) << 12);
    for (i, s) in spans.iter().enumerate() {
        if matches!(s, Span::Direct) || s.len() == 0 {
            continue;
        }
        let pv = base.checked_add(out[i].pos).expect("in the payload");
        let (a, span) = page_entry(pv, s.len()).expect("a placed buffer has pages");
        assert!(a >= base && a + span <= base + alloc, "argument {i}");
        assert!(a <= pv && pv + s.len() <= a + span);
    }
}

#[test]
fn user_ranges_are_checked_where_decoded() {
    cases("user_range", |g| {
        let (ptr, len) = (g.u64(), g.u64());
        let wraps = u128::from(ptr) + u128::from(len) > u128::from(u64::MAX);
        assert_eq!(plan::user_end(ptr, len).is_err(), wraps);
        assert_eq!(plan::inline_len(len).is_err(), len > MAX_PAYLOAD);
        let mut out = [Placed::default()];
        let r = plan::plan(&[Span::User { ptr, len }], &mut [0], &mut out);
        assert_eq!(r.is_ok(), !wraps && len <= MAX_PAYLOAD - 512);
    });
}

#[test]
fn metadata_entries_read_back() {
    cases("metadata", |g| {
        let n = 1 + g.below(540) as usize;
        let i = g.below(n as u64) as usize;
        let mut meta = vec![0u8; metalen(n)];
        let (pv, len, page) = (g.u64(), g.u64(), (g.u64(), g.u64()));
        write_buf(&mut meta, n, i, pv, len, page);
        assert_eq!(read_buf(&meta, n, i), (pv, len, page.0, page.1));
        let list = get_u64(&meta, list_off(n, i));
        assert_eq!(list, u64::from(len != 0) | ((i as u64) << 32));
        let (fd, off, hlen) = (g.i32(), g.u32(), g.u32());
        write_handle(&mut meta, n, i, fd, off, hlen, page);
        let words = get_u64(&meta, rpra_off(n, i));
        assert_eq!(words, u64::from(fd as u32) | (u64::from(off) << 32));
        assert_eq!(get_u64(&meta, list_off(n, i)) & 1, u64::from(hlen != 0));
        let dsp = dsp_data_addr(pv, page.0);
        assert_eq!(dsp & (PAGE - 1), pv & (PAGE - 1));
    });
}
