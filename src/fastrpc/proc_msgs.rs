// SPDX-License-Identifier: GPL-2.0

//! The messages of the kernel-only calls, byte for byte: process control
//! on handle 1 and the capability query on handle 2.
//!
//! One type per request and response, laid out like the structures the
//! upstream driver (`drivers/misc/fastrpc.c`) sends, C padding included as
//! explicit `pad` fields (always sent as zero, never checked). Everything
//! is little-endian; `SIZE` is the size of the C structure.
//!
//! ```text
//! handle 1 method   in                                    out
//! 0  ATTACH         ClientReq                             -
//! 1  RELEASE        ClientReq                             -
//! 4  MMAP           MmapReq, PhyPage                      MapRsp
//! 5  MUNMAP         MunmapReq                             -
//! 6  CREATE         CreateReq, name, shell, PhyPage       -
//! 7  CREATE_ATTR    as CREATE
//! 10 MEM_MAP        MemMapReq, PhyPage, (empty)           MapRsp
//! 11 MEM_UNMAP      MemUnmapReq                           -
//! handle 2 method 0 CapsReq                               u32[count]
//! ```
//!
//! Pure code (no kernel API), also built and tested on the host.

/// The process-control handle.
pub(crate) const INIT_HANDLE: u32 = 1;
/// The DSP utilities handle (capability query, method 0).
pub(crate) const UTILITIES_HANDLE: u32 = 2;

/// Method ids on [`INIT_HANDLE`].
pub(crate) mod method {
    /// Attach to the root PD.
    pub(crate) const ATTACH: u32 = 0;
    /// Release the process.
    pub(crate) const RELEASE: u32 = 1;
    /// Legacy map (heap pages).
    pub(crate) const MMAP: u32 = 4;
    /// Legacy unmap.
    pub(crate) const MUNMAP: u32 = 5;
    /// Create a dynamic user PD.
    pub(crate) const CREATE: u32 = 6;
    /// Create a dynamic user PD with attributes.
    pub(crate) const CREATE_ATTR: u32 = 7;
    /// Map a buffer.
    pub(crate) const MEM_MAP: u32 = 10;
    /// Unmap a buffer.
    pub(crate) const MEM_UNMAP: u32 = 11;
}

/// Method id of the capability query on [`UTILITIES_HANDLE`].
pub(crate) const CAPS_METHOD: u32 = 0;
/// Size of one attribute in the capability query's answer.
pub(crate) const ATTR_SIZE: usize = 4;

/// Writes fields in order.
struct Enc<const N: usize> {
    b: [u8; N],
    at: usize,
}

impl<const N: usize> Enc<N> {
    const fn new() -> Self {
        Self { b: [0; N], at: 0 }
    }

    fn put(mut self, v: &[u8]) -> Self {
        self.b[self.at..self.at + v.len()].copy_from_slice(v);
        self.at += v.len();
        self
    }

    fn done(self) -> [u8; N] {
        debug_assert_eq!(self.at, N);
        self.b
    }
}

/// Reads fields in order from a buffer known to be long enough.
struct Dec<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Dec<'a> {
    /// `None` if `b` is shorter than `size`.
    fn new(b: &'a [u8], size: usize) -> Option<Self> {
        Some(Self {
            b: b.get(..size)?,
            at: 0,
        })
    }

    fn u32(&mut self) -> u32 {
        let w = &self.b[self.at..self.at + 4];
        self.at += 4;
        u32::from_le_bytes([w[0], w[1], w[2], w[3]])
    }

    fn i32(&mut self) -> i32 {
        self.u32() as i32
    }

    fn u64(&mut self) -> u64 {
        let lo = u64::from(self.u32());
        lo | (u64::from(self.u32()) << 32)
    }
}

/// Checks at build time that a type has exactly the size of its C
/// structure (no implicit padding).
macro_rules! sized {
    ($t:ty) => {
        const _: () = assert!(core::mem::size_of::<$t>() == <$t>::SIZE);
    };
}

/// ATTACH and RELEASE: the client id alone (`int`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClientReq {
    pub(crate) client_id: i32,
}
sized!(ClientReq);

impl ClientReq {
    pub(crate) const SIZE: usize = 4;

    /// The wire bytes.
    pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
        self.client_id.to_le_bytes()
    }

    /// Parses a request; `None` if it is too short.
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b, Self::SIZE)?;
        Some(Self { client_id: d.i32() })
    }
}

/// CREATE and CREATE_ATTR: what follows in the other buffers.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CreateReq {
    pub(crate) client_id: i32,
    /// Length of the process name (second buffer).
    pub(crate) namelen: u32,
    /// Length of the shell image (third buffer).
    pub(crate) filelen: u32,
    /// Page entries of the init memory (fourth buffer).
    pub(crate) pageslen: u32,
    /// `QDA_PROC_ATTR_*`.
    pub(crate) attrs: u32,
    /// Signature length.
    pub(crate) siglen: u32,
}
sized!(CreateReq);

impl CreateReq {
    pub(crate) const SIZE: usize = 24;

    /// The wire bytes.
    pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
        Enc::new()
            .put(&self.client_id.to_le_bytes())
            .put(&self.namelen.to_le_bytes())
            .put(&self.filelen.to_le_bytes())
            .put(&self.pageslen.to_le_bytes())
            .put(&self.attrs.to_le_bytes())
            .put(&self.siglen.to_le_bytes())
            .done()
    }

    /// Parses a request; `None` if it is too short.
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b, Self::SIZE)?;
        Some(Self {
            client_id: d.i32(),
            namelen: d.u32(),
            filelen: d.u32(),
            pageslen: d.u32(),
            attrs: d.u32(),
            siglen: d.u32(),
        })
    }
}

/// A contiguous region the DSP maps (`struct fastrpc_phy_page`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PhyPage {
    /// DSP (SMMU) address, with the stream id.
    pub(crate) addr: u64,
    /// Size in bytes.
    pub(crate) size: u64,
}
sized!(PhyPage);

impl PhyPage {
    pub(crate) const SIZE: usize = 16;
    /// `num` of the map requests: the bytes of one page entry.
    pub(crate) const NUM: i32 = Self::SIZE as i32;

    /// The wire bytes.
    pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
        Enc::new()
            .put(&self.addr.to_le_bytes())
            .put(&self.size.to_le_bytes())
            .done()
    }

    /// Parses a page entry; `None` if it is too short.
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b, Self::SIZE)?;
        Some(Self {
            addr: d.u64(),
            size: d.u64(),
        })
    }
}

/// MMAP (legacy map of heap pages).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MmapReq {
    pub(crate) client_id: i32,
    /// `ADSP_MMAP_*`.
    pub(crate) flags: u32,
    /// Address asked for (0: any).
    pub(crate) vaddr: u64,
    /// Bytes of page entries ([`PhyPage::NUM`]).
    pub(crate) num: i32,
    /// Tail padding of the C structure.
    pub(crate) pad: u32,
}
sized!(MmapReq);

impl MmapReq {
    pub(crate) const SIZE: usize = 24;

    /// The wire bytes.
    pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
        Enc::new()
            .put(&self.client_id.to_le_bytes())
            .put(&self.flags.to_le_bytes())
            .put(&self.vaddr.to_le_bytes())
            .put(&self.num.to_le_bytes())
            .put(&self.pad.to_le_bytes())
            .done()
    }

    /// Parses a request; `None` if it is too short.
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b, Self::SIZE)?;
        Some(Self {
            client_id: d.i32(),
            flags: d.u32(),
            vaddr: d.u64(),
            num: d.i32(),
            pad: d.u32(),
        })
    }
}

/// MUNMAP (legacy unmap).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MunmapReq {
    pub(crate) client_id: i32,
    /// Padding before the 8-byte aligned `vaddr`.
    pub(crate) pad: u32,
    /// DSP address of the mapping.
    pub(crate) vaddr: u64,
    /// Size of the mapping.
    pub(crate) size: u64,
}
sized!(MunmapReq);

impl MunmapReq {
    pub(crate) const SIZE: usize = 24;

    /// The wire bytes.
    pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
        Enc::new()
            .put(&self.client_id.to_le_bytes())
            .put(&self.pad.to_le_bytes())
            .put(&self.vaddr.to_le_bytes())
            .put(&self.size.to_le_bytes())
            .done()
    }

    /// Parses a request; `None` if it is too short.
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b, Self::SIZE)?;
        Some(Self {
            client_id: d.i32(),
            pad: d.u32(),
            vaddr: d.u64(),
            size: d.u64(),
        })
    }
}

/// MEM_MAP (map a buffer).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MemMapReq {
    pub(crate) client_id: i32,
    /// The caller's buffer handle.
    pub(crate) fd: i32,
    /// Offset into the buffer.
    pub(crate) offset: i32,
    /// Mapping flags.
    pub(crate) flags: u32,
    /// The caller's address of the buffer.
    pub(crate) vaddrin: u64,
    /// Bytes of page entries ([`PhyPage::NUM`]).
    pub(crate) num: i32,
    /// Bytes of extra data (third buffer).
    pub(crate) data_len: i32,
}
sized!(MemMapReq);

impl MemMapReq {
    pub(crate) const SIZE: usize = 32;

    /// The wire bytes.
    pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
        Enc::new()
            .put(&self.client_id.to_le_bytes())
            .put(&self.fd.to_le_bytes())
            .put(&self.offset.to_le_bytes())
            .put(&self.flags.to_le_bytes())
            .put(&self.vaddrin.to_le_bytes())
            .put(&self.num.to_le_bytes())
            .put(&self.data_len.to_le_bytes())
            .done()
    }

    /// Parses a request; `None` if it is too short.
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b, Self::SIZE)?;
        Some(Self {
            client_id: d.i32(),
            fd: d.i32(),
            offset: d.i32(),
            flags: d.u32(),
            vaddrin: d.u64(),
            num: d.i32(),
            data_len: d.i32(),
        })
    }
}

/// MEM_UNMAP (unmap a buffer).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MemUnmapReq {
    pub(crate) client_id: i32,
    /// The caller's buffer handle.
    pub(crate) fd: i32,
    /// DSP address of the mapping.
    pub(crate) vaddrin: u64,
    /// Length of the mapping.
    pub(crate) len: u64,
}
sized!(MemUnmapReq);

impl MemUnmapReq {
    pub(crate) const SIZE: usize = 24;

    /// The wire bytes.
    pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
        Enc::new()
            .put(&self.client_id.to_le_bytes())
            .put(&self.fd.to_le_bytes())
            .put(&self.vaddrin.to_le_bytes())
            .put(&self.len.to_le_bytes())
            .done()
    }

    /// Parses a request; `None` if it is too short.
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b, Self::SIZE)?;
        Some(Self {
            client_id: d.i32(),
            fd: d.i32(),
            vaddrin: d.u64(),
            len: d.u64(),
        })
    }
}

/// The answer to MMAP and MEM_MAP.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MapRsp {
    /// DSP address of the new mapping.
    pub(crate) vaddr: u64,
}
sized!(MapRsp);

impl MapRsp {
    pub(crate) const SIZE: usize = 8;

    /// The wire bytes.
    #[allow(dead_code)] // The encoding side: used by the simulated DSP.
    pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
        self.vaddr.to_le_bytes()
    }

    /// Parses an answer; `None` if it is too short.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b, Self::SIZE)?;
        Some(Self { vaddr: d.u64() })
    }
}

/// The capability query: how many attributes to return.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CapsReq {
    pub(crate) count: u32,
}
sized!(CapsReq);

impl CapsReq {
    pub(crate) const SIZE: usize = 4;

    /// The wire bytes.
    pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
        self.count.to_le_bytes()
    }

    /// Parses a request; `None` if it is too short.
    #[allow(dead_code)] // The decoding side: used by the simulated DSP.
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let mut d = Dec::new(b, Self::SIZE)?;
        Some(Self { count: d.u32() })
    }

    /// Bytes of the answer (`u32[count]`).
    pub(crate) const fn answer_len(&self) -> usize {
        self.count as usize * ATTR_SIZE
    }
}

/// The attributes in the capability query's answer, in order (a trailing
/// partial word is ignored).
pub(crate) fn caps_attrs(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.chunks_exact(ATTR_SIZE)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}
