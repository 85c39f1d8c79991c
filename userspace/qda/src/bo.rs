//! Buffer objects: allocation, CPU mapping, information.

use std::{
    io,
    os::fd::{AsFd, AsRawFd, BorrowedFd},
    ptr::NonNull,
};

use crate::{ioctl::ioctl, uapi, Device};

/// A buffer object of a [`Device`]; its handle is closed on drop.
#[derive(Debug)]
pub struct Bo<'d> {
    dev: &'d Device,
    handle: u32,
}

/// Where a buffer lives and how the DSP sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoInfo {
    /// `QDA_MEM_*` backend.
    pub backend: u32,
    /// Size in bytes.
    pub size: u64,
    /// DSP address: IOVA | SID << 32 (<< 56 on Kaanapali and later SoCs).
    pub dsp_addr: u64,
}

impl<'d> Bo<'d> {
    /// Allocates `size` bytes (`DRM_IOCTL_QDA_GEM_CREATE`).
    pub fn new(dev: &'d Device, size: u64) -> io::Result<Self> {
        let mut a = uapi::GemCreate {
            size,
            ..Default::default()
        };
        ioctl(dev.as_fd(), uapi::req::GEM_CREATE, &mut a)?;
        Ok(Self {
            dev,
            handle: a.handle,
        })
    }

    /// Allocates `size` bytes from memory backend `backend` (`QDA_MEM_*`,
    /// 0 for the default) (`DRM_IOCTL_QDA_GEM_CREATE_EX`).
    pub fn new_in(dev: &'d Device, size: u64, backend: u32) -> io::Result<Self> {
        let mut a = uapi::GemCreateEx {
            size,
            backend,
            ..Default::default()
        };
        ioctl(dev.as_fd(), uapi::req::GEM_CREATE_EX, &mut a)?;
        Ok(Self {
            dev,
            handle: a.handle,
        })
    }

    /// Wraps an existing handle of `dev` (closed on drop).
    pub fn from_handle(dev: &'d Device, handle: u32) -> Self {
        Self { dev, handle }
    }

    /// The GEM handle.
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Backend, size and DSP address (`DRM_IOCTL_QDA_GEM_INFO`).
    pub fn info(&self) -> io::Result<BoInfo> {
        let mut a = uapi::GemInfo {
            handle: self.handle,
            ..Default::default()
        };
        ioctl(self.dev.as_fd(), uapi::req::GEM_INFO, &mut a)?;
        Ok(BoInfo {
            backend: a.backend,
            size: a.size,
            dsp_addr: a.dsp_addr,
        })
    }

    /// The offset to `mmap()` this buffer at (`DRM_IOCTL_QDA_GEM_MMAP_OFFSET`).
    pub fn mmap_offset(&self) -> io::Result<u64> {
        let mut a = uapi::GemMmapOffset {
            handle: self.handle,
            ..Default::default()
        };
        ioctl(self.dev.as_fd(), uapi::req::GEM_MMAP_OFFSET, &mut a)?;
        Ok(a.offset)
    }

    /// Maps the whole buffer read-write into this process.
    pub fn map(&self) -> io::Result<Mapping> {
        let len = self.info()?.size as usize;
        Mapping::new(self.dev.fd(), self.mmap_offset()?, len)
    }

    /// Exports the buffer as a dma-buf fd (`DRM_IOCTL_PRIME_HANDLE_TO_FD`).
    pub fn export(&self) -> io::Result<std::os::fd::OwnedFd> {
        let mut a = uapi::PrimeHandle {
            handle: self.handle,
            flags: (libc::O_CLOEXEC | libc::O_RDWR) as u32,
            fd: -1,
        };
        ioctl(self.dev.as_fd(), uapi::req::PRIME_HANDLE_TO_FD, &mut a)?;
        // SAFETY: the kernel returned a new fd that we now own.
        Ok(unsafe { std::os::fd::FromRawFd::from_raw_fd(a.fd) })
    }

    /// Imports a dma-buf fd (`DRM_IOCTL_PRIME_FD_TO_HANDLE`).
    pub fn import(dev: &'d Device, fd: BorrowedFd<'_>) -> io::Result<Self> {
        let mut a = uapi::PrimeHandle {
            handle: 0,
            flags: 0,
            fd: fd.as_raw_fd(),
        };
        ioctl(dev.as_fd(), uapi::req::PRIME_FD_TO_HANDLE, &mut a)?;
        Ok(Self {
            dev,
            handle: a.handle,
        })
    }

    /// Closes the handle now, returning the kernel's answer.
    pub fn close(self) -> io::Result<()> {
        let r = close_handle(self.dev.as_fd(), self.handle);
        std::mem::forget(self);
        r
    }
}

/// `DRM_IOCTL_GEM_CLOSE` on a raw handle.
pub fn close_handle(fd: BorrowedFd<'_>, handle: u32) -> io::Result<()> {
    let mut a = uapi::GemClose { handle, pad: 0 };
    ioctl(fd, uapi::req::GEM_CLOSE, &mut a)?;
    Ok(())
}

impl Drop for Bo<'_> {
    fn drop(&mut self) {
        let _ = close_handle(self.dev.as_fd(), self.handle);
    }
}

/// A CPU mapping of a buffer; unmapped on drop.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a `Mapping` owns its region as a `Box<[u8]>` owns its bytes:
// nothing ties it to the thread that made it, and `munmap` may run on any.
unsafe impl Send for Mapping {}

impl Mapping {
    /// `mmap(fd, offset, len)` read-write and shared.
    pub fn new(fd: BorrowedFd<'_>, offset: u64, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh shared mapping; the kernel validates fd/offset.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                offset as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            ptr: NonNull::new(p.cast()).expect("mmap returned NULL"),
            len,
        })
    }

    /// The mapped bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the mapping is live and `len` bytes long.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The mapped bytes, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is live, writable and `len` bytes long.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `new` mapped.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{fs::File, io::Read, os::fd::FromRawFd};

    #[test]
    fn a_mapping_of_a_borrowed_fd_shares_the_file() {
        // SAFETY: a plain system call; the fd returned is ours.
        let fd = unsafe { libc::memfd_create(c"qda-test".as_ptr(), 0) };
        assert!(fd >= 0);
        // SAFETY: `fd` is a fresh fd nobody else owns.
        let mut f = unsafe { File::from_raw_fd(fd) };
        f.set_len(4096).unwrap();
        let mut m = Mapping::new(f.as_fd(), 0, 4096).unwrap();
        m.as_mut_slice()[..4].copy_from_slice(b"qda!");
        let mut head = [0u8; 4];
        f.read_exact(&mut head).unwrap();
        assert_eq!(&head, b"qda!");
    }
}
