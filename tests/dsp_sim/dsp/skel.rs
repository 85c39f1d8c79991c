// SPDX-License-Identifier: GPL-2.0

//! The argument checks a QAIC-generated skel makes before running a method,
//! and the refusal they raise (`AEE_EBADPARM` in the DSP's error space):
//! exact buffer counts and no handles, a primIn/primROut at least as long
//! as the method's scalars, variable buffers at least as long as their
//! length word, strings with their NUL inside the length (see the library's
//! own skels, e.g. `src/apps_remotectl_skel.c:503-516`).

use kernel::{
    alloc::AllocError,
    prelude::*, //
};

use crate::dsp::{
    call::Call,
    errors::AEE_EBADPARM, //
};

/// Why a call is answered with an error rather than run.
pub(crate) enum Refusal {
    /// Firmware's answer: this return value.
    Code(i32),
    /// The simulator itself failed (memory, SMMU fault).
    Kernel(Error),
}

impl From<AllocError> for Refusal {
    fn from(e: AllocError) -> Self {
        Self::Kernel(e.into())
    }
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Self::Kernel(e)
    }
}

/// Result of a method: a return value, or a refusal.
pub(crate) type Answer<T> = core::result::Result<T, Refusal>;

/// The skels' refusal of malformed arguments.
pub(crate) const BADPARM: Refusal = Refusal::Code(AEE_EBADPARM);

/// Little-endian word `i` of `b`.
pub(crate) fn word(b: &[u8], i: usize) -> Answer<u32> {
    b.get(i * 4..i * 4 + 4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        .ok_or(BADPARM)
}

/// Checks the call has exactly `ins` input and `outs` output buffers and
/// no handles.
pub(crate) fn shape(call: &Call, ins: usize, outs: usize) -> Answer<()> {
    let sc = call.sc;
    if sc.inbufs() != ins || sc.outbufs() != outs || sc.in_handles() != 0 || sc.out_handles() != 0 {
        return Err(BADPARM);
    }
    Ok(())
}

/// The primIn (input 0), at least `min` bytes long.
pub(crate) fn prim_in(call: &Call, min: usize) -> Answer<&[u8]> {
    call.ins
        .first()
        .filter(|b| b.len() >= min)
        .map(|b| &b[..])
        .ok_or(BADPARM)
}

/// Checks output `k` is at least `min` bytes long.
pub(crate) fn out_at_least(call: &Call, k: usize, min: u64) -> Answer<()> {
    match call.out_lens.get(k) {
        Some(&l) if l >= min => Ok(()),
        _ => Err(BADPARM),
    }
}

/// Input `k`, at least `len` bytes long; the first `len` bytes.
pub(crate) fn input(call: &Call, k: usize, len: usize) -> Answer<&[u8]> {
    call.ins.get(k).and_then(|b| b.get(..len)).ok_or(BADPARM)
}

/// String input `k` whose length word (NUL included) is `len`: its bytes
/// without the NUL.
pub(crate) fn string(call: &Call, k: usize, len: u32) -> Answer<&[u8]> {
    let s = input(call, k, len as usize)?;
    match s.split_last() {
        Some((0, text)) => Ok(text),
        _ => Err(BADPARM),
    }
}

/// One output buffer holding `b`.
pub(crate) fn out(b: &[u8]) -> Result<KVec<u8>> {
    let mut v = KVec::new();
    v.extend_from_slice(b, GFP_KERNEL)?;
    Ok(v)
}

/// Output buffers made of little-endian words.
pub(crate) fn words(w: &[u32]) -> Result<KVec<u8>> {
    let mut v = KVec::new();
    for x in w {
        v.extend_from_slice(&x.to_le_bytes(), GFP_KERNEL)?;
    }
    Ok(v)
}
