// SPDX-License-Identifier: GPL-2.0

//! One remote call as the DSP sees it: its arguments read through the SMMU
//! where the metadata says ([`Call::read`]), and its outputs written back
//! there ([`write_outputs`]), now or later: a call whose reply firmware
//! holds (a listener's `next2`, a module open waiting for the apps side to
//! serve the skel file) becomes a [`Held`] call, completed by an event.
//!
//! The metadata is checked as firmware checks it before running anything
//! (refused with `AEE_EBADPARM`): argument `i` uses page entry `i`
//! (`pgidx == i`) with `num` 1 if it has bytes and 0 if not; page entries
//! are whole pages; a page entry reaching into the payload lies inside
//! it, so metadata and inline data stay within `[addr, addr + size)`.

use kernel::prelude::*;

use crate::{
    dsp::skel::{
        Answer,
        BADPARM, //
    },
    hw::smmu::Smmu,
    layout,
    scalars::Scalars,
    wire::{
        Msg,
        Rsp, //
    }, //
};

/// Largest input buffer the simulator copies.
const MAX_IN: u64 = 64 << 20;

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

/// A decoded request.
pub(crate) struct Call {
    pub(crate) ctx: u64,
    pub(crate) client_id: i32,
    pub(crate) handle: u32,
    pub(crate) sc: Scalars,
    /// The payload's metadata (remote arguments, page entries), as read.
    meta: KVec<u8>,
    /// Input buffers, then input handles' bytes.
    pub(crate) ins: KVec<KVec<u8>>,
    /// Lengths of the output buffers.
    pub(crate) out_lens: KVec<u64>,
}

/// A call whose reply is held: what is needed to write its outputs and
/// answer it later.
pub(crate) struct Held {
    ctx: u64,
    sc: Scalars,
    meta: KVec<u8>,
    /// Lengths of the output buffers.
    pub(crate) out_lens: KVec<u64>,
}

impl Call {
    /// Reads `msg`'s arguments through `smmu`, each checked against its
    /// page entry.
    pub(crate) fn read(smmu: &Smmu, msg: &Msg) -> Answer<Self> {
        let sc = Scalars(msg.sc);
        let n = sc.len();
        // Every call carries its metadata, even without arguments (the fd
        // list, CRC list and poll word), in a payload of whole pages.
        let meta_len = layout::metalen(n);
        if layout::align_up(meta_len as u64, layout::PAGE).is_none_or(|m| msg.size < m) {
            return Err(EFAULT.into());
        }
        let payload = (msg.addr, msg.addr.checked_add(msg.size).ok_or(BADPARM)?);
        if msg.addr % layout::PAGE != 0 || msg.size % layout::PAGE != 0 {
            return Err(BADPARM);
        }
        let mut meta = KVec::from_elem(0u8, meta_len, GFP_KERNEL)?;
        smmu.read(msg.addr, &mut meta)?;
        for i in 0..n {
            check_entry(&meta, sc, i, payload)?;
        }
        let mut ins = KVec::new();
        for i in 0..sc.inbufs() {
            let (addr, len) = buf_span(&meta, n, i)?;
            if len > MAX_IN {
                return Err(EFAULT.into());
            }
            let mut b = KVec::from_elem(0u8, len as usize, GFP_KERNEL)?;
            smmu.read(addr, &mut b)?;
            ins.push(b, GFP_KERNEL)?;
        }
        // Input handles: `{fd, offset, len}` within their page entry.
        for i in sc.buffers()..sc.buffers() + sc.in_handles() {
            let offset = u64::from(u32_at(&meta, layout::rpra_off(n, i) + 4).ok_or(EINVAL)?);
            let len = u64::from(u32_at(&meta, layout::rpra_off(n, i) + 8).ok_or(EINVAL)?);
            let (addr, size) = (
                layout::get_u64(&meta, layout::page_off(n, i)),
                layout::get_u64(&meta, layout::page_off(n, i) + 8),
            );
            if offset + len > size {
                return Err(EFAULT.into());
            }
            let mut b = KVec::from_elem(0u8, len as usize, GFP_KERNEL)?;
            smmu.read(addr + offset, &mut b)?;
            ins.push(b, GFP_KERNEL)?;
        }
        let mut out_lens = KVec::new();
        for i in sc.inbufs()..sc.buffers() {
            out_lens.push(layout::read_buf(&meta, n, i).1, GFP_KERNEL)?;
        }
        Ok(Self {
            ctx: msg.ctx,
            client_id: msg.client_id,
            handle: msg.handle,
            sc,
            meta,
            ins,
            out_lens,
        })
    }

    /// The payload's metadata as read.
    pub(crate) fn meta(&self) -> &[u8] {
        &self.meta
    }

    /// Writes `outs` into this call's output buffers.
    pub(crate) fn write(&self, smmu: &Smmu, outs: &[KVec<u8>]) -> Result {
        write_outputs(smmu, self.sc, &self.meta, outs)
    }

    /// What is needed to answer this call later.
    pub(crate) fn hold(&self) -> Result<Held> {
        let mut meta = KVec::new();
        meta.extend_from_slice(&self.meta, GFP_KERNEL)?;
        let mut out_lens = KVec::new();
        out_lens.extend_from_slice(&self.out_lens, GFP_KERNEL)?;
        Ok(Held {
            ctx: self.ctx,
            sc: self.sc,
            meta,
            out_lens,
        })
    }
}

impl Held {
    /// Writes `outs` and builds the reply carrying `retval` (`EFAULT` if
    /// the outputs are no longer reachable).
    pub(crate) fn complete(&self, smmu: &Smmu, retval: i32, outs: &[KVec<u8>]) -> Rsp {
        let retval = match write_outputs(smmu, self.sc, &self.meta, outs) {
            Ok(()) => retval,
            Err(e) => e.to_errno(),
        };
        Rsp {
            ctx: self.ctx,
            retval,
        }
    }
}

/// Checks argument `i`'s list entry (`num` 1 if it has bytes, else 0;
/// `pgidx == i`) and page entry (whole pages; inside the payload
/// `[payload.0, payload.1)` if it reaches into it).
fn check_entry(meta: &[u8], sc: Scalars, i: usize, payload: (u64, u64)) -> Answer<()> {
    let n = sc.len();
    let len = if i < sc.buffers() {
        layout::get_u64(meta, layout::rpra_off(n, i) + 8)
    } else {
        u64::from(u32_at(meta, layout::rpra_off(n, i) + 8).ok_or(BADPARM)?)
    };
    let num = u32_at(meta, layout::list_off(n, i)).ok_or(BADPARM)?;
    let pgidx = u32_at(meta, layout::list_off(n, i) + 4).ok_or(BADPARM)?;
    if pgidx as usize != i || num != u32::from(len != 0) {
        return Err(BADPARM);
    }
    let addr = layout::get_u64(meta, layout::page_off(n, i));
    let size = layout::get_u64(meta, layout::page_off(n, i) + 8);
    if addr % layout::PAGE != 0 || size % layout::PAGE != 0 {
        return Err(BADPARM);
    }
    let end = addr.checked_add(size).ok_or(BADPARM)?;
    let touches = size != 0 && addr < payload.1 && end > payload.0;
    if touches && (addr < payload.0 || end > payload.1) {
        return Err(BADPARM);
    }
    Ok(())
}

/// DSP address and length of buffer `i`, checked against its page entry.
fn buf_span(meta: &[u8], n: usize, i: usize) -> Result<(u64, u64)> {
    let (pv, len, page, psize) = layout::read_buf(meta, n, i);
    let addr = layout::dsp_data_addr(pv, page);
    if addr.checked_add(len).is_none_or(|e| e > page + psize) {
        return Err(EFAULT);
    }
    Ok((addr, len))
}

/// Writes `outs[k]` (at most the buffer's length) into output buffer `k`.
fn write_outputs(smmu: &Smmu, sc: Scalars, meta: &[u8], outs: &[KVec<u8>]) -> Result {
    let n = sc.len();
    for (k, i) in (sc.inbufs()..sc.buffers()).enumerate() {
        let (addr, len) = buf_span(meta, n, i)?;
        if let Some(data) = outs.get(k) {
            let m = data.len().min(len as usize);
            smmu.write(addr, &data[..m])?;
        }
    }
    Ok(())
}
