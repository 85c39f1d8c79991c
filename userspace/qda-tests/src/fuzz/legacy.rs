//! Boundary values on every request of a legacy node
//! (`/dev/fastrpc-*`, the UAPI of `drivers/misc/fastrpc.c`: see
//! `fastrpc_ko`) and on mmap of it and of the dma-bufs it hands out.

use std::os::fd::AsRawFd;

use fastrpc_ko::*;

use super::{
    dict::{self, PAGE},
    env::Env,
    ops::{self, any, ALLOC, ARG, DSP, START},
};

fn call(e: &mut Env, desc: String, req: u32, arg: &mut [u8], allowed: &[i32]) -> Result<i32, i32> {
    e.issue(desc, req, arg.as_mut_ptr(), allowed)
}

fn put32(a: &mut [u8], o: usize, v: u32) {
    a[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(a: &mut [u8], o: usize, v: u64) {
    a[o..o + 8].copy_from_slice(&v.to_le_bytes());
}
fn get64(a: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(a[o..o + 8].try_into().unwrap_or_default())
}

fn alloc_dma_buff(e: &mut Env) {
    let size = dict::alloc_size(&mut e.rng);
    let flags = dict::u32v(&mut e.rng);
    let mut a = [0u8; 16];
    put32(&mut a, 0, u32::MAX);
    put32(&mut a, 4, flags);
    put64(&mut a, 8, size);
    let d = format!("ALLOC_DMA_BUFF{{flags={flags:#x} size={size:#x}}}");
    if call(
        e,
        d,
        FASTRPC_IOCTL_ALLOC_DMA_BUFF,
        &mut a,
        &any(&[ARG, ALLOC, &[libc::EMFILE]]),
    )
    .is_ok()
    {
        let fd = i32::from_le_bytes([a[0], a[1], a[2], a[3]]);
        if size <= 4 * PAGE && e.maps.len() < 32 {
            let len = size.max(1).next_multiple_of(PAGE);
            if let Some(a) = e.map_shared(fd, 0, len) {
                e.bufs.push((fd, a, len));
            }
        }
        e.adopt(fd, "legacy dma-buf");
    }
}

fn mmap_req(e: &mut Env) {
    let fd = if e.rng.one_in(2) { -1 } else { e.fd_ref() };
    let flags = dict::u32_or(
        &mut e.rng,
        &[0u32, ADSP_MMAP_ADD_PAGES, 0x2000, 0x4000, 0x8000, 0x1001],
    );
    let vaddrin = if e.rng.one_in(3) { e.ptr() } else { 0 };
    let size = dict::alloc_size(&mut e.rng);
    let mut a = [0u8; 32];
    put32(&mut a, 0, fd as u32);
    put32(&mut a, 4, flags);
    put64(&mut a, 8, vaddrin);
    put64(&mut a, 16, size);
    let d = format!("MMAP{{fd={fd} flags={flags:#x} vaddrin={vaddrin:#x} size={size:#x}}}");
    let allowed = any(&[ARG, ALLOC, DSP, &[libc::EBADF, libc::EPERM, libc::ENODEV]]);
    if call(e, d, FASTRPC_IOCTL_MMAP, &mut a, &allowed).is_ok() {
        let v = get64(&a, 24);
        e.vaddrs.push((v, size, fd));
        if e.rng.one_in(2) {
            munmap_exact(e, v, size);
        }
    }
}

fn munmap_exact(e: &mut Env, v: u64, size: u64) {
    let mut a = [0u8; 16];
    put64(&mut a, 0, v);
    put64(&mut a, 8, size);
    let d = format!("MUNMAP{{vaddrout={v:#x} size={size:#x}}}");
    if call(e, d, FASTRPC_IOCTL_MUNMAP, &mut a, &any(&[ARG, DSP])).is_ok() {
        e.vaddrs.retain(|m| m.0 != v);
    }
}

fn munmap(e: &mut Env) {
    let (v, size, _) = e.vaddr();
    munmap_exact(e, v, size);
}

fn mem_map(e: &mut Env) {
    let version = e.rng.pick(&[0i32, 1, -1, i32::MAX]);
    let fd = e.fd_ref();
    let offset = e.rng.pick(&[0i32, 1, 4096, -1, -4096, i32::MIN, i32::MAX]);
    let flags = dict::u32_or(
        &mut e.rng,
        &[FASTRPC_MAP_STATIC, 1, FASTRPC_MAP_FD, 3, 4, u32::MAX],
    );
    let vaddrin = e.ptr();
    let length = match e.rng.below(2) {
        0 => dict::small_len(&mut e.rng),
        _ => dict::alloc_size(&mut e.rng),
    };
    let attrs = dict::u32v(&mut e.rng);
    let reserved = if e.rng.one_in(6) {
        dict::u32v(&mut e.rng)
    } else {
        0
    };
    // Half the time a valid MEM_MAP of a dma-buf with one field (k) from
    // the dictionaries.
    let (mut fd, mut offset, mut flags, mut vaddrin, mut length, mut attrs) =
        (fd, offset, flags, vaddrin, length, attrs);
    if let Some((bfd, addr, len)) = e.buf().filter(|_| e.rng.one_in(2)) {
        let k = e.rng.below(6);
        fd = if k == 0 { fd } else { bfd };
        offset = if k == 1 { offset } else { 0 };
        flags = if k == 2 { flags } else { FASTRPC_MAP_FD };
        vaddrin = if k == 3 { vaddrin } else { addr };
        length = if k == 4 { length } else { len };
        attrs = if k == 5 { attrs } else { 0 };
    }
    let mut a = [0u8; 64];
    put32(&mut a, 0, version as u32);
    put32(&mut a, 4, fd as u32);
    put32(&mut a, 8, offset as u32);
    put32(&mut a, 12, flags);
    put64(&mut a, 16, vaddrin);
    put64(&mut a, 24, length);
    put32(&mut a, 40, attrs);
    put32(&mut a, 44, reserved);
    let d = format!(
        "MEM_MAP{{version={version} fd={fd} offset={offset} flags={flags:#x} vaddrin={vaddrin:#x} length={length:#x} attrs={attrs:#x} reserved0={reserved:#x}}}"
    );
    let allowed = any(&[
        ARG,
        ALLOC,
        DSP,
        &[libc::EBADF, libc::ENODEV, libc::EOPNOTSUPP, libc::ENOSPC],
    ]);
    if call(e, d, FASTRPC_IOCTL_MEM_MAP, &mut a, &allowed).is_ok() {
        let v = get64(&a, 32);
        e.vaddrs.push((v, length, fd));
        if e.rng.one_in(2) {
            mem_unmap_exact(e, fd, v, length);
        }
    }
}

fn mem_unmap_exact(e: &mut Env, fd: i32, v: u64, length: u64) {
    let mut a = [0u8; 48];
    put32(&mut a, 4, fd as u32);
    put64(&mut a, 8, v);
    put64(&mut a, 16, length);
    let d = format!("MEM_UNMAP{{fd={fd} vaddr={v:#x} length={length:#x}}}");
    if call(e, d, FASTRPC_IOCTL_MEM_UNMAP, &mut a, &any(&[ARG, DSP])).is_ok() {
        e.vaddrs.retain(|m| m.0 != v);
    }
}

fn mem_unmap(e: &mut Env) {
    let (v, length, fd) = e.vaddr();
    let fd = if e.rng.one_in(3) { -1 } else { fd };
    mem_unmap_exact(e, fd, v, length);
}

fn simple(e: &mut Env, which: u64) {
    match which {
        0 => {
            let id = dict::u32_or(&mut e.rng, &[0u32, 1, 2, 31, 255, 256, 257, u32::MAX]);
            let mut a = [0u8; 28];
            put32(&mut a, 0, dict::u32v(&mut e.rng));
            put32(&mut a, 4, id);
            let d = format!("GET_DSP_INFO{{attribute_id={id:#x}}}");
            let _ = call(
                e,
                d,
                FASTRPC_IOCTL_GET_DSP_INFO,
                &mut a,
                &any(&[DSP, &[libc::EOVERFLOW]]),
            );
        }
        1 => {
            let mut a = [0u8; 32];
            put32(&mut a, 0, e.rng.pick(&[0u32, 1, 2, u32::MAX]));
            put32(&mut a, 4, dict::u32v(&mut e.rng));
            if e.rng.one_in(2) {
                put32(&mut a, 8 + 4 * e.rng.below(6) as usize, 1);
            }
            let d = format!("SET_OPTION{{{:x?}}}", &a[..12]);
            let _ = call(
                e,
                d,
                FASTRPC_IOCTL_SET_OPTION,
                &mut a,
                &[libc::EINVAL, libc::EOPNOTSUPP],
            );
        }
        2 => {
            let mut a = [0u8; 8];
            let _ = call(
                e,
                "INIT_ATTACH".into(),
                FASTRPC_IOCTL_INIT_ATTACH,
                &mut a,
                &any(&[START, DSP]),
            );
        }
        3 => {
            let mut a = [0u8; 8];
            let _ = call(
                e,
                "INIT_ATTACH_SNS".into(),
                FASTRPC_IOCTL_INIT_ATTACH_SNS,
                &mut a,
                &any(&[START, DSP]),
            );
        }
        _ => {
            let mut a = [0u8; 8];
            let _ = call(
                e,
                "FREE_DMA_BUFF".into(),
                FASTRPC_IOCTL_FREE_DMA_BUFF,
                &mut a,
                &[libc::ENOTTY],
            );
        }
    }
}

/// A request number of type 'R' with a wrong size or number: ENOTTY.
fn raw(e: &mut Env) {
    let nr = e.rng.below(32) as u32;
    let size = e.rng.pick(&[0usize, 4, 15, 16, 17, 24, 28, 32, 48, 63]);
    let dir = e.rng.below(4) as u32;
    let req = qda::uapi::ioc(dir, b'R' as u32, nr, size);
    let known = [
        FASTRPC_IOCTL_ALLOC_DMA_BUFF,
        FASTRPC_IOCTL_INVOKE,
        FASTRPC_IOCTL_INIT_ATTACH,
        FASTRPC_IOCTL_INIT_CREATE,
        FASTRPC_IOCTL_MMAP,
        FASTRPC_IOCTL_MUNMAP,
        FASTRPC_IOCTL_INIT_ATTACH_SNS,
        FASTRPC_IOCTL_INIT_CREATE_STATIC,
        FASTRPC_IOCTL_MEM_MAP,
        FASTRPC_IOCTL_MEM_UNMAP,
        FASTRPC_IOCTL_SET_OPTION,
        FASTRPC_IOCTL_GET_DSP_INFO,
    ];
    if known.contains(&req) {
        return;
    }
    let mut a = [0u8; 64];
    let d = format!("raw ioctl {req:#x}");
    let _ = call(e, d, req, &mut a, &[libc::ENOTTY]);
}

/// One random request on the legacy node `e.fd`.
pub fn step(e: &mut Env, heap_names: bool) {
    let fd = e.fd.as_raw_fd();
    match e.rng.below(20) {
        0 | 1 => alloc_dma_buff(e),
        2 | 3 => mmap_req(e),
        4 => munmap(e),
        5 | 6 => mem_map(e),
        7 => mem_unmap(e),
        8..=10 => ops::invoke(e, FASTRPC_IOCTL_INVOKE, "INVOKE"),
        11 => ops::init_create(e, FASTRPC_IOCTL_INIT_CREATE, "INIT_CREATE"),
        12 => ops::create_static(
            e,
            FASTRPC_IOCTL_INIT_CREATE_STATIC,
            "INIT_CREATE_STATIC",
            heap_names,
        ),
        13 | 14 => {
            let w = e.rng.below(5);
            simple(e, w);
        }
        15 => raw(e),
        16 => {
            let allowed = [
                libc::EAGAIN,
                libc::EOPNOTSUPP,
                libc::ENODEV,
                libc::EINVAL,
                libc::EACCES,
                libc::ENOMEM,
                libc::EPERM,
                libc::EOVERFLOW,
            ];
            ops::mmap(e, fd, "legacy node", &allowed);
        }
        _ => {
            // A dma-buf this node handed out, at boundary offsets.
            let own: Vec<i32> = e
                .fds
                .iter()
                .filter(|f| f.1 == "legacy dma-buf")
                .map(|f| f.0)
                .collect();
            if let Some(&b) = own.first() {
                let b = own
                    .get(e.rng.below(own.len() as u64) as usize)
                    .copied()
                    .unwrap_or(b);
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
                ops::mmap(e, b, "legacy dma-buf", &allowed);
            }
        }
    }
}
