// SPDX-License-Identifier: GPL-2.0

//! Loading a module's skel from the apps side, as firmware's loader does
//! for `remotectl` opens of `file:///lib<name>_skel.so?...`: through
//! reverse calls the process's listener serves.
//!
//! The sequence (one reverse call per step, each answered through the
//! next `next2`):
//! 1. `apps_remotectl` open of `"apps_std"` (reverse handle 0, method 0),
//!    once per process: the handle is kept for later loads;
//! 2. `apps_std` `fopen_with_env("ADSP_LIBRARY_PATH", ";", name, "r")`
//!    (method 19): the library searches its DSP library path;
//! 3. `flen` (method 10), then `fread` (method 4) in chunks until the whole
//!    file is read, then `fclose` (method 3), also after a failure once the
//!    file is open;
//! 4. the file must be a Hexagon ELF (ELF magic, 32-bit, little-endian,
//!    `e_machine` 164, `EM_QDSP6`), then the module binds to the built-in
//!    implementation named by the file (`lib<name>_skel.so`) if the
//!    requested entry point is `<name>_skel_invoke` or
//!    `<name>_skel_handle_invoke`.
//!
//! Which `apps_std` calls the real loader issues is not visible from the
//! library (the `_fd` variants, `stat` and friends are also served); this
//! set is the one the library's own warnings point at (`fopen_with_env`
//! quietens misses of names firmware probes, `src/apps_std_imp.c`).
//! Failures are reported as firmware's `dlopen` reports them: the open
//! succeeds with a non-zero `dlErr` and a dlerror string.

use kernel::{
    prelude::*,
    str::CString, //
};

use crate::{
    dsp::{
        call::Held,
        errors::{
            AEE_EINVHANDLE,
            AEE_ENOSUCHSYMBOL, //
        }, //
    },
    pd::modules::Module,
    reverse::listener_buf, //
};

/// Length of the dlerror buffers the DSP offers the apps side.
const DLERR_LEN: u32 = 256;
/// Bytes asked for per `fread`.
const CHUNK: u64 = 64 << 10;
/// Largest skel accepted.
const MAX_SKEL: u64 = 64 << 20;
/// Length of an ELF32 header.
const EHDR_LEN: usize = 52;
/// `EM_QDSP6`: Hexagon.
const EM_QDSP6: u16 = 164;

/// A reverse call for the apps side.
pub(crate) struct Request {
    pub(crate) handle: u32,
    pub(crate) sc: u32,
    /// The packed inputs and output lengths (`listener_buf`).
    pub(crate) packed: KVec<u8>,
    pub(crate) out_lens: KVec<u32>,
}

impl Request {
    /// Method `sc` of reverse handle `handle` with inputs `ins` and
    /// outputs of `out_lens` bytes, packed for the listener.
    pub(crate) fn new(handle: u32, sc: u32, ins: &[&[u8]], out_lens: &[u32]) -> Result<Self> {
        let mut lens = KVec::new();
        lens.extend_from_slice(out_lens, GFP_KERNEL)?;
        Ok(Self {
            handle,
            sc,
            packed: listener_buf::pack_request(ins, out_lens)?,
            out_lens: lens,
        })
    }

    /// Remote control's open of module `name` (reverse handle 0, method
    /// 0): `{namelen, dlerrlen}`, the name; out `{handle, dlErr}`, dlerror.
    pub(crate) fn open_module(name: &[u8]) -> Result<Self> {
        let prim = words(&[name.len() as u32, DLERR_LEN])?;
        Self::new(0, sc(0, 2, 2), &[&prim, name], &[8, DLERR_LEN])
    }
}

/// Why a load failed: `dlErr` and the dlerror text.
pub(crate) struct Failure {
    pub(crate) code: i32,
    /// The dlerror text (`None` if it could not be allocated).
    pub(crate) msg: Option<CString>,
}

/// Where a load stands once an answer is taken in.
pub(crate) enum Progress {
    /// `want` holds the next reverse call.
    Asking,
    /// Done: the module bound, or why not.
    Done(core::result::Result<Module, Failure>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    OpenStd,
    Fopen,
    Flen,
    Fread,
    Fclose,
}

/// One skel load in progress, for the held open call `open`.
pub(crate) struct Load {
    pub(crate) open: Held,
    /// The file to read (no NUL).
    path: KVec<u8>,
    /// The requested entry point (may be empty).
    symbol: KVec<u8>,
    /// The apps side's `apps_std` handle.
    pub(crate) std: Option<u32>,
    step: Step,
    file: u32,
    size: u64,
    got: u64,
    header: KVec<u8>,
    failure: Option<Failure>,
    /// The next reverse call, not yet handed to the listener.
    pub(crate) want: Option<Request>,
}

fn copy(b: &[u8]) -> Result<KVec<u8>> {
    let mut v = KVec::new();
    v.extend_from_slice(b, GFP_KERNEL)?;
    Ok(v)
}

fn with_nul(b: &[u8]) -> Result<KVec<u8>> {
    let mut v = copy(b)?;
    v.push(0, GFP_KERNEL)?;
    Ok(v)
}

fn word(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(i * 4..i * 4 + 4)?.try_into().ok()?,
    ))
}

fn fail(code: i32, args: core::fmt::Arguments<'_>) -> Failure {
    Failure {
        code,
        msg: CString::try_from_fmt(args).ok(),
    }
}

impl Load {
    /// Starts loading `path` for the held open `open`; `std` is the
    /// process's `apps_std` handle if it has one.
    pub(crate) fn new(open: Held, path: &[u8], symbol: &[u8], std: Option<u32>) -> Result<Self> {
        let mut l = Self {
            open,
            path: copy(path)?,
            symbol: copy(symbol)?,
            std,
            step: Step::OpenStd,
            file: 0,
            size: 0,
            got: 0,
            header: KVec::new(),
            failure: None,
            want: None,
        };
        if let Some(h) = std {
            l.ask_fopen(h)?;
        } else {
            l.want = Some(Request::open_module(b"apps_std\0")?);
        }
        Ok(l)
    }

    fn ask(&mut self, handle: u32, sc: u32, ins: &[&[u8]], out_lens: &[u32]) -> Result {
        self.want = Some(Request::new(handle, sc, ins, out_lens)?);
        Ok(())
    }

    fn ask_fopen(&mut self, std: u32) -> Result {
        let (env, delim, mode) = (b"ADSP_LIBRARY_PATH\0", b";\0", b"r\0");
        let name = with_nul(&self.path)?;
        let prim = words(&[
            env.len() as u32,
            delim.len() as u32,
            name.len() as u32,
            mode.len() as u32,
        ])?;
        self.step = Step::Fopen;
        self.ask(std, sc(19, 5, 1), &[&prim, env, delim, &name, mode], &[4])
    }

    fn ask_file(&mut self, step: Step, method: u32, out_lens: &[u32]) -> Result {
        let std = self.std.unwrap_or(0);
        self.step = step;
        match step {
            Step::Fread => {
                let n = (self.size - self.got).min(CHUNK) as u32;
                let prim = words(&[self.file, n])?;
                self.ask(std, sc(method, 1, 2), &[&prim], &[8, n])
            }
            _ => {
                let prim = words(&[self.file])?;
                let outs = u32::from(!out_lens.is_empty());
                self.ask(std, sc(method, 1, outs), &[&prim], out_lens)
            }
        }
    }

    /// Records a failure; once the file is open it is closed first.
    fn failed(&mut self, f: Failure) -> Result<Progress> {
        self.failure = Some(f);
        if matches!(self.step, Step::Flen | Step::Fread) {
            self.ask_file(Step::Fclose, 3, &[])?;
            return Ok(Progress::Asking);
        }
        Ok(Progress::Done(Err(self.failure.take().unwrap_or_else(
            || fail(AEE_EINVHANDLE, format_args!("load failed")),
        ))))
    }

    /// Takes in the apps side's answer to the last request: its result and
    /// output buffers (`None` if the answer was malformed).
    pub(crate) fn answer(&mut self, result: i32, outs: Option<&[KVec<u8>]>) -> Result<Progress> {
        let path = core::str::from_utf8(&self.path).unwrap_or("?");
        let outs = match outs {
            Some(o) if result == 0 => o,
            _ => {
                let f = fail(
                    AEE_EINVHANDLE,
                    format_args!("{path}: cannot load: apps_std error {result:#x}"),
                );
                if self.step == Step::Fclose {
                    return self.finish();
                }
                return self.failed(f);
            }
        };
        let w = |k: usize, i: usize| outs.get(k).and_then(|b| word(b, i)).unwrap_or(0);
        match self.step {
            Step::OpenStd => {
                if w(0, 1) != 0 || w(0, 0) == 0 {
                    return self.failed(fail(
                        AEE_EINVHANDLE,
                        format_args!("{path}: cannot load: apps_std not available"),
                    ));
                }
                self.std = Some(w(0, 0));
                self.ask_fopen(w(0, 0))?;
            }
            Step::Fopen => {
                self.file = w(0, 0);
                self.ask_file(Step::Flen, 10, &[8])?;
            }
            Step::Flen => {
                self.size = u64::from(w(0, 0)) | (u64::from(w(0, 1)) << 32);
                if self.size < EHDR_LEN as u64 || self.size > MAX_SKEL {
                    let size = self.size;
                    return self.failed(fail(
                        AEE_EINVHANDLE,
                        format_args!("{path}: not a shared object ({size} bytes)"),
                    ));
                }
                self.ask_file(Step::Fread, 4, &[])?;
            }
            Step::Fread => return self.read(outs),
            Step::Fclose => return self.finish(),
        }
        Ok(Progress::Asking)
    }

    /// Takes in one `fread` answer: `{bytesRead, bEOF}` and the data.
    fn read(&mut self, outs: &[KVec<u8>]) -> Result<Progress> {
        let path = core::str::from_utf8(&self.path).unwrap_or("?");
        let w = |i: usize| outs.first().and_then(|b| word(b, i)).unwrap_or(0);
        let (n, eof) = (w(0) as usize, w(1) != 0);
        let data = outs.get(1).map_or(&[][..], |b| &b[..]);
        if n > data.len() {
            return self.failed(fail(AEE_EINVHANDLE, format_args!("{path}: read error")));
        }
        let keep = n.min(EHDR_LEN.saturating_sub(self.header.len()));
        self.header.extend_from_slice(&data[..keep], GFP_KERNEL)?;
        self.got += n as u64;
        if self.got == self.size {
            if let Err(f) = check_elf(&self.header, path) {
                return self.failed(f);
            }
            self.ask_file(Step::Fclose, 3, &[])?;
        } else if n == 0 || eof {
            return self.failed(fail(
                AEE_EINVHANDLE,
                format_args!("{path}: file shorter than its length"),
            ));
        } else {
            self.ask_file(Step::Fread, 4, &[])?;
        }
        Ok(Progress::Asking)
    }

    /// The file is closed: bind, or report the failure.
    fn finish(&mut self) -> Result<Progress> {
        if let Some(f) = self.failure.take() {
            return Ok(Progress::Done(Err(f)));
        }
        Ok(Progress::Done(bind(&self.path, &self.symbol)))
    }
}

/// Checks `h` (the first bytes of the file) is a Hexagon ELF32 header.
fn check_elf(h: &[u8], path: &str) -> core::result::Result<(), Failure> {
    let machine = h.get(18..20).map(|m| u16::from_le_bytes([m[0], m[1]]));
    if h.get(..4) != Some(b"\x7fELF") {
        return Err(fail(
            AEE_EINVHANDLE,
            format_args!("{path}: invalid ELF header"),
        ));
    }
    if h.get(4) != Some(&1) || h.get(5) != Some(&1) || machine != Some(EM_QDSP6) {
        return Err(fail(
            AEE_EINVHANDLE,
            format_args!("{path}: wrong ELF class or machine (not Hexagon)"),
        ));
    }
    Ok(())
}

/// Binds the built-in implementation `lib<name>_skel.so` names, checking
/// the requested entry point.
fn bind(path: &[u8], symbol: &[u8]) -> core::result::Result<Module, Failure> {
    let file = path.rsplit(|&c| c == b'/').next().unwrap_or(path);
    let name = file
        .strip_prefix(b"lib")
        .and_then(|f| f.strip_suffix(b"_skel.so"))
        .unwrap_or(file);
    fn text(b: &[u8]) -> &str {
        core::str::from_utf8(b).unwrap_or("?")
    }
    let Some(module) = Module::by_name(name) else {
        return Err(fail(
            AEE_ENOSUCHSYMBOL,
            format_args!(
                "{}: undefined symbol: no simulated implementation of {}",
                text(file),
                text(name)
            ),
        ));
    };
    let ok = symbol.is_empty()
        || (symbol
            .strip_prefix(name)
            .is_some_and(|s| s == b"_skel_invoke" || s == b"_skel_handle_invoke"));
    if !ok {
        return Err(fail(
            AEE_ENOSUCHSYMBOL,
            format_args!("{}: undefined symbol: {}", text(file), text(symbol)),
        ));
    }
    Ok(module)
}

/// `REMOTE_SCALARS_MAKE(method, ins, outs)`.
pub(crate) const fn sc(method: u32, ins: u32, outs: u32) -> u32 {
    (method << 24) | (ins << 16) | (outs << 8)
}

fn words(w: &[u32]) -> Result<KVec<u8>> {
    crate::dsp::skel::words(w)
}
