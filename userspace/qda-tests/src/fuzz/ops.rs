//! Requests both node kinds share (their structures have one layout):
//! INVOKE, INIT_CREATE, INIT_CREATE_STATIC and mmap(2), filled from the
//! dictionaries, and the errnos each may return.

use super::{
    dict::{self, PAGE},
    env::Env,
};

/// Errnos of a malformed argument.
pub const ARG: &[i32] = &[libc::EFAULT, libc::EINVAL];
/// Errnos of the DSP's side of a call: what the simulated DSP (and its
/// fault knobs: error codes, drops with a timeout, the orphan bound)
/// answers, and no DSP process yet.
pub const DSP: &[i32] = &[
    libc::EIO,
    libc::ENOENT,
    libc::ETIMEDOUT,
    libc::EAGAIN,
    libc::ENOMEM,
    libc::ENOTCONN,
    libc::EFAULT,
    libc::EINVAL,
];
/// Errnos of starting a DSP process: one exists, not allowed (uid,
/// node), no such memory.
pub const START: &[i32] = &[
    libc::EALREADY,
    libc::EACCES,
    libc::EPERM,
    libc::ENODEV,
    libc::ECONNREFUSED,
];
/// Errnos of allocating what was asked for.
pub const ALLOC: &[i32] = &[
    libc::ENOMEM,
    libc::ENOSPC,
    libc::E2BIG,
    libc::EFBIG,
    libc::EOVERFLOW,
];

/// The union of errno sets.
pub fn any(sets: &[&[i32]]) -> Vec<i32> {
    let mut v: Vec<i32> = sets.iter().flat_map(|s| s.iter().copied()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Scratch offset of INVOKE argument arrays (up to 540 * 24 bytes;
/// the calculator's arguments sit in its first 4 KiB).
const ARGS_AT: usize = 4 << 10;

/// One argument `(ptr, len, fd)` from the dictionaries; `prev` is the
/// previous argument's pointer (for overlapping ranges).
fn boundary_arg(e: &mut Env, prev: u64) -> (u64, u64, i32) {
    let ptr = if e.rng.one_in(5) {
        prev.wrapping_add(e.rng.pick(&[0, 1, 4, 8, PAGE - 1]))
    } else {
        e.ptr()
    };
    let len = match e.rng.below(3) {
        0 => dict::small_len(&mut e.rng),
        _ => dict::len(&mut e.rng, ptr),
    };
    let fd = if e.rng.one_in(3) { e.fd_ref() } else { -1 };
    (ptr, len, fd)
}

/// The calculator's `sum` with valid arguments (count, vector, 8-byte
/// result in scratch), one field of one argument replaced by a boundary
/// value: the call goes as deep as that value lets it.
fn calc_args(e: &mut Env) -> (u32, Vec<(u64, u64, i32)>) {
    let n = 1 + e.rng.below(64);
    e.put(1 << 10, &(n as u32).to_le_bytes());
    e.noise(2 << 10, 4 * n as usize);
    let mut args = vec![
        (e.at(1 << 10), 4, -1),
        (e.at(2 << 10), 4 * n, -1),
        (e.at(3 << 10), 8, -1),
    ];
    // The vector zero copy, from a buffer.
    if let Some((fd, a, l)) = e.buf().filter(|_| e.rng.one_in(2)) {
        args[1] = (a, (4 * n).min(l), fd);
    }
    let i = e.rng.below(3) as usize;
    let (ptr, len, fd) = boundary_arg(e, args[(i + 2) % 3].0);
    match e.rng.below(4) {
        0 => args[i].0 = ptr,
        1 => args[i].1 = len,
        2 => args[i].2 = fd,
        _ => args[i] = (ptr, len, fd),
    }
    (0x0202_0100, args)
}

/// INVOKE with request number `req`: handle, scalars and an argument
/// array of boundary pointers, lengths and references (in scratch, or the
/// array pointer itself bad).
pub fn invoke(e: &mut Env, req: u32, name: &str) {
    let handle = match e.rng.below(6) {
        0..=2 if e.calc.is_some() => e.calc.unwrap_or(0),
        3 => e.rng.pick(&[0, 1, 2, 3]),
        _ => dict::u32v(&mut e.rng),
    };
    let (sc, mut list) = if e.calc.is_some() && e.rng.one_in(2) {
        calc_args(e)
    } else {
        let sc = dict::scalars(&mut e.rng);
        let mut v = Vec::new();
        let mut prev = e.at(16 << 10);
        for _ in 0..dict::arg_count(sc) {
            let a = boundary_arg(e, prev);
            prev = a.0;
            v.push(a);
        }
        (sc, v)
    };
    let mut desc = format!("{name}{{handle={handle:#x} sc={sc:#x} args=[");
    for (i, (ptr, len, fd)) in list.iter_mut().enumerate() {
        if i < 8 {
            desc += &format!("{{{ptr:#x},{len:#x},{fd}}}");
        }
        let mut a = [0u8; 24];
        a[..8].copy_from_slice(&ptr.to_le_bytes());
        a[8..16].copy_from_slice(&len.to_le_bytes());
        a[16..20].copy_from_slice(&fd.to_le_bytes());
        e.put(ARGS_AT + 24 * i, &a);
    }
    let n = list.len();
    // The bytes inline arguments point at.
    e.noise(16 << 10, 1024);
    let args = match e.rng.below(8) {
        0 => dict::bad_addr(&mut e.rng),
        1 => e.at(super::env::SCRATCH) - 24 * n.min(2) as u64,
        _ => e.at(ARGS_AT),
    };
    desc += &format!("] at {args:#x}}}");
    let mut inv = [0u8; 16];
    inv[..4].copy_from_slice(&handle.to_le_bytes());
    inv[4..8].copy_from_slice(&sc.to_le_bytes());
    inv[8..].copy_from_slice(&args.to_le_bytes());
    let allowed = any(&[ARG, DSP, ALLOC, &[libc::EBADF, libc::EPERM]]);
    let _ = e.issue(desc, req, inv.as_mut_ptr(), &allowed);
}

/// INIT_CREATE with request number `req`: shell length at the 2 MiB
/// limit and past it, signature lengths, references, attributes.
pub fn init_create(e: &mut Env, req: u32, name: &str) {
    let filelen = match e.rng.below(4) {
        0 => dict::u32v(&mut e.rng),
        _ => e
            .rng
            .pick(&[0u32, 1, 4096, 16 << 10, 2 << 20, (2 << 20) + 1, u32::MAX]),
    };
    let filefd = if e.rng.one_in(2) { e.fd_ref() } else { -1 };
    let attrs = match e.rng.below(3) {
        0 => dict::u32v(&mut e.rng),
        _ => e.rng.pick(&[0u32, 1 << 3, 1 << 6, (1 << 3) | 1]),
    };
    let siglen = e.rng.pick(&[0u32, 1, 4096, u32::MAX, u32::MAX - filelen]);
    let file = e.ptr();
    e.noise(16 << 10, 1024);
    let desc = format!(
        "{name}{{filelen={filelen:#x} filefd={filefd} attrs={attrs:#x} siglen={siglen:#x} file={file:#x}}}"
    );
    let mut a = [0u8; 24];
    a[..4].copy_from_slice(&filelen.to_le_bytes());
    a[4..8].copy_from_slice(&filefd.to_le_bytes());
    a[8..12].copy_from_slice(&attrs.to_le_bytes());
    a[12..16].copy_from_slice(&siglen.to_le_bytes());
    a[16..].copy_from_slice(&file.to_le_bytes());
    let allowed = any(&[ARG, DSP, START, ALLOC, &[libc::EBADF]]);
    let _ = e.issue(desc, req, a.as_mut_ptr(), &allowed);
}

/// INIT_CREATE_STATIC with request number `req`: name lengths around
/// the 128-byte limit, boundary pointers. `valid_names`: whether the
/// name may lie in readable memory (not on a DSP whose remote heap the
/// first create would hand over: the static PD suite owns that).
pub fn create_static(e: &mut Env, req: u32, name: &str, valid_names: bool) {
    let namelen = dict::u32_or(&mut e.rng, &[0, 1, 7, 127, 128, 129, 4096, u32::MAX]);
    let ptr = if valid_names {
        e.ptr()
    } else {
        dict::bad_addr(&mut e.rng) | 1
    };
    let memlen = dict::u32v(&mut e.rng);
    e.noise(16 << 10, 256);
    let desc = format!("{name}{{namelen={namelen:#x} memlen={memlen:#x} name={ptr:#x}}}");
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&namelen.to_le_bytes());
    a[4..8].copy_from_slice(&memlen.to_le_bytes());
    a[8..].copy_from_slice(&ptr.to_le_bytes());
    let allowed = any(&[ARG, DSP, START, &[libc::ENOMEM]]);
    let _ = e.issue(desc, req, a.as_mut_ptr(), &allowed);
}

/// mmap(2) of `fd` (the node or a buffer's dma-buf) at boundary offsets,
/// lengths, protections and flags; a mapping that succeeds is touched on
/// every page it allows (a SIGBUS fails the child).
pub fn mmap(e: &mut Env, fd: i32, what: &str, allowed: &[i32]) {
    let offset = match e.rng.below(5) {
        0 | 1 if !e.offsets.is_empty() => {
            let o = e.rng.pick(&e.offsets.clone());
            o.wrapping_add(e.rng.pick(&[0, PAGE, 2 * PAGE, 0u64.wrapping_sub(PAGE)]))
        }
        2 => e
            .rng
            .pick(&[0, PAGE, 1 << 32, 1 << 40, 0x7fff_ffff_ffff_f000]),
        _ => dict::word(&mut e.rng) & !(PAGE - 1),
    };
    let len = match e.rng.below(3) {
        0 => dict::len(&mut e.rng, 0),
        _ => e
            .rng
            .pick(&[1, PAGE, 2 * PAGE, 3 * PAGE, 5 * PAGE, 64 << 10]),
    };
    let prot = e.rng.pick(&[
        libc::PROT_READ,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::PROT_NONE,
        libc::PROT_READ | libc::PROT_EXEC,
        libc::PROT_WRITE,
    ]);
    let flags = e.rng.pick(&[
        libc::MAP_SHARED,
        libc::MAP_PRIVATE,
        libc::MAP_SHARED | libc::MAP_POPULATE,
        libc::MAP_SHARED | libc::MAP_LOCKED,
        libc::MAP_SHARED_VALIDATE | 0x40_0000,
    ]);
    let desc =
        format!("mmap({what}, len={len:#x}, prot={prot:#x}, flags={flags:#x}, offset={offset:#x})");
    e.note(&desc);
    // SAFETY: a new mapping at an address of the kernel's choice,
    // unmapped below; nothing of ours is there.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len as usize,
            prot,
            flags,
            fd,
            offset as libc::off_t,
        )
    };
    if p == libc::MAP_FAILED {
        let _ = e.outcome(desc, -1, allowed);
        return;
    }
    let _ = e.outcome(desc, 0, allowed);
    let b = p.cast::<u8>();
    for i in (0..len as usize).step_by(PAGE as usize) {
        // SAFETY: inside the mapping just made; accesses only where its
        // protection allows them.
        unsafe {
            if prot & libc::PROT_READ != 0 {
                let v = b.add(i).read_volatile();
                if prot & libc::PROT_WRITE != 0 {
                    b.add(i).write_volatile(v.wrapping_add(1));
                }
            }
        }
    }
    // SAFETY: our mapping.
    unsafe { libc::munmap(p, len as usize) };
}
