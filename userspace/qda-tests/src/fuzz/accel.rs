//! Boundary values on every request of an accel node
//! (`include/uapi/drm/qda_accel.h`, and the DRM core's GEM and PRIME
//! requests qda serves) and on its mmap.

use std::os::fd::AsRawFd;

use qda::uapi;

use super::{
    dict::{self, PAGE},
    env::{mmap_offset, Env},
    ops::{self, any, ALLOC, ARG, DSP, START},
};

/// One request with an argument of up to 64 bytes.
fn call(e: &mut Env, desc: String, req: u32, arg: &mut [u8], allowed: &[i32]) -> Result<i32, i32> {
    e.issue(desc, req, arg.as_mut_ptr(), allowed)
}

fn u32_at(a: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(a[o..o + 4].try_into().unwrap_or_default())
}
fn u64_at(a: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(a[o..o + 8].try_into().unwrap_or_default())
}

/// A new GEM handle is kept; the oldest beyond 8 are closed.
fn keep_handle(e: &mut Env, h: u32) {
    e.handles.push(h);
    if e.handles.len() > 8 {
        let old = e.handles.remove(0);
        let mut c = [0u8; 8];
        c[..4].copy_from_slice(&old.to_le_bytes());
        // SAFETY: GEM_CLOSE reads its 8 bytes only.
        unsafe {
            libc::ioctl(
                e.fd.as_raw_fd(),
                uapi::DRM_IOCTL_GEM_CLOSE as _,
                c.as_mut_ptr(),
            )
        };
    }
    if let Some(o) = mmap_offset(e.fd.as_raw_fd(), h) {
        e.offsets.push(o);
        if e.offsets.len() > 16 {
            e.offsets.remove(0);
        }
    }
}

fn gem_create(e: &mut Env, ex: bool) {
    let size = dict::alloc_size(&mut e.rng);
    let backend = dict::u32_or(&mut e.rng, &[0u32, 1, 2, 3, 4, 5, u32::MAX]);
    let pad = if e.rng.one_in(2) {
        0
    } else {
        dict::u32v(&mut e.rng)
    };
    let mut a = [0u8; 16];
    a[..8].copy_from_slice(&size.to_le_bytes());
    a[12..].copy_from_slice(&(if ex { backend } else { pad }).to_le_bytes());
    let (req, name) = if ex {
        (uapi::DRM_IOCTL_QDA_GEM_CREATE_EX, "GEM_CREATE_EX")
    } else {
        (uapi::DRM_IOCTL_QDA_GEM_CREATE, "GEM_CREATE")
    };
    let desc = format!("{name}{{size={size:#x} backend/pad={:#x}}}", u32_at(&a, 12));
    let allowed = any(&[ARG, ALLOC, &[libc::ENODEV]]);
    if call(e, desc, req, &mut a, &allowed).is_ok() {
        keep_handle(e, u32_at(&a, 8));
    }
}

fn handle_op(e: &mut Env, which: u32) {
    let h = e.handle();
    let pad = if e.rng.one_in(3) {
        dict::u32v(&mut e.rng)
    } else {
        0
    };
    let mut a = [0u8; 24];
    a[..4].copy_from_slice(&h.to_le_bytes());
    a[4..8].copy_from_slice(&pad.to_le_bytes());
    let lookup = [libc::EINVAL, libc::ENOENT, libc::EFAULT, libc::EOVERFLOW];
    match which {
        0 => {
            let d = format!("GEM_MMAP_OFFSET{{handle={h:#x} pad={pad:#x}}}");
            if call(
                e,
                d,
                uapi::DRM_IOCTL_QDA_GEM_MMAP_OFFSET,
                &mut a[..16],
                &lookup,
            )
            .is_ok()
            {
                e.offsets.push(u64_at(&a, 8));
            }
        }
        1 => {
            let d = format!("GEM_INFO{{handle={h:#x}}}");
            let _ = call(e, d, uapi::DRM_IOCTL_QDA_GEM_INFO, &mut a, &lookup);
        }
        2 => {
            let d = format!("GEM_CLOSE{{handle={h:#x} pad={pad:#x}}}");
            if call(e, d, uapi::DRM_IOCTL_GEM_CLOSE, &mut a[..8], &lookup).is_ok() {
                e.handles.retain(|&x| x != h);
            }
        }
        _ => {
            let flags = dict::u32_or(
                &mut e.rng,
                &[0u32, libc::O_CLOEXEC as u32, libc::O_RDWR as u32, u32::MAX],
            );
            a[4..8].copy_from_slice(&flags.to_le_bytes());
            a[8..12].copy_from_slice(&(-1i32).to_le_bytes());
            let d = format!("PRIME_HANDLE_TO_FD{{handle={h:#x} flags={flags:#x}}}");
            let allowed = any(&[
                &lookup,
                &[libc::EOPNOTSUPP, libc::EPERM, libc::ENOMEM, libc::EMFILE],
            ]);
            if call(
                e,
                d,
                uapi::DRM_IOCTL_PRIME_HANDLE_TO_FD,
                &mut a[..12],
                &allowed,
            )
            .is_ok()
            {
                let fd = u32_at(&a, 8) as i32;
                e.adopt(fd, "own export");
            }
        }
    }
}

fn fd_to_handle(e: &mut Env) {
    let fd = e.fd_ref();
    let mut a = [0u8; 12];
    a[4..8].copy_from_slice(&dict::u32v(&mut e.rng).to_le_bytes());
    a[8..12].copy_from_slice(&fd.to_le_bytes());
    let d = format!("PRIME_FD_TO_HANDLE{{fd={fd} flags={:#x}}}", u32_at(&a, 4));
    let allowed = any(&[
        ARG,
        ALLOC,
        &[libc::EBADF, libc::EOPNOTSUPP, libc::ENODEV, libc::ENOENT],
    ]);
    if call(e, d, uapi::DRM_IOCTL_PRIME_FD_TO_HANDLE, &mut a, &allowed).is_ok() {
        keep_handle(e, u32_at(&a, 0));
    }
}

fn map(e: &mut Env) {
    let request = e.rng.pick(&[0u32, 1, 2, 3, u32::MAX]);
    let flags = dict::u32_or(&mut e.rng, &[0u32, 1, 2, 3, 4, 0x1000, 0x8000]);
    let fd = if e.rng.one_in(3) { -1 } else { e.fd_ref() };
    let attrs = dict::u32v(&mut e.rng);
    let offset = dict::u32_or(&mut e.rng, &[0u32, 1, PAGE as u32, u32::MAX]);
    let reserved = if e.rng.one_in(8) { 1u32 } else { 0 };
    let vaddrin = if e.rng.one_in(4) { 0 } else { e.ptr() };
    let size = match e.rng.below(3) {
        0 => dict::small_len(&mut e.rng),
        _ => dict::alloc_size(&mut e.rng),
    };
    // Half the time a valid mapping of a buffer with one field (k) from
    // the dictionaries.
    let (mut request, mut flags, mut fd, mut attrs, mut offset, mut vaddrin, mut size) =
        (request, flags, fd, attrs, offset, vaddrin, size);
    if let Some((bfd, addr, len)) = e.buf().filter(|_| e.rng.one_in(2)) {
        let k = e.rng.below(7);
        let keep = |i: u64| k == i;
        request = if keep(0) {
            request
        } else {
            e.rng.pick(&[1, 2])
        };
        flags = if keep(1) { flags } else { 0 };
        fd = if keep(2) { fd } else { bfd };
        attrs = if keep(3) { attrs } else { 0 };
        offset = if keep(4) { offset } else { 0 };
        vaddrin = if keep(5) { vaddrin } else { addr };
        size = if keep(6) { size } else { len };
    }
    let mut a = [0u8; 48];
    for (o, v) in [
        (0, request),
        (4, flags),
        (8, fd as u32),
        (12, attrs),
        (16, offset),
        (20, reserved),
    ] {
        a[o..o + 4].copy_from_slice(&v.to_le_bytes());
    }
    a[24..32].copy_from_slice(&vaddrin.to_le_bytes());
    a[32..40].copy_from_slice(&size.to_le_bytes());
    let d = format!(
        "MAP{{request={request} flags={flags:#x} fd={fd} attrs={attrs:#x} offset={offset:#x} reserved={reserved} vaddrin={vaddrin:#x} size={size:#x}}}"
    );
    let allowed = any(&[
        ARG,
        ALLOC,
        DSP,
        &[libc::EBADF, libc::ENODEV, libc::EOPNOTSUPP, libc::ENOSPC],
    ]);
    if call(e, d, uapi::DRM_IOCTL_QDA_MAP, &mut a, &allowed).is_ok() {
        let vout = u64_at(&a, 40);
        e.vaddrs.push((vout, size, fd));
        if e.rng.one_in(2) {
            // Undone at once, as the library would.
            munmap_exact(e, request, fd, vout, size);
        }
    }
}

fn munmap_exact(e: &mut Env, request: u32, fd: i32, v: u64, size: u64) {
    let mut a = [0u8; 32];
    a[..4].copy_from_slice(&request.to_le_bytes());
    a[4..8].copy_from_slice(&fd.to_le_bytes());
    a[8..16].copy_from_slice(&v.to_le_bytes());
    a[16..24].copy_from_slice(&v.to_le_bytes());
    a[24..].copy_from_slice(&size.to_le_bytes());
    let d = format!("MUNMAP{{request={request} fd={fd} vaddr=vaddrout={v:#x} size={size:#x}}}");
    if call(e, d, uapi::DRM_IOCTL_QDA_MUNMAP, &mut a, &any(&[ARG, DSP])).is_ok() {
        e.vaddrs.retain(|m| m.0 != v);
    }
}

fn munmap(e: &mut Env) {
    let request = e.rng.pick(&[0u32, 1, 2, 3, u32::MAX]);
    let (v, size, fd) = e.vaddr();
    let other = if e.rng.one_in(2) {
        v
    } else {
        dict::word(&mut e.rng)
    };
    let mut a = [0u8; 32];
    a[..4].copy_from_slice(&request.to_le_bytes());
    a[4..8].copy_from_slice(&fd.to_le_bytes());
    a[8..16].copy_from_slice(&v.to_le_bytes());
    a[16..24].copy_from_slice(&other.to_le_bytes());
    a[24..].copy_from_slice(&size.to_le_bytes());
    let d = format!(
        "MUNMAP{{request={request} fd={fd} vaddr={v:#x} vaddrout={other:#x} size={size:#x}}}"
    );
    if call(e, d, uapi::DRM_IOCTL_QDA_MUNMAP, &mut a, &any(&[ARG, DSP])).is_ok() {
        e.vaddrs.retain(|m| m.0 != v && m.0 != other);
    }
}

fn simple(e: &mut Env, which: u64) {
    match which {
        0 => {
            let mut a = [0u8; 20];
            let _ = call(e, "QUERY".into(), uapi::DRM_IOCTL_QDA_QUERY, &mut a, &[]);
        }
        1 => {
            let id = dict::u32_or(&mut e.rng, &[0u32, 1, 2, 31, 32, 255, 256, 257, u32::MAX]);
            let mut a = [0u8; 8];
            a[..4].copy_from_slice(&id.to_le_bytes());
            let d = format!("GET_ATTR{{attribute_id={id:#x}}}");
            let _ = call(
                e,
                d,
                uapi::DRM_IOCTL_QDA_GET_ATTR,
                &mut a,
                &any(&[DSP, &[libc::EOVERFLOW]]),
            );
        }
        2 => {
            let mut a = [0u8; 8];
            let _ = call(
                e,
                "INIT_ATTACH".into(),
                uapi::DRM_IOCTL_QDA_INIT_ATTACH,
                &mut a,
                &any(&[START, DSP]),
            );
        }
        _ => {
            let mut a = [0u8; 8];
            let _ = call(
                e,
                "INIT_ATTACH_SNS".into(),
                uapi::DRM_IOCTL_QDA_INIT_ATTACH_SNS,
                &mut a,
                &any(&[START, DSP]),
            );
        }
    }
}

/// A request number of this node with a wrong size or direction, or one
/// past the last: the errnos of any request, or ENOTTY/EINVAL.
fn raw(e: &mut Env) {
    let nr = uapi::DRM_COMMAND_BASE + e.rng.below(0x10) as u32;
    let size = e.rng.pick(&[0usize, 1, 8, 15, 16, 17, 24, 40, 48, 63]);
    let dir = e.rng.below(4) as u32;
    let req = uapi::ioc(dir, b'd' as u32, nr, size);
    let mut a = [0u8; 64];
    for c in a.chunks_mut(8) {
        c.copy_from_slice(&dict::word(&mut e.rng).to_le_bytes());
    }
    let d = format!("raw ioctl {req:#x} arg={:x?}", &a[..size.min(64)]);
    let allowed = any(&[
        ARG,
        DSP,
        START,
        ALLOC,
        &[libc::ENOTTY, libc::EBADF, libc::EPERM, libc::EOPNOTSUPP],
    ]);
    let _ = call(e, d, req, &mut a, &allowed);
}

/// One random request on the accel node `e.fd`.
pub fn step(e: &mut Env, heap_names: bool) {
    let fd = e.fd.as_raw_fd();
    match e.rng.below(20) {
        0 | 1 => gem_create(e, false),
        2 => gem_create(e, true),
        3..=5 => {
            let w = e.rng.below(4) as u32;
            handle_op(e, w);
        }
        6 => fd_to_handle(e),
        7 | 8 => map(e),
        9 => munmap(e),
        10..=12 => ops::invoke(e, uapi::DRM_IOCTL_QDA_INVOKE, "INVOKE"),
        13 => ops::init_create(e, uapi::DRM_IOCTL_QDA_INIT_CREATE, "INIT_CREATE"),
        14 => ops::create_static(
            e,
            uapi::DRM_IOCTL_QDA_INIT_CREATE_STATIC,
            "INIT_CREATE_STATIC",
            heap_names,
        ),
        15 => {
            let w = e.rng.below(4);
            simple(e, w);
        }
        16 => raw(e),
        _ => {
            let allowed = [
                libc::EAGAIN,
                libc::EOPNOTSUPP,
                libc::EINVAL,
                libc::EACCES,
                libc::ENOMEM,
                libc::EPERM,
                libc::EOVERFLOW,
                libc::ENODEV,
            ];
            ops::mmap(e, fd, "accel node", &allowed);
        }
    }
}
