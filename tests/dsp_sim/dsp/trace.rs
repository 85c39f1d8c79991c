// SPDX-License-Identifier: GPL-2.0

//! The recording side of the simulated DSP: every request a channel
//! receives, decoded into one normalised line and kept (bounded) for the
//! differential tests, which run the same operations through qda and
//! through `drivers/misc/fastrpc.c` and compare what the DSP saw.
//!
//! Values that depend on allocation or scheduling become tokens numbered
//! by first appearance in the trace (`c` client id, `t` thread, `x`
//! context id without its PD bits, `m` module handle, `a` DSP address of
//! a page entry, `f` buffer reference, `u` caller address, `v` DSP
//! virtual address handed out by the simulator); everything else is kept
//! exactly. A line reads
//!
//! ```text
//! c0 t0 x0 pd0 hm0 sc02010000 sz8192 | in len=100 pg=p+1000/1000 at=+180 d=#… | out …
//! ```
//!
//! `pg=` is the page entry (`p+OFF` inside the payload, `aN` elsewhere,
//! `-` if empty) with its size, `at=` the argument's offset in its first
//! page, `pv=` whether the remote arg's pointer is that DSP address
//! (`dsp`) or another (`other`), `d=` the input bytes (words or hex up to 64 bytes, else a hash;
//! the requests of handles 1 and 2 field by field). Sizes and offsets are
//! hexadecimal. `addrs-<label>` shows the address behind each `a` token.

use core::fmt::Write;

use kernel::prelude::*;

use crate::{
    dsp::call::Call,
    layout,
    pd::modules,
    proc_msgs::{
        method,
        CapsReq,
        ClientReq,
        CreateReq,
        CreateStaticReq,
        MemMapReq,
        MemUnmapReq,
        MmapReq,
        MunmapReq,
        PhyPage,
        INIT_HANDLE,
        UTILITIES_HANDLE, //
    },
    scalars::Scalars,
    wire::Msg, //
};

/// Lines kept; later ones are counted as dropped.
const MAX_LINES: usize = 512;
/// Largest input shown byte for byte.
const SHOWN: usize = 64;

/// Kinds of token.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Client,
    Thread,
    Ctx,
    Module,
    Addr,
    Fd,
    UserVa,
    DspVa,
}

/// One channel's recorded requests.
pub(crate) struct Trace {
    lines: KVec<KVec<u8>>,
    dropped: usize,
    tokens: KVec<(Kind, u64)>,
    /// The distinct upper halves (`addr >> 32`: the SID and the DMA
    /// address bits above 32) of the payload addresses of the requests,
    /// in order of first appearance: which context banks, with which
    /// address width, a driver's calls came through.
    windows: KVec<u64>,
}

/// A line being built (allocation failure ends it early).
struct Line(KVec<u8>);

impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| core::fmt::Error)
    }
}

impl Trace {
    /// An empty trace.
    pub(crate) const fn new() -> Self {
        Self {
            lines: KVec::new(),
            dropped: 0,
            tokens: KVec::new(),
            windows: KVec::new(),
        }
    }

    /// Forgets the lines and the tokens.
    pub(crate) fn clear(&mut self) {
        self.lines.clear();
        self.tokens.clear();
        self.windows.clear();
        self.dropped = 0;
    }

    /// Writes the lines (and `overflow N` if some were dropped).
    pub(crate) fn show(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for l in self.lines.iter() {
            writeln!(f, "{}", core::str::from_utf8(l).unwrap_or("<bad line>"))?;
        }
        if self.dropped != 0 {
            writeln!(f, "overflow {}", self.dropped)?;
        }
        Ok(())
    }

    /// Writes the DSP addresses behind the `a` tokens, one `aN 0x…` a
    /// line (`addrs-<label>`: tests look up where a page entry pointed),
    /// then the payload windows, one `wN 0x…` a line.
    pub(crate) fn show_addrs(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let addrs = self.tokens.iter().filter(|(k, _)| *k == Kind::Addr);
        for (rank, (_, v)) in addrs.enumerate() {
            writeln!(f, "a{rank} {v:#x}")?;
        }
        for (rank, w) in self.windows.iter().enumerate() {
            writeln!(f, "w{rank} {w:#x}")?;
        }
        Ok(())
    }

    /// Records `msg`, decoded as `call` (`None`: refused as malformed).
    pub(crate) fn record(&mut self, msg: &Msg, call: Option<&Call>) {
        let window = msg.addr >> 32;
        if msg.size != 0 && !self.windows.contains(&window) {
            // Bounded like the lines: a full list drops the new window.
            if self.windows.len() < MAX_LINES {
                let _ = self.windows.push(window, GFP_KERNEL);
            }
        }
        if self.lines.len() == MAX_LINES {
            self.dropped += 1;
            return;
        }
        let mut l = Line(KVec::new());
        let r = self.header(&mut l, msg).and_then(|()| match call {
            Some(c) => self.args(&mut l, msg, c),
            None => l.write_str(" ! refused"),
        });
        if r.is_err() || self.lines.push(l.0, GFP_KERNEL).is_err() {
            self.dropped += 1;
        }
    }

    /// The token of `v` of kind `k`: its rank among the values of that kind.
    fn tok(&mut self, k: Kind, v: u64) -> usize {
        let mut rank = 0;
        for &(kind, value) in self.tokens.iter() {
            if kind == k {
                if value == v {
                    return rank;
                }
                rank += 1;
            }
        }
        // Out of memory: every new value shares one rank, which a
        // comparison then shows as a difference.
        let _ = self.tokens.push((k, v), GFP_KERNEL);
        rank
    }

    fn header(&mut self, l: &mut Line, msg: &Msg) -> core::fmt::Result {
        let c = self.tok(Kind::Client, u64::from(msg.client_id as u32));
        let t = self.tok(Kind::Thread, u64::from(msg.tid as u32));
        let x = self.tok(Kind::Ctx, msg.ctx >> 8);
        write!(l, "c{c} t{t} x{x} pd{} ", msg.ctx & 0xff)?;
        self.handle(l, msg.handle)?;
        write!(l, " sc{:08x} sz{:x}", msg.sc, msg.size)
    }

    fn handle(&mut self, l: &mut Line, h: u32) -> core::fmt::Result {
        if modules::is_module_handle(h) {
            let m = self.tok(Kind::Module, u64::from(h));
            write!(l, "hm{m}")
        } else {
            write!(l, "h{h}")
        }
    }

    fn args(&mut self, l: &mut Line, msg: &Msg, call: &Call) -> core::fmt::Result {
        let sc = Scalars(msg.sc);
        let (n, meta) = (sc.len(), call.meta());
        let mut input = 0;
        for i in 0..n {
            let kind = match i {
                i if i < sc.inbufs() => "in",
                i if i < sc.buffers() => "out",
                i if i < sc.buffers() + sc.in_handles() => "hin",
                _ => "hout",
            };
            write!(l, " | {kind}")?;
            let (pv, len, page, psize) = layout::read_buf(meta, n, i);
            if i < sc.buffers() {
                write!(l, " len={len:x}")?;
            } else {
                let fd = pv as u32 as i32;
                write!(l, " fd=")?;
                self.fd(l, fd)?;
                write!(l, " off={:x} len={:x}", (pv >> 32) as u32, len as u32)?;
            }
            self.page(l, msg, page, psize)?;
            if i < sc.buffers() {
                write!(l, " at=+{:x}", pv & (layout::PAGE - 1))?;
                if len != 0 {
                    write!(l, " pv={}", pv_kind(pv, page))?;
                }
            }
            if kind.ends_with("in") {
                if let Some(data) = call.ins.get(input) {
                    write!(l, " d=")?;
                    self.data(l, msg, input, data)?;
                }
                input += 1;
            }
        }
        let tail = &meta[layout::fdlist_off(n).min(meta.len())..];
        if tail.iter().any(|&b| b != 0) {
            write!(l, " tail=#{:016x}", fnv(tail))?;
        }
        Ok(())
    }

    fn fd(&mut self, l: &mut Line, fd: i32) -> core::fmt::Result {
        if fd <= 0 {
            return write!(l, "{fd}");
        }
        let f = self.tok(Kind::Fd, u64::from(fd as u32));
        write!(l, "f{f}")
    }

    fn page(&mut self, l: &mut Line, msg: &Msg, addr: u64, size: u64) -> core::fmt::Result {
        if addr == 0 && size == 0 {
            return write!(l, " pg=-");
        }
        if addr >= msg.addr && addr - msg.addr < msg.size {
            return write!(l, " pg=p+{:x}/{size:x}", addr - msg.addr);
        }
        let a = self.tok(Kind::Addr, addr);
        write!(l, " pg=a{a}/{size:x}")
    }

    /// Input `k` of the call: the kernel requests field by field, other
    /// bytes as they are.
    fn data(&mut self, l: &mut Line, msg: &Msg, k: usize, b: &[u8]) -> core::fmt::Result {
        let sc = Scalars(msg.sc);
        match (msg.handle, sc.method(), k) {
            (INIT_HANDLE, m, 0) => self.request(l, m, b),
            (INIT_HANDLE, method::CREATE | method::CREATE_ATTR, 2) => {
                write!(l, "#{:016x}", fnv(b))
            }
            (INIT_HANDLE, method::MMAP | method::MEM_MAP, 1)
            | (INIT_HANDLE, method::CREATE_STATIC, 2)
            | (INIT_HANDLE, method::CREATE | method::CREATE_ATTR, 3) => self.pages(l, b),
            (UTILITIES_HANDLE, _, 0) => match CapsReq::decode(b) {
                Some(r) => write!(l, "{{count={:x}}}", r.count),
                None => self.bytes(l, b),
            },
            _ => self.bytes(l, b),
        }
    }

    /// The first input of a process-control method.
    fn request(&mut self, l: &mut Line, m: u32, b: &[u8]) -> core::fmt::Result {
        if b.len() > 32 {
            return self.bytes(l, b);
        }
        match m {
            method::ATTACH | method::RELEASE => self.client_req(l, b),
            method::CREATE | method::CREATE_ATTR => self.create_req(l, b),
            method::CREATE_STATIC => self.create_static_req(l, b),
            method::MMAP => self.mmap_req(l, b),
            method::MUNMAP => self.munmap_req(l, b),
            method::MEM_MAP => self.mem_map_req(l, b),
            method::MEM_UNMAP => self.mem_unmap_req(l, b),
            _ => self.bytes(l, b),
        }
    }

    fn client(&mut self, l: &mut Line, id: i32) -> core::fmt::Result {
        let c = self.tok(Kind::Client, u64::from(id as u32));
        write!(l, "c{c}")
    }

    fn client_req(&mut self, l: &mut Line, b: &[u8]) -> core::fmt::Result {
        let Some(r) = ClientReq::decode(b).filter(|_| b.len() == ClientReq::SIZE) else {
            return self.bytes(l, b);
        };
        l.write_str("{")?;
        self.client(l, r.client_id)?;
        l.write_str("}")
    }

    fn create_req(&mut self, l: &mut Line, b: &[u8]) -> core::fmt::Result {
        let Some(r) = CreateReq::decode(b).filter(|_| b.len() == CreateReq::SIZE) else {
            return self.bytes(l, b);
        };
        l.write_str("{")?;
        self.client(l, r.client_id)?;
        write!(
            l,
            " namelen={:x} filelen={:x} pageslen={:x} attrs={:x} siglen={:x}}}",
            r.namelen, r.filelen, r.pageslen, r.attrs, r.siglen
        )
    }

    fn create_static_req(&mut self, l: &mut Line, b: &[u8]) -> core::fmt::Result {
        let Some(r) = CreateStaticReq::decode(b).filter(|_| b.len() == CreateStaticReq::SIZE)
        else {
            return self.bytes(l, b);
        };
        l.write_str("{")?;
        self.client(l, r.client_id)?;
        write!(l, " namelen={:x} pageslen={:x}}}", r.namelen, r.pageslen)
    }

    /// MMAP: the tail padding is not shown (upstream leaves it
    /// uninitialised).
    fn mmap_req(&mut self, l: &mut Line, b: &[u8]) -> core::fmt::Result {
        let Some(r) = MmapReq::decode(b).filter(|_| b.len() == MmapReq::SIZE) else {
            return self.bytes(l, b);
        };
        l.write_str("{")?;
        self.client(l, r.client_id)?;
        write!(
            l,
            " flags={:x} vaddr={:x} num={:x}}}",
            r.flags, r.vaddr, r.num
        )
    }

    /// MUNMAP: the padding after the client id is not shown (upstream
    /// leaves it uninitialised).
    fn munmap_req(&mut self, l: &mut Line, b: &[u8]) -> core::fmt::Result {
        let Some(r) = MunmapReq::decode(b).filter(|_| b.len() == MunmapReq::SIZE) else {
            return self.bytes(l, b);
        };
        l.write_str("{")?;
        self.client(l, r.client_id)?;
        let v = self.tok(Kind::DspVa, r.vaddr);
        write!(l, " vaddr=v{v} size={:x}}}", r.size)
    }

    fn mem_map_req(&mut self, l: &mut Line, b: &[u8]) -> core::fmt::Result {
        let Some(r) = MemMapReq::decode(b).filter(|_| b.len() == MemMapReq::SIZE) else {
            return self.bytes(l, b);
        };
        l.write_str("{")?;
        self.client(l, r.client_id)?;
        l.write_str(" fd=")?;
        self.fd(l, r.fd)?;
        let u = self.tok(Kind::UserVa, r.vaddrin);
        write!(
            l,
            " offset={:x} flags={:x} vaddrin=u{u} num={:x} data_len={:x}}}",
            r.offset, r.flags, r.num, r.data_len
        )
    }

    fn mem_unmap_req(&mut self, l: &mut Line, b: &[u8]) -> core::fmt::Result {
        let Some(r) = MemUnmapReq::decode(b).filter(|_| b.len() == MemUnmapReq::SIZE) else {
            return self.bytes(l, b);
        };
        l.write_str("{")?;
        self.client(l, r.client_id)?;
        l.write_str(" fd=")?;
        self.fd(l, r.fd)?;
        let v = self.tok(Kind::DspVa, r.vaddrin);
        write!(l, " vaddrin=v{v} len={:x}}}", r.len)
    }

    /// Page entries handed over in a request (init memory, map pages).
    fn pages(&mut self, l: &mut Line, b: &[u8]) -> core::fmt::Result {
        if b.len() % PhyPage::SIZE != 0 {
            return self.bytes(l, b);
        }
        l.write_str("{")?;
        for (i, e) in b.chunks_exact(PhyPage::SIZE).enumerate() {
            let Some(p) = PhyPage::decode(e) else {
                return Err(core::fmt::Error);
            };
            let a = self.tok(Kind::Addr, p.addr);
            let sep = if i == 0 { "" } else { " " };
            write!(l, "{sep}a{a}/{:x}", p.size)?;
        }
        l.write_str("}")
    }

    /// Bytes as they are: 32-bit words (module handles as tokens) or hex
    /// up to [`SHOWN`] bytes, else length and hash.
    fn bytes(&mut self, l: &mut Line, b: &[u8]) -> core::fmt::Result {
        if b.len() > SHOWN {
            return write!(l, "#{:016x}", fnv(b));
        }
        if b.len() % 4 != 0 {
            l.write_str("x")?;
            for x in b {
                write!(l, "{x:02x}")?;
            }
            return Ok(());
        }
        l.write_str("w")?;
        for (i, w) in b.chunks_exact(4).enumerate() {
            let w = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            l.write_str(if i == 0 { "" } else { "." })?;
            if modules::is_module_handle(w) && self.known(Kind::Module, u64::from(w)) {
                let m = self.tok(Kind::Module, u64::from(w));
                write!(l, "m{m}")?;
            } else {
                write!(l, "{w:x}")?;
            }
        }
        Ok(())
    }

    fn known(&self, k: Kind, v: u64) -> bool {
        self.tokens
            .iter()
            .any(|&(kind, value)| kind == k && value == v)
    }
}

/// What a buffer's `pv` holds: the DSP address of its first byte, or
/// another address (the caller's or a kernel one) of which firmware uses
/// only the offset in the page.
fn pv_kind(pv: u64, page: u64) -> &'static str {
    if pv == layout::dsp_data_addr(pv, page) {
        "dsp"
    } else {
        "other"
    }
}

/// 64-bit FNV-1a of `b`.
fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
    })
}
