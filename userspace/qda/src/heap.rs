//! Allocating dma-bufs from `/dev/dma_heap/*` (to import them into qda).

use std::{
    fs::OpenOptions,
    io,
    os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd},
    path::Path,
};

use crate::ioctl::{ioctl, Ioctl};

/// `struct dma_heap_allocation_data`.
#[repr(C)]
#[derive(Default)]
struct HeapAlloc {
    len: u64,
    fd: u32,
    fd_flags: u32,
    heap_flags: u64,
}

/// `DMA_HEAP_IOCTL_ALLOC`.
const DMA_HEAP_IOCTL_ALLOC: u32 = crate::uapi::ioc(3, b'H' as u32, 0, size_of::<HeapAlloc>());
// SAFETY: ALLOC reads and writes one `HeapAlloc` (integers only, no
// address the kernel follows).
const HEAP_ALLOC: Ioctl<HeapAlloc> = unsafe { Ioctl::new(DMA_HEAP_IOCTL_ALLOC) };

/// Allocates a `len`-byte dma-buf from heap `name` (e.g. "system").
pub fn alloc(name: &str, len: u64) -> io::Result<OwnedFd> {
    let heap = OpenOptions::new()
        .read(true)
        .open(Path::new("/dev/dma_heap").join(name))?;
    let mut a = HeapAlloc {
        len,
        fd_flags: (libc::O_RDWR | libc::O_CLOEXEC) as u32,
        ..Default::default()
    };
    ioctl(heap.as_fd(), HEAP_ALLOC, &mut a)?;
    // SAFETY: the kernel returned a new fd that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(a.fd as i32) })
}

/// Names of the dma-buf heaps of this system.
pub fn names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/dev/dma_heap")
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

const _: () = assert!(DMA_HEAP_IOCTL_ALLOC == 0xc018_4800);

/// `struct udmabuf_create`.
#[repr(C)]
struct UdmabufCreate {
    memfd: u32,
    flags: u32,
    offset: u64,
    size: u64,
}

/// `UDMABUF_CREATE`.
const UDMABUF_CREATE: u32 = crate::uapi::ioc(1, b'u' as u32, 0x42, size_of::<UdmabufCreate>());
// SAFETY: CREATE reads one `UdmabufCreate` (integers only).
const UDMABUF: Ioctl<UdmabufCreate> = unsafe { Ioctl::new(UDMABUF_CREATE) };

/// A memfd of `len` bytes and a dma-buf over it from `/dev/udmabuf`.
pub fn udmabuf(len: u64) -> io::Result<(OwnedFd, OwnedFd)> {
    // SAFETY: plain system calls on fds we own.
    unsafe {
        let memfd = libc::memfd_create(c"qda-udmabuf".as_ptr(), libc::MFD_ALLOW_SEALING);
        if memfd < 0 {
            return Err(io::Error::last_os_error());
        }
        let memfd = OwnedFd::from_raw_fd(memfd);
        if libc::ftruncate(memfd.as_raw_fd(), len as libc::off_t) != 0
            || libc::fcntl(memfd.as_raw_fd(), libc::F_ADD_SEALS, libc::F_SEAL_SHRINK) != 0
        {
            return Err(io::Error::last_os_error());
        }
        let dev = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/udmabuf")?;
        let mut a = UdmabufCreate {
            memfd: memfd.as_raw_fd() as u32,
            flags: 0x01,
            offset: 0,
            size: len,
        };
        let fd = ioctl(dev.as_fd(), UDMABUF, &mut a)?;
        Ok((memfd, OwnedFd::from_raw_fd(fd)))
    }
}

const _: () = assert!(UDMABUF_CREATE == 0x4018_7542);
