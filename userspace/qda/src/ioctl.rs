//! Typed ioctl requests: the one place the crate calls `ioctl(2)`.
//!
//! A request number built with [`Ioctl::new`] carries the type of its
//! argument; the constructor checks at compile time (when it initialises a
//! `const`) that the size encoded in the number is that type's, and its
//! caller promises what the request does with the argument, so [`ioctl`]
//! itself is safe. Requests that follow pointers stored inside their
//! argument are [`IndirectIoctl`]s, issued with the `unsafe`
//! [`ioctl_indirect`] by wrappers that keep the pointed-to data borrowed.

use std::{
    io,
    marker::PhantomData,
    mem::size_of,
    os::fd::{AsRawFd, BorrowedFd},
};

/// The size field of an `_IOC` request number.
pub const fn encoded_size(req: u32) -> usize {
    ((req >> 16) & 0x3fff) as usize
}

/// Panics (a compile error in a `const`) unless `req` encodes `size`.
const fn check_size(req: u32, size: usize) {
    assert!(
        encoded_size(req) == size,
        "the request number encodes another argument size"
    );
}

/// A request whose argument is one `T` and nothing it points to.
///
/// A number that encodes another size does not compile:
///
/// ```compile_fail,E0080
/// // SAFETY: never issued.
/// const BAD: qda::ioctl::Ioctl<u64> =
///     unsafe { qda::ioctl::Ioctl::new(qda::uapi::ioc(3, b'Q' as u32, 1, 4)) };
/// let _ = BAD;
/// ```
///
/// ```
/// // SAFETY: never issued.
/// const GOOD: qda::ioctl::Ioctl<u32> =
///     unsafe { qda::ioctl::Ioctl::new(qda::uapi::ioc(3, b'Q' as u32, 1, 4)) };
/// assert_eq!(GOOD.number(), 0xc004_5101);
/// ```
pub type Ioctl<T> = Request<T, Direct>;

/// A request whose argument is one `T` holding addresses of more data the
/// kernel reads or writes.
pub type IndirectIoctl<T> = Request<T, Indirect>;

/// Kind of [`Ioctl`]: the kernel touches the `T` alone.
pub struct Direct;
/// Kind of [`IndirectIoctl`]: the kernel follows pointers in the `T`.
pub struct Indirect;

/// What a [`Request`] remembers of its types: the argument it takes by
/// `&mut`, and its kind.
type Marker<T, K> = PhantomData<(fn(&mut T), K)>;

/// A request number typed with its argument `T`, of kind `K`.
pub struct Request<T, K> {
    req: u32,
    arg: Marker<T, K>,
}

impl<T, K> Request<T, K> {
    /// Checks (at compile time in a `const`) that `req` encodes
    /// `size_of::<T>()`.
    const fn typed(req: u32) -> Self {
        check_size(req, size_of::<T>());
        Self {
            req,
            arg: PhantomData,
        }
    }

    /// The request number.
    pub const fn number(&self) -> u32 {
        self.req
    }
}

impl<T> Request<T, Direct> {
    /// Types request number `req`; fails to compile in a `const` if `req`
    /// does not encode `size_of::<T>()`.
    ///
    /// # Safety
    ///
    /// On any fd, `req` must read and write nothing but the `T` passed
    /// (it follows no pointer stored in it), and leave a valid `T` there.
    pub const unsafe fn new(req: u32) -> Self {
        Self::typed(req)
    }
}

impl<T> Request<T, Indirect> {
    /// Types request number `req`; fails to compile in a `const` if `req`
    /// does not encode `size_of::<T>()`.
    pub const fn new(req: u32) -> Self {
        Self::typed(req)
    }
}

impl<T, K> Clone for Request<T, K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, K> Copy for Request<T, K> {}

/// A request without argument (`_IO`).
#[derive(Clone, Copy)]
pub struct IoctlNoArg(u32);

impl IoctlNoArg {
    /// Types request number `req`; fails to compile in a `const` if `req`
    /// encodes an argument size.
    ///
    /// # Safety
    ///
    /// On any fd, `req` must not use its third argument (given as 0).
    pub const unsafe fn new(req: u32) -> Self {
        check_size(req, 0);
        Self(req)
    }

    /// The request number.
    pub const fn number(&self) -> u32 {
        self.0
    }
}

/// `ioctl(fd, req, arg)`: the kernel reads and writes `arg`.
pub fn ioctl<T>(fd: BorrowedFd<'_>, req: Ioctl<T>, arg: &mut T) -> io::Result<i32> {
    // SAFETY: `arg` is a valid, exclusive `T`; `Ioctl::new`'s caller
    // promised that `req` touches nothing else and leaves a valid `T`.
    unsafe { ioctl_raw(fd, req.req, (arg as *mut T).cast()) }
}

/// `ioctl(fd, req, 0)`.
pub fn ioctl_no_arg(fd: BorrowedFd<'_>, req: IoctlNoArg) -> io::Result<i32> {
    // SAFETY: `IoctlNoArg::new`'s caller promised `req` ignores its
    // argument.
    unsafe { ioctl_raw(fd, req.0, std::ptr::null_mut()) }
}

/// `ioctl(fd, req, arg)` for a request that follows pointers in `arg`.
///
/// # Safety
///
/// Every address in `arg` that `req` reads or writes through must be
/// valid for that access, for the length `arg` gives, for the whole call,
/// and nothing else may access memory the kernel writes during it.
pub unsafe fn ioctl_indirect<T>(
    fd: BorrowedFd<'_>,
    req: IndirectIoctl<T>,
    arg: &mut T,
) -> io::Result<i32> {
    // SAFETY: `arg` is a valid, exclusive `T`; what it points to is the
    // caller's promise.
    unsafe { ioctl_raw(fd, req.req, (arg as *mut T).cast()) }
}

/// `ioctl(fd, req, arg)` with any request number and argument, mapping -1
/// to the errno: for requests this crate has no type for, and for tests
/// that send malformed ones.
///
/// # Safety
///
/// `arg` must be valid for whatever `req` reads and writes through it.
pub unsafe fn ioctl_raw(fd: BorrowedFd<'_>, req: u32, arg: *mut libc::c_void) -> io::Result<i32> {
    // SAFETY: forwarded to the caller; `fd` is open for the call.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, arg) };
    // Only -1 is an error: INVOKE returns the DSP's own codes, which may be
    // negative.
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{fs::File, os::fd::AsFd};

    #[test]
    fn sizes_are_read_from_the_request_number() {
        assert_eq!(encoded_size(0xc018_6447), 24);
        assert_eq!(encoded_size(0x0000_6443), 0);
        assert_eq!(encoded_size(0x8014_6440), 20);
    }

    #[test]
    fn a_typed_request_reaches_the_kernel() {
        let f = File::open("/dev/null").unwrap();
        let mut v = 0u32;
        // SAFETY: no driver knows type 'Q' nr 0x7f on /dev/null: the
        // kernel refuses it without touching `v`.
        let req = unsafe { Ioctl::<u32>::new(crate::uapi::ioc(2, b'Q' as u32, 0x7f, 4)) };
        assert_eq!(req.number(), 0x8004_517f);
        let e = ioctl(f.as_fd(), req, &mut v).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTTY));
        assert_eq!(v, 0);
    }
}
