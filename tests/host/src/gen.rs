//! A seeded generator of hostile values for the property tests.
//!
//! Half of the values are boundaries a kernel fuzzer's dictionary holds
//! (0, 1, -1, `u32::MAX`, page edges, the top of the address space, the
//! payload limit and one past it), each possibly nudged by a few bytes;
//! the other half random, of a random bit width, so small and huge
//! values both come up. [`cases`] runs a property on thousands of
//! generators, each seeded from the case number, and names the case that
//! failed, so a failure is reproduced by its number alone.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::plan::MAX_PAYLOAD;

/// Values at which arithmetic on addresses and lengths breaks.
pub(crate) const EDGES: [u64; 26] = [
    0,
    1,
    2,
    0x7f,
    0x80,
    0xfff,
    0x1000,
    0x1001,
    0xffff,
    0x10_0000,
    0x7fff_ffff,
    0xffff_f000,
    0xffff_ffff,
    0x1_0000_0000,
    0x0000_ffff_ffff_f000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0xffff_0000_0000_0000,
    0xffff_ffff_ffff_e000,
    0xffff_ffff_ffff_efff,
    0xffff_ffff_ffff_f000,
    0xffff_ffff_ffff_ffff,
    MAX_PAYLOAD - 1,
    MAX_PAYLOAD,
    MAX_PAYLOAD + 1,
    0xffff_ffff_ffff_fffe,
];

/// Cases run per property.
pub(crate) const CASES: u64 = 20_000;

/// A splitmix64 stream.
pub(crate) struct Gen(u64);

impl Gen {
    /// The generator of case `case` of property `name`.
    pub(crate) fn new(name: &str, case: u64) -> Self {
        let salt = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        Self(salt ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    /// 64 random bits.
    pub(crate) fn bits(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.bits() % n
    }

    /// True with probability `1/n`.
    pub(crate) fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    /// One of `items`.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// A hostile `u64`: a boundary (maybe nudged) or random bits of a
    /// random width.
    pub(crate) fn u64(&mut self) -> u64 {
        if self.one_in(2) {
            let e = self.pick(&EDGES);
            match self.below(4) {
                0 => e.wrapping_add(self.below(4)),
                1 => e.wrapping_sub(self.below(4)),
                _ => e,
            }
        } else {
            self.bits() >> self.below(64)
        }
    }

    /// A hostile `u32` (the low half of [`Gen::u64`], or a boundary).
    pub(crate) fn u32(&mut self) -> u32 {
        match self.below(3) {
            0 => self.pick(&[0, 1, 0xfff, 0x1000, 0x7fff_ffff, 0x8000_0000, u32::MAX]),
            _ => self.u64() as u32,
        }
    }

    /// A hostile `i32`.
    pub(crate) fn i32(&mut self) -> i32 {
        self.u32() as i32
    }

    /// `n` random bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.bits() as u8).collect()
    }
}

/// Runs `property` on [`CASES`] generators; a failure names the case.
pub(crate) fn cases(name: &str, mut property: impl FnMut(&mut Gen)) {
    for case in 0..CASES {
        let mut g = Gen::new(name, case);
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| property(&mut g))) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{name}: case {case} failed: {msg}");
        }
    }
}
