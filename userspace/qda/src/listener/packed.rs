//! The packed buffer format of `next2`: how the DSP hands a reverse call's
//! arguments to the listener and how the listener hands back the outputs.
//!
//! A request lists, for each input buffer, a `u32` length (no alignment
//! before it), then, if the length is not 0, padding to a multiple of 8
//! (counted from the start of the area) and the bytes; then one `u32`
//! length per output buffer, back to back. A response lists, for each
//! output buffer, its `u32` length, then, if not 0, padding to 8 and the
//! bytes. All integers are little-endian.

use super::aee;

/// Rounds `n` up to a multiple of 8.
const fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// A reverse call's arguments, as unpacked from a request area.
#[derive(Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The input buffers, in order.
    pub ins: Vec<&'a [u8]>,
    /// The lengths the DSP expects for each output buffer.
    pub out_lens: Vec<u32>,
}

/// Reads the `u32` at `*pos` and moves past it.
fn take_u32(area: &[u8], pos: &mut usize) -> Option<u32> {
    let b = area.get(*pos..pos.checked_add(4)?)?;
    *pos += 4;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// Unpacks `ins` input buffers and `outs` output lengths from `area`.
///
/// An area too short for what it announces gives `AEE_EBADPARM`.
pub fn unpack_request(area: &[u8], ins: usize, outs: usize) -> Result<Request<'_>, i32> {
    let mut pos = 0;
    let mut req = Request {
        ins: Vec::with_capacity(ins),
        out_lens: Vec::with_capacity(outs),
    };
    for _ in 0..ins {
        let len = take_u32(area, &mut pos).ok_or(aee::EBADPARM)? as usize;
        if len == 0 {
            req.ins.push(&[]);
            continue;
        }
        pos = align8(pos);
        let end = pos.checked_add(len).ok_or(aee::EBADPARM)?;
        req.ins.push(area.get(pos..end).ok_or(aee::EBADPARM)?);
        pos = end;
    }
    for _ in 0..outs {
        req.out_lens
            .push(take_u32(area, &mut pos).ok_or(aee::EBADPARM)?);
    }
    Ok(req)
}

/// Bytes a response holding output buffers of `lens` takes, or `None` if
/// that does not fit the library's `int` arithmetic (`2 * len` must not
/// overflow).
pub fn response_len(lens: &[u32]) -> Option<usize> {
    let mut n: usize = 0;
    for &len in lens {
        n = n.checked_add(4)?;
        if len != 0 {
            n = align8(n).checked_add(len as usize)?;
        }
    }
    (n <= (i32::MAX / 2) as usize).then_some(n)
}

/// Packs the output buffers `outs` into a response.
pub fn pack_response(outs: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::new();
    for b in outs {
        v.extend_from_slice(&(b.len() as u32).to_le_bytes());
        if !b.is_empty() {
            v.resize(align8(v.len()), 0);
            v.extend_from_slice(b);
        }
    }
    v
}

/// The DSP's halves of the format, to test the listener's against.
#[cfg(test)]
pub mod dsp_side {
    use super::*;

    /// Packs a request as the DSP does.
    pub fn pack_request(ins: &[&[u8]], out_lens: &[u32]) -> Vec<u8> {
        let mut v = Vec::new();
        for b in ins {
            v.extend_from_slice(&(b.len() as u32).to_le_bytes());
            if !b.is_empty() {
                v.resize(align8(v.len()), 0);
                v.extend_from_slice(b);
            }
        }
        for l in out_lens {
            v.extend_from_slice(&l.to_le_bytes());
        }
        v
    }

    /// Unpacks a response, checking each length against what was asked.
    pub fn unpack_response(area: &[u8], out_lens: &[u32]) -> Option<Vec<Vec<u8>>> {
        let mut pos = 0;
        let mut v = Vec::new();
        for &want in out_lens {
            let len = take_u32(area, &mut pos)?;
            if len != want {
                return None;
            }
            if len != 0 {
                pos = align8(pos);
                v.push(area.get(pos..pos + len as usize)?.to_vec());
                pos += len as usize;
            } else {
                v.push(Vec::new());
            }
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::{dsp_side::*, *};

    /// The worked example of the reference: the DSP opens "apps_std" with a
    /// 256-byte dlerror buffer.
    #[test]
    fn open_of_apps_std_has_the_documented_layout() {
        let prim = [9u32.to_le_bytes(), 256u32.to_le_bytes()].concat();
        let area = pack_request(&[&prim, b"apps_std\0"], &[8, 256]);
        assert_eq!(area.len(), 41);
        assert_eq!(&area[0..4], &8u32.to_le_bytes());
        assert_eq!(&area[8..16], &prim[..]);
        assert_eq!(&area[16..20], &9u32.to_le_bytes());
        assert_eq!(&area[24..33], b"apps_std\0");
        // Output lengths follow the odd-length string unaligned.
        assert_eq!(&area[33..37], &8u32.to_le_bytes());
        assert_eq!(&area[37..41], &256u32.to_le_bytes());

        let req = unpack_request(&area, 2, 2).unwrap();
        assert_eq!(req.ins, vec![&prim[..], b"apps_std\0"]);
        assert_eq!(req.out_lens, vec![8, 256]);

        assert_eq!(response_len(&req.out_lens), Some(280));
        let mut outs = vec![vec![0u8; 8], vec![0u8; 256]];
        outs[0][0] = 0x42;
        outs[1][..5].copy_from_slice(b"hello");
        let resp = pack_response(&outs);
        assert_eq!(resp.len(), 280);
        assert_eq!(&resp[0..4], &8u32.to_le_bytes());
        assert_eq!(resp[8], 0x42);
        assert_eq!(&resp[16..20], &256u32.to_le_bytes());
        assert_eq!(&resp[24..29], b"hello");
        assert_eq!(unpack_response(&resp, &[8, 256]).unwrap(), outs);
    }

    #[test]
    fn empty_buffers_take_only_their_length() {
        let area = pack_request(&[b"", b"abc", b""], &[0, 3]);
        // 4 (len 0) + 4 (len 3) + pad to 8 (none) + 3 + 4 (len 0, unaligned)
        // + 4 + 4.
        assert_eq!(area.len(), 4 + 4 + 3 + 4 + 8);
        let req = unpack_request(&area, 3, 2).unwrap();
        assert_eq!(req.ins, vec![&b""[..], b"abc", b""]);
        assert_eq!(req.out_lens, vec![0, 3]);
        assert_eq!(response_len(&[0, 3]), Some(4 + 4 + 3));
        assert_eq!(pack_response(&[vec![], b"xyz".to_vec()]).len(), 11);
    }

    #[test]
    fn short_areas_are_refused() {
        let area = pack_request(&[b"12345678", b"x"], &[4]);
        for cut in 0..area.len() {
            assert_eq!(
                unpack_request(&area[..cut], 2, 1),
                Err(aee::EBADPARM),
                "cut at {cut}"
            );
        }
        // A length that runs past the end.
        let mut bad = area.clone();
        bad[0] = 0xff;
        assert_eq!(unpack_request(&bad, 2, 1), Err(aee::EBADPARM));
        // Trailing bytes are ignored.
        let mut long = area.clone();
        long.extend_from_slice(&[0xee; 13]);
        assert!(unpack_request(&long, 2, 1).is_ok());
    }

    #[test]
    fn huge_outputs_do_not_fit() {
        assert_eq!(response_len(&[u32::MAX]), None);
        assert_eq!(response_len(&[0x3fff_fff0, 0x100]), None);
        assert!(response_len(&[0x1000_0000]).is_some());
    }
}
