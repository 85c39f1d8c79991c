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
//! 8  CREATE_STATIC  CreateStaticReq, name, PhyPage        -
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
    /// Start a static PD (e.g. the audio PD) on the remote heap.
    pub(crate) const CREATE_STATIC: u32 = 8;
    /// Map a buffer.
    pub(crate) const MEM_MAP: u32 = 10;
    /// Unmap a buffer.
    pub(crate) const MEM_UNMAP: u32 = 11;
}

/// Method id of the capability query on [`UTILITIES_HANDLE`].
pub(crate) const CAPS_METHOD: u32 = 0;
/// Size of one attribute in the capability query's answer.
pub(crate) const ATTR_SIZE: usize = 4;

use super::codec::{
    wire_struct,
    Dec,
    Enc, //
};

wire_struct! {
    /// ATTACH and RELEASE: the client id alone (`int`).
    ClientReq, 4 {
        client_id: i32,
    }
}

wire_struct! {
    /// CREATE_STATIC: what follows in the other buffers.
    CreateStaticReq, 12 {
        client_id: i32,
        /// Length of the static PD's name (second buffer).
        namelen: u32,
        /// Page entries of the remote heap (third buffer): 1 with the
        /// first create on a channel, else 0 (the page is then zero).
        pageslen: u32,
    }
}

wire_struct! {
    /// CREATE and CREATE_ATTR: what follows in the other buffers.
    CreateReq, 24 {
        client_id: i32,
        /// Length of the process name (second buffer).
        namelen: u32,
        /// Length of the shell image (third buffer).
        filelen: u32,
        /// Page entries of the init memory (fourth buffer).
        pageslen: u32,
        /// `QDA_PROC_ATTR_*`.
        attrs: u32,
        /// Signature length.
        siglen: u32,
    }
}

wire_struct! {
    /// A contiguous region the DSP maps (`struct fastrpc_phy_page`).
    PhyPage, 16 {
        /// DSP (SMMU) address, with the stream id.
        addr: u64,
        /// Size in bytes.
        size: u64,
    }
}

impl PhyPage {
    /// `num` of the map requests: the bytes of one page entry.
    pub(crate) const NUM: i32 = Self::SIZE as i32;
}

wire_struct! {
    /// MMAP (legacy map of heap pages).
    MmapReq, 24 {
        client_id: i32,
        /// `ADSP_MMAP_*`.
        flags: u32,
        /// Address asked for (0: any).
        vaddr: u64,
        /// Bytes of page entries ([`PhyPage::NUM`]).
        num: i32,
        /// Tail padding of the C structure.
        pad: u32,
    }
}

wire_struct! {
    /// MUNMAP (legacy unmap).
    MunmapReq, 24 {
        client_id: i32,
        /// Padding before the 8-byte aligned `vaddr`.
        pad: u32,
        /// DSP address of the mapping.
        vaddr: u64,
        /// Size of the mapping.
        size: u64,
    }
}

wire_struct! {
    /// MEM_MAP (map a buffer).
    MemMapReq, 32 {
        client_id: i32,
        /// The caller's buffer reference.
        fd: i32,
        /// Offset into the buffer.
        offset: i32,
        /// Mapping flags.
        flags: u32,
        /// The caller's address of the buffer.
        vaddrin: u64,
        /// Bytes of page entries ([`PhyPage::NUM`]).
        num: i32,
        /// Bytes of extra data (third buffer).
        data_len: i32,
    }
}

wire_struct! {
    /// MEM_UNMAP (unmap a buffer).
    MemUnmapReq, 24 {
        client_id: i32,
        /// The caller's buffer reference.
        fd: i32,
        /// DSP address of the mapping.
        vaddrin: u64,
        /// Length of the mapping.
        len: u64,
    }
}

wire_struct! {
    /// The answer to MMAP and MEM_MAP.
    MapRsp, 8 {
        /// DSP address of the new mapping.
        vaddr: u64,
    }
}

wire_struct! {
    /// The capability query: how many attributes to return.
    CapsReq, 4 {
        count: u32,
    }
}

impl CapsReq {
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
