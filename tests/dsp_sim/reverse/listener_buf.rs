// SPDX-License-Identifier: GPL-2.0

//! The packed buffers of a reverse call (`inc/listener_buf.h` of the
//! FastRPC library): the DSP packs a request's inputs as
//! `{u32 len, pad to 8 if len > 0, data}` each, then the output lengths as
//! bare `u32`s ([`pack_request`]); the apps side answers with
//! `{u32 len, pad to 8 if len > 0, data}` per output, each length equal to
//! the one asked for ([`unpack_response`]). Alignment counts from the start
//! of the buffer.

use kernel::prelude::*;

/// Pads `b` to a multiple of 8.
fn align8(b: &mut KVec<u8>) -> Result {
    while b.len() % 8 != 0 {
        b.push(0, GFP_KERNEL)?;
    }
    Ok(())
}

/// Packs a request with inputs `ins` and outputs of lengths `out_lens`.
pub(crate) fn pack_request(ins: &[&[u8]], out_lens: &[u32]) -> Result<KVec<u8>> {
    let mut b = KVec::new();
    for i in ins {
        b.extend_from_slice(&(i.len() as u32).to_le_bytes(), GFP_KERNEL)?;
        if !i.is_empty() {
            align8(&mut b)?;
            b.extend_from_slice(i, GFP_KERNEL)?;
        }
    }
    for l in out_lens {
        b.extend_from_slice(&l.to_le_bytes(), GFP_KERNEL)?;
    }
    Ok(b)
}

/// Unpacks the apps side's answer to a request whose outputs have lengths
/// `out_lens`; `None` if it is short or a length differs (firmware's
/// `unpack_out_bufs` check).
pub(crate) fn unpack_response(b: &[u8], out_lens: &[u32]) -> Option<KVec<KVec<u8>>> {
    let mut outs = KVec::new();
    let mut at = 0usize;
    for &want in out_lens {
        let len = u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?);
        at += 4;
        if len != want {
            return None;
        }
        let mut data = KVec::new();
        if len > 0 {
            at = at.next_multiple_of(8);
            data.extend_from_slice(b.get(at..at + len as usize)?, GFP_KERNEL)
                .ok()?;
            at += len as usize;
        }
        outs.push(data, GFP_KERNEL).ok()?;
    }
    Some(outs)
}
