// SPDX-License-Identifier: GPL-2.0

//! The invoke payload: metadata layout and placement of inline buffers.
//!
//! ```text
//! 0            remote args   16 B each  {u64 pv; u64 len} | {s32 fd; u32 offset; u32 len}
//! 16 n         buffer list    8 B each  {u32 num; u32 pgidx}
//! 24 n         page table    16 B each  {u64 addr; u64 size}
//! 40 n         fd list       16 x u64   (written by the DSP)
//! 40 n + 128   CRC list      64 x u32
//! 40 n + 384   poll word     u32
//! 40 n + 388   inline buffers, each non-overlapping one 128-byte aligned
//! ```
//!
//! Where the inline buffers go is planned by [`super::plan`]. The DSP
//! finds a buffer at `pages[i].addr + (pv & 0xfff)`.
//!
//! Pure code (no kernel API), also built and tested on the host.

use super::{
    codec::{
        wire_struct,
        Dec,
        Enc, //
    },
    proc_msgs::PhyPage,
};

/// Alignment of inline buffers.
pub(crate) const ALIGN: u64 = 128;
/// Page size of the page table.
pub(crate) const PAGE: u64 = 4096;
/// Entries of the fd list.
pub(crate) const FDLIST_LEN: usize = 16;
/// Entries of the CRC list.
pub(crate) const CRCLIST_LEN: usize = 64;

/// Metadata bytes for `n` arguments.
pub(crate) const fn metalen(n: usize) -> usize {
    40 * n + FDLIST_LEN * 8 + CRCLIST_LEN * 4 + 4
}

/// Offset of the remote arg of argument `i` (of `n`).
pub(crate) const fn rpra_off(_n: usize, i: usize) -> usize {
    16 * i
}
/// Offset of the buffer-list entry of argument `i`.
pub(crate) const fn list_off(n: usize, i: usize) -> usize {
    16 * n + 8 * i
}
/// Offset of the page-table entry of argument `i`.
pub(crate) const fn page_off(n: usize, i: usize) -> usize {
    24 * n + 16 * i
}
/// Offset of the fd list.
#[allow(dead_code)] // The decoding side: used by the simulated DSP.
pub(crate) const fn fdlist_off(n: usize) -> usize {
    40 * n
}
/// Offset of the poll word.
#[allow(dead_code)] // The decoding side: used by the simulated DSP.
pub(crate) const fn poll_off(n: usize) -> usize {
    40 * n + FDLIST_LEN * 8 + CRCLIST_LEN * 4
}

/// Rounds `v` up to a multiple of `a`; `None` if `a` is no power of two
/// or the result does not fit in 64 bits.
pub(crate) const fn align_up(v: u64, a: u64) -> Option<u64> {
    if !a.is_power_of_two() {
        return None;
    }
    v.checked_next_multiple_of(a)
}

/// Bytes of whole pages spanned by `[addr, addr + len)` (0 if empty);
/// `None` if the range passes 2^64 - 1 or its span is 2^64 bytes.
pub(crate) const fn page_span(addr: u64, len: u64) -> Option<u64> {
    if len == 0 {
        return Some(0);
    }
    let Some(last) = addr.checked_add(len - 1) else {
        return None;
    };
    (last / PAGE - addr / PAGE + 1).checked_mul(PAGE)
}

/// The page entry `(page address, span)` of `len` bytes at DSP address
/// `pv` (`(0, 0)` if empty); `None` where [`page_span`] fails.
pub(crate) const fn page_entry(pv: u64, len: u64) -> Option<(u64, u64)> {
    if len == 0 {
        return Some((0, 0));
    }
    match page_span(pv, len) {
        Some(span) => Some((pv & !(PAGE - 1), span)),
        None => None,
    }
}

/// Writes `v` little-endian at `off`.
fn put(buf: &mut [u8], off: usize, v: &[u8]) {
    buf[off..off + v.len()].copy_from_slice(v);
}

wire_struct! {
    /// The remote arg of a buffer (`struct fastrpc_remote_buf`).
    RemoteBuf, 16 {
        /// Where the caller's bytes are (the DSP uses only `pv & 0xfff`).
        pv: u64,
        /// Length in bytes.
        len: u64,
    }
}

wire_struct! {
    /// The remote arg of a handle (`struct fastrpc_remote_dmahandle`), in
    /// the first 12 bytes of its 16-byte slot.
    RemoteDmaHandle, 12 {
        fd: i32,
        offset: u32,
        len: u32,
    }
}

wire_struct! {
    /// A buffer-list entry (`struct fastrpc_invoke_buf`): how many page
    /// entries the argument has (1 if it has bytes) and the first.
    InvokeBuf, 8 {
        num: u32,
        pgidx: u32,
    }
}

/// Fills the list and page entries of argument `i` (of `n`).
fn write_pages(meta: &mut [u8], n: usize, i: usize, len: u64, page: (u64, u64)) {
    let list = InvokeBuf {
        num: u32::from(len != 0),
        pgidx: i as u32,
    };
    put(meta, list_off(n, i), &list.encode());
    let page = PhyPage {
        addr: page.0,
        size: page.1,
    };
    put(meta, page_off(n, i), &page.encode());
}

/// Fills the metadata of buffer argument `i` (of `n`): remote arg
/// `{pv, len}`, list entry `{len != 0, i}` and page entry `{addr, size}`.
pub(crate) fn write_buf(meta: &mut [u8], n: usize, i: usize, pv: u64, len: u64, page: (u64, u64)) {
    put(meta, rpra_off(n, i), &RemoteBuf { pv, len }.encode());
    write_pages(meta, n, i, len, page);
}

/// Fills the metadata of handle argument `i`: `{fd, offset, len}`, list
/// entry `{len != 0, i}` (as drivers/misc/fastrpc.c) and its page entry.
pub(crate) fn write_handle(
    meta: &mut [u8],
    n: usize,
    i: usize,
    fd: i32,
    offset: u32,
    len: u32,
    page: (u64, u64),
) {
    let arg = RemoteDmaHandle { fd, offset, len };
    put(meta, rpra_off(n, i), &arg.encode());
    write_pages(meta, n, i, u64::from(len), page);
}

/// Reads a little-endian `u64` at `off`.
pub(crate) fn get_u64(buf: &[u8], off: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[off..off + 8]);
    u64::from_le_bytes(b)
}

/// A buffer argument as the DSP reads it: `(pv, len, page addr, page size)`.
#[allow(dead_code)] // The decoding side: used by the simulated DSP.
pub(crate) fn read_buf(meta: &[u8], n: usize, i: usize) -> (u64, u64, u64, u64) {
    (
        get_u64(meta, rpra_off(n, i)),
        get_u64(meta, rpra_off(n, i) + 8),
        get_u64(meta, page_off(n, i)),
        get_u64(meta, page_off(n, i) + 8),
    )
}

/// The DSP address of buffer argument `i`'s first byte, from its metadata.
#[allow(dead_code)] // The decoding side: used by the simulated DSP.
pub(crate) const fn dsp_data_addr(pv: u64, page_addr: u64) -> u64 {
    (page_addr & !(PAGE - 1)) + (pv & (PAGE - 1))
}
