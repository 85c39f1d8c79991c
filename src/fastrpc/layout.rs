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
//! Inline (copied) buffers that overlap in the caller's memory overlap in
//! the payload too: they are sorted by start (then longest first), a
//! buffer inside an earlier one adds no bytes and a partly overlapping one
//! only its tail, and its `pv` points back into the earlier data. The DSP
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

/// Rounds `v` up to a multiple of `a` (a power of two).
pub(crate) const fn align_up(v: u64, a: u64) -> u64 {
    (v + a - 1) & !(a - 1)
}

/// Bytes of whole pages spanned by `[addr, addr + len)` (0 if empty).
pub(crate) const fn page_span(addr: u64, len: u64) -> u64 {
    if len == 0 {
        return 0;
    }
    ((addr + len - 1) / PAGE - addr / PAGE + 1) * PAGE
}

/// Where an inline buffer's bytes go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Overlap {
    /// Start of the part this buffer adds (0 with `mend` if none).
    pub(crate) mstart: u64,
    /// End of that part.
    pub(crate) mend: u64,
    /// How far the buffer starts before the part it adds.
    pub(crate) offset: u64,
}

/// Computes the overlaps of the caller's buffers `[start, end)` (`ranges`),
/// considering only those with `inline[i]`. `order` receives the argument
/// indices in placement order; `out[i]` the overlap of argument `i`.
pub(crate) fn overlaps(
    ranges: &[(u64, u64)],
    inline: &[bool],
    order: &mut [usize],
    out: &mut [Overlap],
) {
    let n = ranges.len();
    for (i, o) in order.iter_mut().enumerate().take(n) {
        *o = i;
    }
    order[..n].sort_unstable_by(|&a, &b| {
        let (ra, rb) = (ranges[a], ranges[b]);
        ra.0.cmp(&rb.0).then(rb.1.cmp(&ra.1)).then(a.cmp(&b))
    });
    let mut max_end = 0u64;
    let mut any = false;
    for &i in &order[..n] {
        out[i] = Overlap::default();
        if !inline[i] {
            continue;
        }
        let (start, end) = ranges[i];
        if any && start < max_end {
            if end > max_end {
                out[i] = Overlap {
                    mstart: max_end,
                    mend: end,
                    offset: max_end - start,
                };
                max_end = end;
            } else {
                out[i] = Overlap {
                    mstart: 0,
                    mend: 0,
                    offset: 0,
                };
                // Fully inside: points back by its distance to the end of
                // the placed data.
                out[i].offset = max_end - start;
            }
        } else {
            out[i] = Overlap {
                mstart: start,
                mend: end,
                offset: 0,
            };
            max_end = end;
            any = true;
        }
    }
}

/// Places the inline buffers after `n`'s metadata: `pos[i]` is where
/// argument `i` starts in the payload (for inline ones); returns the
/// payload size, or `None` if it does not fit in 64 bits (lengths come
/// from userspace: the caller rejects sizes above its own limit).
pub(crate) fn place(
    n: usize,
    lens: &[u64],
    inline: &[bool],
    order: &[usize],
    ov: &[Overlap],
    pos: &mut [u64],
) -> Option<u64> {
    let mut cursor = metalen(n) as u64;
    for &i in &order[..lens.len()] {
        pos[i] = 0;
        if !inline[i] || lens[i] == 0 {
            continue;
        }
        if ov[i].offset == 0 {
            cursor = cursor.checked_next_multiple_of(ALIGN)?;
        }
        pos[i] = cursor.checked_sub(ov[i].offset)?;
        cursor = cursor.checked_add(ov[i].mend.checked_sub(ov[i].mstart)?)?;
    }
    Some(cursor)
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
