//! Value dictionaries of the boundary fuzzer, as kernel fuzzers use them:
//! 0, 1, -1, page boundaries, the top of the address space, tagged
//! pointers, integer maxima, each documented limit and the values just
//! past it, and ranges that overlap or wrap past 2^64.

/// Seeded xorshift64*: the same sequence on every run of a seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// One of `v` (`v` is never empty).
    pub fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u64) as usize]
    }
    /// True once in `n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

pub const PAGE: u64 = 4096;
/// The limits the driver documents.
pub const MAX_PAYLOAD: u64 = 64 << 20;
pub const MAX_MAP: u64 = 1 << 30;
pub const MAX_FILELEN: u64 = 2 << 20;
pub const NAME_MAX: u64 = 128;

/// Words at integer and address-space boundaries.
const WORDS: &[u64] = &[
    0,
    1,
    2,
    0x7f,
    0x80,
    0xff,
    0x100,
    PAGE - 1,
    PAGE,
    PAGE + 1,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0fff,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX - PAGE,
    u64::MAX - PAGE + 1,
    u64::MAX - 1,
    u64::MAX,
];

/// Addresses nobody may access: the top of the address space, kernel
/// addresses, the end of the user range, the null page.
const BAD_ADDRS: &[u64] = &[
    0,
    1,
    PAGE - 1,
    PAGE,
    0xffff_ffff_ffff_f000,
    0xffff_ffff_ffff_f001,
    0xffff_ffff_ffff_ffff,
    0xffff_0000_0000_0000,
    0xffff_8000_0000_0000,
    0x8000_0000_0000_0000,
    0x0000_ffff_ffff_f000,
    0x0001_0000_0000_0000,
    0x00ff_ffff_ffff_f000,
];

/// Lengths: boundaries and each documented limit, one below and one past.
const LENS: &[u64] = &[
    0,
    1,
    2,
    7,
    8,
    PAGE - 1,
    PAGE,
    PAGE + 1,
    2 * PAGE,
    NAME_MAX - 1,
    NAME_MAX,
    NAME_MAX + 1,
    MAX_FILELEN,
    MAX_FILELEN + 1,
    MAX_PAYLOAD,
    MAX_PAYLOAD + 1,
    MAX_MAP + 1,
    MAX_MAP + PAGE,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_0000_0001,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX - PAGE + 1,
    u64::MAX - 1,
    u64::MAX,
];

/// A 64-bit word from the boundaries, or random.
pub fn word(r: &mut Rng) -> u64 {
    match r.below(8) {
        0 => r.next(),
        1 => r.below(16),
        2 => 1 << r.below(64),
        _ => r.pick(WORDS),
    }
}

/// A 32-bit field.
pub fn u32v(r: &mut Rng) -> u32 {
    match r.below(6) {
        0 => r.next() as u32,
        1 => r.below(8) as u32,
        2 => 1 << r.below(32),
        _ => r.pick(&[
            0u32,
            1,
            2,
            3,
            0x7f,
            0xff,
            0x1000,
            0x7fff_ffff,
            0x8000_0000,
            u32::MAX,
        ]),
    }
}

/// An address nobody may access.
pub fn bad_addr(r: &mut Rng) -> u64 {
    r.pick(BAD_ADDRS)
}

/// A length; relative to `ptr` also the ones that make `[ptr, ptr + len)`
/// end exactly at 2^64, wrap by one, or end at the top page.
pub fn len(r: &mut Rng, ptr: u64) -> u64 {
    match r.below(10) {
        0 => 0u64.wrapping_sub(ptr),
        1 => 0u64.wrapping_sub(ptr).wrapping_add(1),
        2 => 0xffff_ffff_ffff_f000u64.wrapping_sub(ptr),
        3 => r.below(3 * PAGE),
        4 => r.next(),
        _ => r.pick(LENS),
    }
}

/// A small length a call may succeed with.
pub fn small_len(r: &mut Rng) -> u64 {
    r.pick(&[0, 1, 4, 8, 16, 64, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE])
}

/// A size for a request that allocates what it is asked for: sizes the
/// driver would accept are kept small (they only exercise the machine's
/// memory), the rest come from [`len`].
pub fn alloc_size(r: &mut Rng) -> u64 {
    let v = len(r, 0);
    if (16 * PAGE..=MAX_MAP).contains(&v) {
        r.pick(&[PAGE, 2 * PAGE, MAX_MAP + 1, MAX_MAP + PAGE])
    } else {
        v
    }
}

/// An fd-sized field: 0, -1, other negatives, the maxima.
pub fn fd_number(r: &mut Rng) -> i32 {
    r.pick(&[0, -1, -2, -100, i32::MIN, i32::MAX, 1023, 4096])
}

/// A scalars word: method, attributes and argument counts at their
/// boundaries (up to 255 + 255 buffers and 15 + 15 handles).
pub fn scalars(r: &mut Rng) -> u32 {
    if r.one_in(8) {
        return r.next() as u32;
    }
    let count = |r: &mut Rng, max: u32| match r.below(4) {
        0 => max,
        1 => r.below(u64::from(max) + 1) as u32,
        _ => r.below(4) as u32,
    };
    let attr = if r.one_in(4) { r.below(8) as u32 } else { 0 };
    let any = r.below(32) as u32;
    let method = r.pick(&[0u32, 1, 2, 3, 4, 31, any]);
    let (inb, outb) = (count(r, 255), count(r, 255));
    let (inh, outh) = (count(r, 15), count(r, 15));
    (attr << 29) | (method << 24) | (inb << 16) | (outb << 8) | (inh << 4) | outh
}

/// The number of arguments `sc` names.
pub fn arg_count(sc: u32) -> usize {
    (((sc >> 16) & 0xff) + ((sc >> 8) & 0xff) + ((sc >> 4) & 0xf) + (sc & 0xf)) as usize
}

/// One of `fixed`, or (as often as each of them) any [`u32v`].
pub fn u32_or(r: &mut Rng, fixed: &[u32]) -> u32 {
    match r.below(fixed.len() as u64 + 1) as usize {
        i if i < fixed.len() => fixed[i],
        _ => u32v(r),
    }
}
