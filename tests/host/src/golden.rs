//! Golden vectors: what the simulated DSP recorded of
//! `drivers/misc/fastrpc.c`'s messages in the `qda_differential` suite
//! (`golden/fastrpc-cdsp.trace`, refreshed by `scripts/update-golden.sh`),
//! replayed through qda's own encoders and placement, so that a change
//! that makes qda's wire format differ from upstream fails here in
//! seconds, without a QEMU boot.

use crate::{
    layout,
    plan::{self, Placed, Span},
    proc_msgs::{
        method, CapsReq, ClientReq, CreateReq, MemMapReq, MemUnmapReq, MmapReq, MunmapReq, PhyPage,
        ATTR_SIZE,
    },
    scalars::Scalars,
};

const TRACE: &str = include_str!("../golden/fastrpc-cdsp.trace");

/// One argument of a recorded message.
#[derive(Debug, Default)]
struct Arg<'a> {
    kind: &'a str,
    len: u64,
    /// Page entry inside the payload: (offset, size).
    inline_page: Option<(u64, u64)>,
    /// Offset of the argument in its first page.
    at: u64,
    /// The input, as recorded (`{field=value ...}` for kernel requests).
    data: &'a str,
}

/// One recorded message.
#[derive(Debug)]
struct Message<'a> {
    step: &'a str,
    handle: &'a str,
    sc: Scalars,
    size: u64,
    args: Vec<Arg<'a>>,
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap_or_else(|_| panic!("not hex: {s:?}"))
}

fn parse_arg(part: &str) -> Arg<'_> {
    // `d=` comes last and may hold spaces (`{field=value ...}`).
    let (part, data) = part.split_once(" d=").unwrap_or((part, ""));
    let mut fields = part.split(' ');
    let mut a = Arg {
        kind: fields.next().unwrap(),
        data,
        ..Default::default()
    };
    for f in fields {
        let (k, v) = f.split_once('=').unwrap_or((f, ""));
        match k {
            "len" => a.len = hex(v),
            "pg" => {
                if let Some(p) = v.strip_prefix("p+") {
                    let (off, size) = p.split_once('/').unwrap();
                    a.inline_page = Some((hex(off), hex(size)));
                }
            }
            "at" => a.at = hex(v.trim_start_matches('+')),
            _ => {}
        }
    }
    a
}

fn messages() -> Vec<Message<'static>> {
    let mut out = Vec::new();
    for line in TRACE.lines().filter(|l| !l.starts_with('#')) {
        let (step, rest) = line.split_once('\t').expect("<step>\\t<line>");
        // `d=` of a kernel request holds spaces: split arguments on " | ".
        let mut parts = rest.split(" | ");
        let header: Vec<&str> = parts.next().unwrap().split(' ').collect();
        let field = |p: &str| {
            header
                .iter()
                .find_map(|f| f.strip_prefix(p))
                .unwrap_or_else(|| panic!("no {p} in {line}"))
        };
        out.push(Message {
            step,
            handle: field("h"),
            sc: Scalars(hex(field("sc")) as u32),
            size: hex(field("sz")),
            args: parts.map(parse_arg).collect(),
        });
    }
    out
}

/// Where qda places `m`'s inline arguments, given upstream's positions as
/// the caller's addresses (placement keeps their order and overlaps).
fn qda_placement(m: &Message) -> (Vec<u64>, u64) {
    let n = m.args.len();
    let spans: Vec<Span> = m
        .args
        .iter()
        .map(|a| match a.inline_page {
            Some((off, _)) => Span::User {
                ptr: off + a.at,
                len: a.len,
            },
            None => Span::Direct,
        })
        .collect();
    let (mut order, mut out) = (vec![0; n], vec![Placed::default(); n]);
    let end = plan::plan(&spans, &mut order, &mut out).unwrap();
    let pos = out.iter().map(|p| p.pos).collect();
    (pos, layout::align_up(end, layout::PAGE).unwrap())
}

fn is_kernel_call(m: &Message) -> bool {
    m.handle == "1" || m.handle == "2"
}

#[test]
fn the_golden_trace_covers_every_request_of_the_script() {
    let ms = messages();
    let methods: Vec<u32> = ms
        .iter()
        .filter(|m| m.handle == "1")
        .map(|m| m.sc.method())
        .collect();
    for want in [
        method::ATTACH,
        method::RELEASE,
        method::MMAP,
        method::MUNMAP,
        method::CREATE,
        method::MEM_MAP,
        method::MEM_UNMAP,
    ] {
        assert!(methods.contains(&want), "no process-control method {want}");
    }
    assert!(ms.iter().any(|m| m.handle == "2"), "no capability query");
    assert!(
        ms.iter().any(|m| m.sc.in_handles() == 1),
        "no handle argument"
    );
    assert!(ms.iter().any(|m| !is_kernel_call(m) && m.args.is_empty()));
}

#[test]
fn argument_counts_match_the_scalars() {
    for m in messages() {
        assert_eq!(m.args.len(), m.sc.len(), "{m:?}");
    }
}

/// User calls: qda's metadata length, inline placement (alignment,
/// overlaps), page entries and payload size reproduce upstream's.
#[test]
fn user_call_payloads_are_laid_out_as_upstream() {
    for m in messages().iter().filter(|m| !is_kernel_call(m)) {
        let (pos, size) = qda_placement(m);
        assert_eq!(size, m.size, "payload size of {}: {m:?}", m.step);
        for (i, a) in m.args.iter().enumerate() {
            let Some((off, psize)) = a.inline_page else {
                continue;
            };
            if a.len == 0 {
                continue;
            }
            assert_eq!(pos[i], off + a.at, "argument {i} of {}: {m:?}", m.step);
            assert_eq!(off, pos[i] & !(layout::PAGE - 1), "page of {i}: {m:?}");
            assert_eq!(
                psize,
                layout::page_span(pos[i], a.len).unwrap(),
                "span of {i}: {m:?}"
            );
        }
    }
}

/// Kernel calls: payload size (placement order differs by design, see
/// the `kernel_call_inline_placement` divergence), and the request
/// layouts of qda's typed structures against upstream's lengths.
#[test]
fn kernel_call_payload_sizes_match() {
    for m in messages().iter().filter(|m| is_kernel_call(m)) {
        assert_eq!(qda_placement(m).1, m.size, "{m:?}");
    }
}

/// `{name=value ...}` of a recorded request: the value of `name`.
fn field<'a>(data: &'a str, name: &str) -> &'a str {
    data.trim_matches(|c| c == '{' || c == '}')
        .split(' ')
        .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name} in {data}"))
}

#[test]
fn process_control_requests_have_qda_struct_layouts() {
    for m in messages().iter().filter(|m| m.handle == "1") {
        let len = |i: usize| m.args[i].len as usize;
        let d = |i: usize| m.args[i].data;
        match m.sc.method() {
            method::ATTACH | method::RELEASE => assert_eq!(len(0), ClientReq::SIZE),
            method::MMAP => {
                assert_eq!(len(0), MmapReq::SIZE);
                assert_eq!(len(1), PhyPage::SIZE);
                assert_eq!(hex(field(d(0), "num")), PhyPage::NUM as u64);
            }
            method::MUNMAP => assert_eq!(len(0), MunmapReq::SIZE),
            method::CREATE | method::CREATE_ATTR => {
                assert_eq!(len(0), CreateReq::SIZE);
                assert_eq!(len(1) as u64, hex(field(d(0), "namelen")));
                assert_eq!(len(2) as u64, hex(field(d(0), "filelen")));
                let pages = hex(field(d(0), "pageslen")) as usize;
                assert_eq!(len(3), pages * PhyPage::SIZE);
            }
            method::MEM_MAP => {
                assert_eq!(len(0), MemMapReq::SIZE);
                assert_eq!(len(1), PhyPage::SIZE);
                assert_eq!(hex(field(d(0), "num")), PhyPage::NUM as u64);
                assert_eq!(len(2) as u64, hex(field(d(0), "data_len")));
            }
            method::MEM_UNMAP => assert_eq!(len(0), MemUnmapReq::SIZE),
            other => panic!("unexpected process-control method {other}: {m:?}"),
        }
    }
}

#[test]
fn the_capability_query_has_qda_struct_layout() {
    for m in messages().iter().filter(|m| m.handle == "2") {
        assert_eq!(m.args[0].len as usize, CapsReq::SIZE);
        let count = hex(field(m.args[0].data, "count")) as usize;
        assert_eq!(m.args[1].len as usize, count * ATTR_SIZE);
    }
}
