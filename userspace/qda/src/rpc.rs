//! Remote procedure calls: starting a DSP process and calling methods.
//!
//! Modules are opened by URI through remote control. A `file:///` URI
//! names a skel the DSP loads from the apps side, so it needs a running
//! [`crate::Listener`] to serve the DSP's file reads:
//!
//! ```no_run
//! let dsp = qda::Device::by_name("cdsp")?;
//! dsp.attach()?;
//! let listener = dsp.start_listener("/usr/lib/dsp")?;
//! let calc = dsp.open_module(
//!     "file:///libcalculator_skel.so?calculator_skel_handle_invoke&_modver=1.0&_dom=cdsp",
//! )?;
//! assert_eq!(dsp.calculator_sum(calc, &[1, 2, 3])?, 6);
//! listener.stop();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Modules linked into the DSP image are opened by bare name (the
//! simulated DSP has `calculator`, `null` and `copy`), with no listener.

use std::{
    io,
    marker::PhantomData,
    mem::size_of,
    os::fd::{AsFd, AsRawFd, BorrowedFd},
};

mod remote_error;

use remote_error::remote_result;
pub use remote_error::RemoteError;

use crate::{
    ioctl::{ioctl, ioctl_indirect, ioctl_no_arg},
    uapi, Device,
};

/// `FASTRPC_BUILD_SCALARS(attr, method, in, out, in_handles, out_handles)`.
pub const fn build_scalars(
    attr: u32,
    method: u32,
    inb: u32,
    outb: u32,
    inh: u32,
    outh: u32,
) -> u32 {
    ((attr & 7) << 29)
        | ((method & 0x1f) << 24)
        | ((inb & 0xff) << 16)
        | ((outb & 0xff) << 8)
        | ((inh & 0xf) << 4)
        | (outh & 0xf)
}

/// `FASTRPC_SCALARS(method, in, out)`.
pub const fn scalars(method: u32, inb: u32, outb: u32) -> u32 {
    build_scalars(0, method, inb, outb, 0, 0)
}

/// One argument of an invoke (`struct drm_qda_invoke_arg`).
///
/// An `Arg<'a>` borrows the buffer it names for `'a` (shared for an input,
/// exclusively for an output), so the buffer outlives every call it is
/// given to and nothing else touches an output while the kernel writes it.
/// It is neither `Copy` nor `Clone`: a copy would let two calls write one
/// output. The layout is `struct drm_qda_invoke_arg`'s (arrays of `Arg` are
/// passed to the kernel as they are).
///
/// The buffer must outlive the argument:
///
/// ```compile_fail,E0597
/// let arg = {
///     let v = vec![0u8; 8];
///     qda::rpc::Arg::input(&v)
/// };
/// # drop(arg);
/// ```
///
/// and an output is not readable while an argument names it:
///
/// ```compile_fail,E0502
/// let mut out = [0u8; 8];
/// let arg = qda::rpc::Arg::output(&mut out);
/// let seen = out[0];
/// # drop(arg);
/// # let _ = seen;
/// ```
///
/// nor can an argument be duplicated:
///
/// ```compile_fail,E0277
/// fn dup<T: Clone>(_: &T) {}
/// let mut out = [0u8; 8];
/// dup(&qda::rpc::Arg::output(&mut out));
/// ```
#[repr(transparent)]
#[derive(Debug)]
pub struct Arg<'a> {
    raw: uapi::InvokeArg,
    _buf: PhantomData<&'a mut [u8]>,
}

impl<'a> Arg<'a> {
    /// An argument of `kind`, kept in `attr` (which the kernel is given
    /// as 0: see [`kernel_view`]).
    fn new(kind: Kind, ptr: u64, length: u64, fd: i32) -> Self {
        Self {
            raw: uapi::InvokeArg {
                ptr,
                length,
                fd,
                attr: kind as u32,
            },
            _buf: PhantomData,
        }
    }

    /// An input buffer, copied into the call.
    pub fn input(b: &'a [u8]) -> Self {
        Self::new(Kind::Input, b.as_ptr() as u64, b.len() as u64, -1)
    }

    /// An output buffer, copied back after the call.
    pub fn output(b: &'a mut [u8]) -> Self {
        Self::new(Kind::Output, b.as_mut_ptr() as u64, b.len() as u64, -1)
    }

    /// Bytes `b` inside the mapping of buffer `handle` (a GEM handle of
    /// the calling file: a [`crate::Bo`], or a dma-buf imported with
    /// [`crate::Bo::import`]): passed zero copy, the DSP reading and
    /// writing the buffer's pages.
    pub fn buffer(handle: u32, b: &'a [u8]) -> Self {
        Self::new(
            Kind::ZeroCopy,
            b.as_ptr() as u64,
            b.len() as u64,
            handle as i32,
        )
    }

    /// Bytes `b` inside a mapping of dma-buf `fd` (the reference
    /// `drivers/misc/fastrpc.c` and the FastRPC library use): passed zero
    /// copy. The fd stays open as long as the `Arg` lives.
    pub fn dmabuf(fd: BorrowedFd<'a>, b: &'a [u8]) -> Self {
        Self::new(
            Kind::ZeroCopy,
            b.as_ptr() as u64,
            b.len() as u64,
            fd.as_raw_fd(),
        )
    }

    /// A buffer of `len` bytes at `ptr`, for arguments no borrow can
    /// express (an input and an output that overlap).
    ///
    /// # Safety
    ///
    /// `ptr..ptr + len` must stay valid for reads (and, for an output,
    /// writes) for `'a` and until every call that is given this `Arg` has
    /// returned, and nothing may access it while such a call writes it.
    pub unsafe fn from_raw_parts(ptr: *mut u8, len: usize) -> Self {
        Self::new(Kind::Raw, ptr as u64, len as u64, -1)
    }

    /// A buffer handle argument: `{handle, offset, len}`. It names bytes
    /// of the buffer object, not of this process, so it borrows nothing.
    pub fn handle(handle: u32, offset: u32, len: u32) -> Arg<'static> {
        Arg::new(
            Kind::Handle,
            u64::from(offset),
            u64::from(len),
            handle as i32,
        )
    }
}

pub use uapi::DRM_IOCTL_QDA_INVOKE;

/// Opens a module by URI through remote control (handle 0, method 0),
/// with `call(handle, sc, args)` doing the invoke: [`Device::open_module`],
/// or another driver's invoke (`qdactl compare` drives fastrpc.ko).
pub fn open_module_with(
    call: impl FnOnce(u32, u32, &mut [Arg]) -> io::Result<i32>,
    uri: &str,
) -> io::Result<u32> {
    let mut name = uri.as_bytes().to_vec();
    name.push(0);
    let mut err = [0u8; DLERROR_LEN];
    let prim_in = [
        (name.len() as u32).to_le_bytes(),
        (err.len() as u32).to_le_bytes(),
    ]
    .concat();
    // primROut: {handle, dlErr}.
    let mut rout = [0u8; 8];
    let mut args = [
        Arg::input(&prim_in),
        Arg::input(&name),
        Arg::output(&mut rout),
        Arg::output(&mut err),
    ];
    let r = call(0, scalars(0, 2, 2), &mut args)?;
    let word = |i: usize| u32::from_le_bytes([rout[i], rout[i + 1], rout[i + 2], rout[i + 3]]);
    match (r, word(4)) {
        (0, 0) => Ok(word(0)),
        (retval, dl_error) => {
            let text = err.split(|&b| b == 0).next().unwrap_or_default();
            Err(RemoteError {
                method: "open",
                retval,
                dl_error,
                dl_message: String::from_utf8_lossy(text).into_owned(),
            }
            .into())
        }
    }
}

/// Closes a module handle through remote control (handle 0, method 1),
/// with `call(handle, sc, args)` doing the invoke: [`Device::close_module`],
/// or another driver's invoke.
pub fn close_module_with(
    call: impl FnOnce(u32, u32, &mut [Arg]) -> io::Result<i32>,
    handle: u32,
) -> io::Result<()> {
    let mut err = [0u8; DLERROR_LEN];
    let prim_in = [handle.to_le_bytes(), (err.len() as u32).to_le_bytes()].concat();
    // primROut: {dlErr}.
    let mut rout = [0u8; 4];
    let mut args = [
        Arg::input(&prim_in),
        Arg::output(&mut rout),
        Arg::output(&mut err),
    ];
    match (
        call(0, scalars(1, 1, 2), &mut args)?,
        u32::from_le_bytes(rout),
    ) {
        (0, 0) => Ok(()),
        (retval, dl_error) => {
            let text = err.split(|&b| b == 0).next().unwrap_or_default();
            Err(RemoteError {
                method: "close",
                retval,
                dl_error,
                dl_message: String::from_utf8_lossy(text).into_owned(),
            }
            .into())
        }
    }
}

// An `Arg` is exactly a `struct drm_qda_invoke_arg`.
const _: () = assert!(size_of::<Arg<'_>>() == size_of::<uapi::InvokeArg>());
const _: () = assert!(align_of::<Arg<'_>>() == align_of::<uapi::InvokeArg>());

/// How many arguments method `sc` takes: buffers in and out, handles in
/// and out.
pub const fn arg_count(sc: u32) -> usize {
    (((sc >> 16) & 0xff) + ((sc >> 8) & 0xff) + ((sc >> 4) & 0xf) + (sc & 0xf)) as usize
}

/// What an [`Arg`] was made from; kept in its `attr` field on this side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
enum Kind {
    /// [`Arg::input`]: the kernel may only read it.
    Input = 1,
    /// [`Arg::output`].
    Output,
    /// [`Arg::buffer`], [`Arg::dmabuf`]: the DSP reaches the buffer's
    /// pages; the address only locates the bytes in it.
    ZeroCopy,
    /// [`Arg::from_raw_parts`]: the caller vouched for reads and writes.
    Raw,
    /// [`Arg::handle`]: `ptr` is an offset, not an address.
    Handle,
}

/// Runs `call` (which issues an INVOKE) on `args` as the kernel must see
/// them, once they suit method `sc`: enough of them, no [`Arg::handle`]
/// where the kernel reads or writes an address, nothing borrowed shared
/// where it writes one ([`Arg::input`], or a zero-copy argument without a
/// buffer, which the kernel copies: fd or handle 0 or -1). `attr` is 0
/// during the call, as the UAPI wants.
///
/// [`Device::invoke`] and `fastrpc_ko::Legacy::invoke` issue their
/// ioctl inside it; so must any other INVOKE of an `Arg` array.
pub fn kernel_view<R>(
    sc: u32,
    args: &mut [Arg<'_>],
    call: impl FnOnce(&mut [Arg<'_>]) -> io::Result<R>,
) -> io::Result<R> {
    check_arg_count(sc, args.len())?;
    let (inb, outb) = (((sc >> 16) & 0xff) as usize, ((sc >> 8) & 0xff) as usize);
    for (i, a) in args.iter().enumerate().take(inb + outb) {
        let kind = a.raw.attr;
        let copied = kind == Kind::Input as u32 || (kind == Kind::ZeroCopy as u32 && a.raw.fd <= 0);
        let bad = kind == Kind::Handle as u32 || (i >= inb && copied);
        if bad {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "argument {i} cannot be a {} buffer",
                    if i < inb { "input" } else { "output" }
                ),
            ));
        }
    }
    let kinds: Vec<u32> = args
        .iter_mut()
        .map(|a| std::mem::take(&mut a.raw.attr))
        .collect();
    let r = call(args);
    for (a, k) in args.iter_mut().zip(kinds) {
        a.raw.attr = k;
    }
    r
}

/// Refuses (`EINVAL`) a call whose `sc` names more arguments than `len`:
/// the kernel would read them past the array.
fn check_arg_count(sc: u32, len: usize) -> io::Result<()> {
    if arg_count(sc) > len {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "scalars {sc:#x} name {} arguments, {len} given",
                arg_count(sc)
            ),
        ));
    }
    Ok(())
}

/// Size of the `dlerror` buffers of remote control (the library's).
const DLERROR_LEN: usize = 255;

impl Device {
    /// Attaches this process to the DSP's root PD (`DRM_IOCTL_QDA_INIT_ATTACH`).
    pub fn attach(&self) -> io::Result<()> {
        ioctl_no_arg(self.as_fd(), uapi::req::INIT_ATTACH)?;
        Ok(())
    }

    /// Creates a dynamic user PD running `shell` (`DRM_IOCTL_QDA_INIT_CREATE`).
    pub fn create(&self, shell: &[u8], attrs: u32) -> io::Result<()> {
        self.init_create(uapi::InitCreate {
            filelen: shell.len() as u32,
            filefd: -1,
            attrs,
            siglen: 0,
            file: shell.as_ptr() as u64,
        })
    }

    /// Creates a dynamic user PD running `shell`, passing `reference` as
    /// its buffer reference (as the FastRPC library does).
    pub fn create_with(&self, reference: i32, shell: &[u8], attrs: u32) -> io::Result<()> {
        self.init_create(uapi::InitCreate {
            filelen: shell.len() as u32,
            filefd: reference,
            attrs,
            siglen: 0,
            file: shell.as_ptr() as u64,
        })
    }

    /// Creates a dynamic user PD running the `len`-byte shell held in
    /// buffer `handle` of this file (no mapping needed).
    pub fn create_from_buffer(&self, handle: u32, len: u32, attrs: u32) -> io::Result<()> {
        self.init_create(uapi::InitCreate {
            filelen: len,
            filefd: handle as i32,
            attrs,
            siglen: 0,
            file: 0,
        })
    }

    /// INIT_CREATE with `a`, whose `file` is 0 or the address of
    /// `filelen` bytes the caller borrows for the call.
    fn init_create(&self, mut a: uapi::InitCreate) -> io::Result<()> {
        // SAFETY: INIT_CREATE only reads through `a.file`, which is 0 (the
        // kernel faults it) or addresses the `filelen` bytes of a shell
        // slice the caller holds borrowed until we return.
        unsafe { ioctl_indirect(self.as_fd(), uapi::req::INIT_CREATE, &mut a)? };
        Ok(())
    }

    /// Calls method `sc` of remote `handle` with `args` (`DRM_IOCTL_QDA_INVOKE`).
    /// Returns the remote return value (non-errno codes as they are).
    pub fn invoke(&self, handle: u32, sc: u32, args: &mut [Arg<'_>]) -> io::Result<i32> {
        kernel_view(sc, args, |args| {
            let mut inv = uapi::Invoke {
                handle,
                sc,
                args: args.as_mut_ptr() as u64,
            };
            // SAFETY: INVOKE reads `sc`'s count of arguments from
            // `inv.args`, i.e. from `args` (an `Arg` is a `struct
            // drm_qda_invoke_arg`), which holds at least that many and
            // has none the kernel would write that is borrowed shared or
            // is no address (`kernel_view` checked); `args` is borrowed
            // until we return, as are the buffers the arguments name
            // (exclusively for outputs).
            unsafe { ioctl_indirect(self.as_fd(), uapi::req::INVOKE, &mut inv) }
        })
    }

    /// Opens a module by URI through remote control (handle 0, method 0).
    pub fn open_module(&self, uri: &str) -> io::Result<u32> {
        open_module_with(|h, sc, args| self.invoke(h, sc, args), uri)
    }

    /// Closes a module handle (handle 0, method 1).
    pub fn close_module(&self, handle: u32) -> io::Result<()> {
        close_module_with(|h, sc, args| self.invoke(h, sc, args), handle)
    }

    /// The calculator example's `sum` (method 2): copied in.
    pub fn calculator_sum(&self, handle: u32, v: &[i32]) -> io::Result<i64> {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.calculator_sum_arg(handle, v.len(), Arg::input(&bytes))
    }

    /// `sum` with the vector passed as `vec` (inline or zero copy).
    pub fn calculator_sum_arg(&self, handle: u32, len: usize, vec: Arg) -> io::Result<i64> {
        let prim = (len as u32).to_le_bytes();
        let mut out = [0u8; 8];
        let mut args = [Arg::input(&prim), vec, Arg::output(&mut out)];
        remote_result("sum", self.invoke(handle, scalars(2, 2, 1), &mut args)?)?;
        Ok(i64::from_le_bytes(out))
    }

    /// The calculator example's `max` (method 3).
    pub fn calculator_max(&self, handle: u32, v: &[i32]) -> io::Result<i32> {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        let prim = (v.len() as u32).to_le_bytes();
        let mut out = [0u8; 4];
        let mut args = [Arg::input(&prim), Arg::input(&bytes), Arg::output(&mut out)];
        remote_result("max", self.invoke(handle, scalars(3, 2, 1), &mut args)?)?;
        Ok(i32::from_le_bytes(out))
    }
}

/// `QDA_MAP_REQUEST_LEGACY`: a plain mapping (kernel pages or a buffer).
pub const MAP_LEGACY: u32 = uapi::QDA_MAP_REQUEST_LEGACY;
/// `QDA_MAP_REQUEST_ATTR`: a buffer mapping with SMMU attributes.
pub const MAP_ATTR: u32 = uapi::QDA_MAP_REQUEST_ATTR;

/// A mapping on the DSP, as [`Device::map`] made it.
#[derive(Clone, Copy, Debug)]
pub struct RemoteMapping {
    /// `MAP_LEGACY` or `MAP_ATTR`.
    pub request: u32,
    /// Buffer handle (-1: kernel pages).
    pub fd: i32,
    /// The caller's address given at map time.
    pub vaddrin: u64,
    /// The DSP's address of the mapping.
    pub vaddrout: u64,
    /// Size in bytes.
    pub size: u64,
}

impl Device {
    /// Maps memory into the DSP process (`DRM_IOCTL_QDA_MAP`): `fd` is a
    /// buffer handle of this file; -1 with `MAP_LEGACY` lets the kernel
    /// allocate the pages.
    pub fn map(&self, request: u32, fd: i32, vaddrin: u64, size: u64) -> io::Result<RemoteMapping> {
        self.map_with_flags(request, 0x1000, fd, vaddrin, size)
    }

    /// [`Device::map`] with the DSP's mapping `flags` given: `ADSP_MMAP_*`
    /// for `MAP_LEGACY`, `FASTRPC_MAP_*` for `MAP_ATTR`.
    pub fn map_with_flags(
        &self,
        request: u32,
        flags: u32,
        fd: i32,
        vaddrin: u64,
        size: u64,
    ) -> io::Result<RemoteMapping> {
        let mut a = uapi::Map {
            request,
            fd,
            vaddrin,
            size,
            flags,
            ..Default::default()
        };
        ioctl(self.as_fd(), uapi::req::MAP, &mut a)?;
        Ok(RemoteMapping {
            request,
            fd,
            vaddrin,
            vaddrout: a.vaddrout,
            size,
        })
    }

    /// Undoes a mapping (`DRM_IOCTL_QDA_MUNMAP`); attribute mappings are
    /// named by handle and DSP address, as the FastRPC library does.
    pub fn unmap(&self, m: &RemoteMapping) -> io::Result<()> {
        let mut a = uapi::Munmap {
            request: m.request,
            fd: m.fd,
            vaddr: m.vaddrout,
            vaddrout: m.vaddrout,
            size: m.size,
        };
        ioctl(self.as_fd(), uapi::req::MUNMAP, &mut a)?;
        Ok(())
    }

    /// One DSP attribute (`DRM_IOCTL_QDA_GET_ATTR`).
    pub fn attribute(&self, id: u32) -> io::Result<u32> {
        let mut a = uapi::GetAttr {
            attribute_id: id,
            value: 0,
        };
        ioctl(self.as_fd(), uapi::req::GET_ATTR, &mut a)?;
        Ok(a.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_counts_follow_the_scalars() {
        assert_eq!(arg_count(scalars(2, 0, 0)), 0);
        assert_eq!(arg_count(scalars(0, 2, 2)), 4);
        assert_eq!(arg_count(build_scalars(7, 31, 255, 255, 15, 15)), 540);
        assert_eq!(arg_count(build_scalars(0, 4, 0, 1, 1, 0)), 2);
    }

    /// A remote control that answers `open` with `retval` and `dl`.
    fn answer(retval: i32, dl: u32, text: &[u8], args: &mut [Arg<'_>]) -> io::Result<i32> {
        let rout = [7u32.to_le_bytes(), dl.to_le_bytes()].concat();
        let (n, err) = (args.len(), &args[args.len() - 1].raw);
        let rout_arg = &args[n - 2].raw;
        assert!(rout_arg.length as usize >= 4 && err.length as usize > text.len());
        // SAFETY: the two last arguments are the outputs `open_module_with`
        // and `close_module_with` made from their live buffers; `rout`'s
        // first `length` bytes and `err`'s first `text.len()` are written.
        unsafe {
            std::ptr::copy_nonoverlapping(
                rout[rout.len() - rout_arg.length as usize..].as_ptr(),
                rout_arg.ptr as *mut u8,
                rout_arg.length as usize,
            );
            std::ptr::copy_nonoverlapping(text.as_ptr(), err.ptr as *mut u8, text.len());
        }
        Ok(retval)
    }

    #[test]
    fn open_failures_are_typed() {
        assert_eq!(
            open_module_with(|_, _, a| answer(0, 0, b"", a), "x").unwrap(),
            7
        );
        let e = open_module_with(|_, _, a| answer(0, 0x406, b"gone\0", a), "x").unwrap_err();
        let r = RemoteError::of(&e).unwrap();
        assert_eq!((r.method, r.retval, r.dl_error), ("open", 0, 0x406));
        assert_eq!(r.dl_message, "gone");
        let e = open_module_with(|_, _, a| answer(-1, 0, b"", a), "x").unwrap_err();
        assert_eq!(RemoteError::of(&e).map(|r| r.retval), Some(-1));
        // A failed call is no remote error.
        let e = open_module_with(|_, _, _| Err(io::Error::from_raw_os_error(5)), "x").unwrap_err();
        assert!(RemoteError::of(&e).is_none());
    }

    #[test]
    fn close_failures_are_typed() {
        assert!(close_module_with(|_, _, a| answer(0, 0, b"", a), 30).is_ok());
        let e = close_module_with(|_, _, a| answer(0, 9, b"", a), 30).unwrap_err();
        let r = RemoteError::of(&e).unwrap();
        assert_eq!((r.method, r.retval, r.dl_error), ("close", 0, 9));
        let e = close_module_with(|_, _, a| answer(0x4e, 0, b"", a), 30).unwrap_err();
        assert_eq!(RemoteError::of(&e).map(|r| r.retval), Some(0x4e));
    }

    /// Whether `kernel_view` lets `args` through for `sc`.
    fn passes(sc: u32, args: &mut [Arg<'_>]) -> bool {
        kernel_view(sc, args, |_| Ok(())).is_ok()
    }

    #[test]
    fn the_kernel_writes_only_what_is_borrowed_for_writing() {
        let (i, mut o, mut r) = ([1u8; 4], [0u8; 4], [0u8; 4]);
        // Each argument where it belongs.
        let sc = build_scalars(0, 1, 1, 1, 1, 0);
        assert!(passes(
            sc,
            &mut [Arg::input(&i), Arg::output(&mut o), Arg::handle(3, 0, 4)]
        ));
        // An input where the kernel writes: refused.
        assert!(!passes(scalars(1, 0, 1), &mut [Arg::input(&i)]));
        // An address-less handle where the kernel reads or writes bytes.
        assert!(!passes(
            scalars(1, 1, 0),
            &mut [Arg::handle(3, 0x40_0000, 4)]
        ));
        assert!(!passes(
            scalars(1, 0, 1),
            &mut [Arg::handle(3, 0x40_0000, 4)]
        ));
        // A zero-copy output needs a buffer; without one it is copied into
        // the shared borrow.
        assert!(passes(scalars(1, 0, 1), &mut [Arg::buffer(5, &i)]));
        assert!(!passes(scalars(1, 0, 1), &mut [Arg::buffer(u32::MAX, &i)]));
        assert!(!passes(scalars(1, 0, 1), &mut [Arg::buffer(0, &i)]));
        assert!(passes(scalars(1, 1, 0), &mut [Arg::buffer(0, &i)]));
        // Raw parts are the caller's word; outputs may be read too.
        // SAFETY: `r` outlives the argument and is not used meanwhile.
        let raw = unsafe { Arg::from_raw_parts(r.as_mut_ptr(), r.len()) };
        assert!(passes(scalars(1, 1, 1), &mut [raw, Arg::output(&mut o)]));
        // Arguments past the count are not looked at.
        assert!(passes(scalars(1, 0, 0), &mut [Arg::input(&i)]));
    }

    #[test]
    fn the_kernel_sees_attr_0_and_the_kinds_come_back() {
        let (i, mut o) = ([1u8; 4], [0u8; 4]);
        let mut args = [Arg::input(&i), Arg::output(&mut o)];
        let seen = kernel_view(scalars(1, 1, 1), &mut args, |a| {
            Ok(a.iter().map(|a| a.raw.attr).collect::<Vec<_>>())
        })
        .unwrap();
        assert_eq!(seen, [0, 0]);
        // Still refused afterwards: the kinds were restored.
        args.swap(0, 1);
        assert!(!passes(scalars(1, 1, 1), &mut args));
        // A failing call is passed on.
        let e = kernel_view(scalars(1, 0, 0), &mut [], |_| -> io::Result<()> {
            Err(io::Error::from_raw_os_error(libc::EINTR))
        });
        assert!(e.is_err());
    }

    #[test]
    fn more_arguments_than_given_are_refused() {
        assert!(check_arg_count(scalars(2, 1, 1), 2).is_ok());
        assert!(check_arg_count(scalars(2, 1, 1), 3).is_ok());
        let e = check_arg_count(scalars(2, 1, 1), 1).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(check_arg_count(build_scalars(0, 0, 0, 0, 1, 0), 0).is_err());
    }
}
