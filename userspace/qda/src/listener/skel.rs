//! Skeleton helpers: the argument checks every reverse module makes before
//! running a method, in the manner of the QAIC-generated skeletons.
//!
//! A call arrives as its scalars word, its input buffers and its output
//! buffers (sized as the DSP asked, zero-filled). Input 0 holds the packed
//! scalar inputs ("primIn"), output 0 the packed scalar outputs
//! ("primROut"). Any mismatch is answered with `AEE_EBADPARM`.

use super::aee;

/// A reverse call as a module sees it.
pub struct Call<'a, 'b> {
    /// The scalars word (method, buffer counts).
    pub sc: u32,
    /// Input buffers.
    pub ins: &'b [&'a [u8]],
    /// Output buffers, written in place.
    pub outs: &'b mut [Vec<u8>],
}

/// The method field of `sc`.
pub const fn method(sc: u32) -> u32 {
    (sc >> 24) & 0x1f
}

/// The input buffer count of `sc`.
pub const fn in_bufs(sc: u32) -> usize {
    ((sc >> 16) & 0xff) as usize
}

/// The output buffer count of `sc`.
pub const fn out_bufs(sc: u32) -> usize {
    ((sc >> 8) & 0xff) as usize
}

/// The input and output handle counts of `sc`.
pub const fn handles(sc: u32) -> usize {
    (((sc >> 4) & 0xf) + (sc & 0xf)) as usize
}

/// Fails with `AEE_EBADPARM` unless `ok`.
pub fn ensure(ok: bool) -> Result<(), i32> {
    if ok {
        Ok(())
    } else {
        Err(aee::EBADPARM)
    }
}

impl Call<'_, '_> {
    /// Checks the buffer counts and the sizes of primIn (`prim_in` bytes)
    /// and primROut (`prim_out` bytes, 0: no primROut).
    pub fn expect(
        &self,
        ins: usize,
        outs: usize,
        prim_in: usize,
        prim_out: usize,
    ) -> Result<(), i32> {
        ensure(in_bufs(self.sc) == ins && out_bufs(self.sc) == outs && handles(self.sc) == 0)?;
        ensure(self.ins.len() == ins && self.outs.len() == outs)?;
        ensure(ins > 0 && self.ins[0].len() >= prim_in)?;
        ensure(prim_out == 0 || self.outs[0].len() >= prim_out)
    }

    /// Word `i` of primIn (checked by [`Call::expect`]).
    pub fn word(&self, i: usize) -> u32 {
        let b = &self.ins[0][4 * i..4 * i + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The little-endian `u64` at byte `off` of primIn (checked by
    /// [`Call::expect`]).
    pub fn dword(&self, off: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.ins[0][off..off + 8]);
        u64::from_le_bytes(b)
    }

    /// Input buffer `i` as a string of `len` bytes (counting its NUL): the
    /// buffer must hold `len` bytes, the last one 0. Returns the bytes up
    /// to the first NUL.
    pub fn string(&self, i: usize, len: u32) -> Result<&[u8], i32> {
        let len = len as usize;
        let b = self.ins[i];
        ensure(len > 0 && b.len() >= len && b[len - 1] == 0)?;
        let s = &b[..len];
        Ok(&s[..s.iter().position(|&c| c == 0).unwrap_or(len)])
    }

    /// Output buffer `i`, which must hold at least `len` bytes; returns
    /// its first `len` bytes.
    pub fn out(&mut self, i: usize, len: u32) -> Result<&mut [u8], i32> {
        let b = &mut self.outs[i];
        ensure(b.len() >= len as usize)?;
        Ok(&mut b[..len as usize])
    }

    /// Writes `bytes` at `off` in primROut (sized by [`Call::expect`]).
    pub fn put(&mut self, off: usize, bytes: &[u8]) {
        self.outs[0][off..off + bytes.len()].copy_from_slice(bytes);
    }
}

/// Copies `msg` into `dst` as a NUL-terminated string, truncated to fit
/// (like `strlcpy`).
pub fn copy_cstr(dst: &mut [u8], msg: &[u8]) {
    if let Some(room) = dst.len().checked_sub(1) {
        let n = msg.len().min(room);
        dst[..n].copy_from_slice(&msg[..n]);
        dst[n] = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_fields() {
        let sc = 0x1f05_0100;
        assert_eq!(
            (method(sc), in_bufs(sc), out_bufs(sc), handles(sc)),
            (31, 5, 1, 0)
        );
        assert_eq!(handles(0x0001_0011), 2);
    }

    #[test]
    fn strings_must_end_in_nul_within_their_length() {
        let prim = [0u8; 4];
        let ins: [&[u8]; 2] = [&prim, b"abc\0xyz"];
        let mut outs: [Vec<u8>; 0] = [];
        let c = Call {
            sc: 0x0002_0000,
            ins: &ins,
            outs: &mut outs,
        };
        assert_eq!(c.string(1, 4), Ok(&b"abc"[..]));
        assert_eq!(c.string(1, 3), Err(aee::EBADPARM));
        assert_eq!(c.string(1, 0), Err(aee::EBADPARM));
        assert_eq!(c.string(1, 9), Err(aee::EBADPARM));
        let ins: [&[u8]; 2] = [&prim, b"a\0b\0"];
        let c = Call {
            sc: 0x0002_0000,
            ins: &ins,
            outs: &mut outs,
        };
        assert_eq!(c.string(1, 4), Ok(&b"a"[..]));
    }

    #[test]
    fn expect_checks_counts_and_sizes() {
        let prim = [0u8; 8];
        let ins: [&[u8]; 1] = [&prim];
        let mut outs = [vec![0u8; 4]];
        let c = Call {
            sc: 0x0301_0100,
            ins: &ins,
            outs: &mut outs,
        };
        assert_eq!(c.expect(1, 1, 8, 4), Ok(()));
        assert_eq!(c.expect(1, 1, 12, 4), Err(aee::EBADPARM));
        assert_eq!(c.expect(1, 1, 8, 8), Err(aee::EBADPARM));
        assert_eq!(c.expect(2, 1, 8, 4), Err(aee::EBADPARM));
    }

    #[test]
    fn copy_cstr_truncates_and_terminates() {
        let mut d = [0xffu8; 4];
        copy_cstr(&mut d, b"hello");
        assert_eq!(&d, b"hel\0");
        let mut d = [0xffu8; 8];
        copy_cstr(&mut d, b"hi");
        assert_eq!(&d[..3], b"hi\0");
        copy_cstr(&mut [], b"x");
    }
}
