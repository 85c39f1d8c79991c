//! The `apps_mem` reverse module: a DSP process (the audio PD, when its
//! heap runs out) asks the apps side for memory mapped into it, and gives
//! it back.
//!
//! Method ids and marshalling follow the `apps_mem` interface of the
//! FastRPC library (`inc/apps_mem.h`, the generated skeleton): every
//! method has one input buffer (primIn) and at most one output (primROut).
//!
//! | id | method            | primIn                                          | primROut            |
//! |----|-------------------|-------------------------------------------------|---------------------|
//! | 0  | `request_map`     | heapid, lflags, rflags, vin, len (5 × u32)      | vapps, vadsp (u32)  |
//! | 1  | `request_unmap`   | vadsp, len (u32, i32)                           |                     |
//! | 2  | `request_map64`   | heapid, lflags, rflags (u32) @0..12; vin @16, len @24 (u64) | vapps, vadsp (u64) |
//! | 3  | `request_unmap64` | vadsp @0, len @8 (u64)                          |                     |
//!
//! Method 2's 64-bit fields are aligned to 8, so word 3 of primIn is
//! padding. `share_map`/`share_unmap` and the `dma_handle` calls (4..=7),
//! and requests for a dma-buf fd instead of a mapping
//! ([`RFLAG_ALLOC_HLOS_FD`]), answer `AEE_EUNSUPPORTED`.

use super::{
    aee,
    skel::{ensure, method, Call},
};

/// Method ids.
mod id {
    pub const REQUEST_MAP: u32 = 0;
    pub const REQUEST_UNMAP: u32 = 1;
    pub const REQUEST_MAP64: u32 = 2;
    pub const REQUEST_UNMAP64: u32 = 3;
}

/// `rflags` asking for a dma-buf fd returned as `vadsp` (not served).
pub const RFLAG_ALLOC_HLOS_FD: u32 = 0x1_0000;
/// `AEE_ENOSUCHMAP`: unmap of an address this daemon did not map.
pub const ENOSUCHMAP: i32 = 0x48;

/// A `request_map` as the DSP sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapRequest {
    /// Heap id of the apps-side allocator (ION heap on old systems).
    pub heapid: i32,
    /// Allocator flags.
    pub lflags: u32,
    /// How the DSP uses the memory (`ADSP_MMAP_*`).
    pub rflags: u32,
    /// Apps address hint (unused, as in the library).
    pub vin: u64,
    /// Bytes wanted.
    pub len: u64,
}

/// The answer to a map: where the memory is on either side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Granted {
    /// Address of the memory in the daemon.
    pub vapps: u64,
    /// Address of the memory in the DSP process.
    pub vadsp: u64,
}

/// The memory behind `apps_mem`: buffers of the daemon's file mapped into
/// its DSP process ([`super::GemMemory`]), or a test double. Errors are
/// the call's result (an errno or an AEE code).
pub trait Memory: Send {
    /// Allocates `req.len` bytes and maps them into the DSP process.
    fn map(&mut self, req: &MapRequest) -> Result<Granted, i32>;
    /// Unmaps the memory mapped at `vadsp` from the DSP process and frees
    /// it; [`ENOSUCHMAP`] if nothing is mapped there.
    fn unmap(&mut self, vadsp: u64, len: u64) -> Result<(), i32>;
    /// Buffers granted and not given back.
    fn grants(&self) -> usize;
}

/// Runs one `apps_mem` call on `mem`; returns the call's result.
pub fn invoke(mem: &mut dyn Memory, call: &mut Call<'_, '_>) -> i32 {
    match dispatch(mem, call) {
        Ok(()) => 0,
        Err(e) => e,
    }
}

fn dispatch(mem: &mut dyn Memory, c: &mut Call<'_, '_>) -> Result<(), i32> {
    match method(c.sc) {
        id::REQUEST_MAP => {
            c.expect(1, 1, 20, 8)?;
            let len = signed_len(i64::from(c.word(4) as i32))?;
            let g = map(mem, c.word(0), c.word(1), c.word(2), c.word(3).into(), len)?;
            // 32-bit answers, truncated as the library does.
            c.put(0, &(g.vapps as u32).to_le_bytes());
            c.put(4, &(g.vadsp as u32).to_le_bytes());
            Ok(())
        }
        id::REQUEST_UNMAP => {
            c.expect(1, 0, 8, 0)?;
            let len = signed_len(i64::from(c.word(1) as i32))?;
            mem.unmap(c.word(0).into(), len)
        }
        id::REQUEST_MAP64 => {
            c.expect(1, 1, 32, 16)?;
            let len = signed_len(c.dword(24) as i64)?;
            let g = map(mem, c.word(0), c.word(1), c.word(2), c.dword(16), len)?;
            c.put(0, &g.vapps.to_le_bytes());
            c.put(8, &g.vadsp.to_le_bytes());
            Ok(())
        }
        id::REQUEST_UNMAP64 => {
            c.expect(1, 0, 16, 0)?;
            let len = signed_len(c.dword(8) as i64)?;
            mem.unmap(c.dword(0), len)
        }
        _ => Err(aee::EUNSUPPORTED),
    }
}

/// A length the library accepts (not negative).
fn signed_len(len: i64) -> Result<u64, i32> {
    ensure(len >= 0)?;
    Ok(len as u64)
}

fn map(
    mem: &mut dyn Memory,
    heapid: u32,
    lflags: u32,
    rflags: u32,
    vin: u64,
    len: u64,
) -> Result<Granted, i32> {
    if rflags == RFLAG_ALLOC_HLOS_FD {
        return Err(aee::EUNSUPPORTED);
    }
    ensure(len > 0)?;
    mem.map(&MapRequest {
        heapid: heapid as i32,
        lflags,
        rflags,
        vin,
        len,
    })
}

/// A [`Memory`] that records what it is asked and hands out addresses
/// from 0x1000_0000 (for host tests).
#[cfg(test)]
pub mod fake {
    use super::*;

    #[derive(Debug, Default)]
    pub struct FakeMemory {
        pub maps: Vec<MapRequest>,
        pub live: Vec<(u64, u64)>,
        pub unmaps: Vec<(u64, u64)>,
        /// Result of the next map, if not a grant.
        pub refuse: Option<i32>,
    }

    impl Memory for FakeMemory {
        fn map(&mut self, req: &MapRequest) -> Result<Granted, i32> {
            self.maps.push(*req);
            if let Some(e) = self.refuse.take() {
                return Err(e);
            }
            let vadsp = 0x1000_0000 + 0x100_0000 * self.maps.len() as u64;
            self.live.push((vadsp, req.len));
            Ok(Granted {
                vapps: 0x7f00_0000_0000 + vadsp,
                vadsp,
            })
        }

        fn unmap(&mut self, vadsp: u64, len: u64) -> Result<(), i32> {
            self.unmaps.push((vadsp, len));
            let i = self
                .live
                .iter()
                .position(|&(v, _)| v == vadsp)
                .ok_or(ENOSUCHMAP)?;
            self.live.remove(i);
            Ok(())
        }

        fn grants(&self) -> usize {
            self.live.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{fake::FakeMemory, *};
    use crate::rpc::scalars;

    /// Calls method `m` with primIn `prim` and a primROut of `rout` bytes
    /// (none if 0): (result, primROut).
    fn call(mem: &mut FakeMemory, m: u32, prim: &[u8], rout: usize) -> (i32, Vec<u8>) {
        let ins: [&[u8]; 1] = [prim];
        let mut outs: Vec<Vec<u8>> = if rout > 0 {
            vec![vec![0; rout]]
        } else {
            vec![]
        };
        let sc = scalars(m, 1, outs.len() as u32);
        let r = invoke(
            mem,
            &mut Call {
                sc,
                ins: &ins,
                outs: &mut outs,
            },
        );
        (r, outs.pop().unwrap_or_default())
    }

    /// primIn of `request_map64`, laid out as the DSP's stub packs it.
    fn map64_prim(heapid: i32, lflags: u32, rflags: u32, vin: u64, len: i64) -> Vec<u8> {
        let mut p = vec![0xeeu8; 32];
        p[0..4].copy_from_slice(&heapid.to_le_bytes());
        p[4..8].copy_from_slice(&lflags.to_le_bytes());
        p[8..12].copy_from_slice(&rflags.to_le_bytes());
        // Bytes 12..16: alignment padding (garbage must not matter).
        p[16..24].copy_from_slice(&vin.to_le_bytes());
        p[24..32].copy_from_slice(&len.to_le_bytes());
        p
    }

    fn unmap64_prim(vadsp: u64, len: i64) -> Vec<u8> {
        [vadsp.to_le_bytes(), len.to_le_bytes()].concat()
    }

    #[test]
    fn map64_and_unmap64_have_the_librarys_layout() {
        let mut m = FakeMemory::default();
        let prim = map64_prim(-1, 0x2, 0x8, 0xdead_0000, 0x4_0000);
        let (r, rout) = call(&mut m, 2, &prim, 16);
        assert_eq!(r, 0);
        assert_eq!(
            m.maps,
            [MapRequest {
                heapid: -1,
                lflags: 2,
                rflags: 8,
                vin: 0xdead_0000,
                len: 0x4_0000
            }]
        );
        let vadsp = 0x1100_0000u64;
        assert_eq!(&rout[0..8], &(0x7f00_0000_0000 + vadsp).to_le_bytes());
        assert_eq!(&rout[8..16], &vadsp.to_le_bytes());
        assert_eq!(m.grants(), 1);
        assert_eq!(call(&mut m, 3, &unmap64_prim(vadsp, 0x4_0000), 0).0, 0);
        assert_eq!(m.unmaps, [(vadsp, 0x4_0000)]);
        assert_eq!(m.grants(), 0);
        // Again: nothing mapped there any more.
        assert_eq!(
            call(&mut m, 3, &unmap64_prim(vadsp, 0x4_0000), 0).0,
            ENOSUCHMAP
        );
    }

    #[test]
    fn the_32_bit_calls_pack_words() {
        let mut m = FakeMemory::default();
        let prim: Vec<u8> = [7u32, 1, 0x1000, 0x5000, 0x2000]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        let (r, rout) = call(&mut m, 0, &prim, 8);
        assert_eq!(r, 0);
        assert_eq!(m.maps[0].heapid, 7);
        assert_eq!((m.maps[0].vin, m.maps[0].len), (0x5000, 0x2000));
        assert_eq!(&rout[4..8], &0x1100_0000u32.to_le_bytes());
        let prim = [0x1100_0000u32.to_le_bytes(), 0x2000u32.to_le_bytes()].concat();
        assert_eq!(call(&mut m, 1, &prim, 0).0, 0);
        assert_eq!(m.unmaps, [(0x1100_0000, 0x2000)]);
    }

    #[test]
    fn bad_requests_are_refused_before_any_allocation() {
        let mut m = FakeMemory::default();
        // Negative and zero lengths.
        let neg = map64_prim(0, 0, 0x1000, 0, -4096);
        assert_eq!(call(&mut m, 2, &neg, 16).0, aee::EBADPARM);
        let zero = map64_prim(0, 0, 0x1000, 0, 0);
        assert_eq!(call(&mut m, 2, &zero, 16).0, aee::EBADPARM);
        let neg32 = [0u32, 0, 0x1000, 0, (-1i32) as u32]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect::<Vec<_>>();
        assert_eq!(call(&mut m, 0, &neg32, 8).0, aee::EBADPARM);
        // Short primIn or primROut, or a missing output.
        let ok = map64_prim(0, 0, 0x1000, 0, 4096);
        assert_eq!(call(&mut m, 2, &ok[..31], 16).0, aee::EBADPARM);
        assert_eq!(call(&mut m, 2, &ok, 15).0, aee::EBADPARM);
        assert_eq!(call(&mut m, 2, &ok, 0).0, aee::EBADPARM);
        assert_eq!(call(&mut m, 3, &[0u8; 15], 0).0, aee::EBADPARM);
        // Unserved flavours and methods.
        let fd = map64_prim(0, 0, RFLAG_ALLOC_HLOS_FD, 0, 4096);
        assert_eq!(call(&mut m, 2, &fd, 16).0, aee::EUNSUPPORTED);
        for method in 4..8 {
            assert_eq!(call(&mut m, method, &[0u8; 16], 0).0, aee::EUNSUPPORTED);
        }
        assert!(m.maps.is_empty());
    }

    #[test]
    fn a_refused_map_passes_its_code_on() {
        let mut m = FakeMemory {
            refuse: Some(aee::ENORPCMEMORY),
            ..Default::default()
        };
        let (r, rout) = call(&mut m, 2, &map64_prim(0, 0, 0x1000, 0, 4096), 16);
        assert_eq!(r, aee::ENORPCMEMORY);
        assert_eq!(rout, [0u8; 16]);
        assert_eq!(m.grants(), 0);
    }
}
