//! What a boundary-fuzzing child works with: the node it fuzzes, a
//! scratch area fenced by inaccessible pages, buffers and fds of every
//! kind (other devices, other files, non-buffers), and the record of
//! every call and its errno.

use std::{
    collections::BTreeMap,
    fs::File,
    os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd},
};

use qda::{uapi, Device};

use super::dict::{self, Rng, PAGE};

/// Bytes of the scratch area (argument arrays, names, shells, outputs).
pub const SCRATCH: usize = 64 << 10;
/// Inaccessible bytes after it: more than any length the driver accepts
/// for a copy (64 MiB payload), so an over-long copy faults there and
/// never reaches other memory of the child.
const GUARD: usize = 128 << 20;

/// Seed, target and counters of one child.
pub struct Env {
    pub rng: Rng,
    pub seed: u64,
    pub target: String,
    /// The fuzzed node.
    pub fd: OwnedFd,
    /// Start of the scratch area (one inaccessible page before it).
    pub scratch: *mut u8,
    /// `(fd, what)`: fds of other kinds and buffers of other devices.
    pub fds: Vec<(RawFd, &'static str)>,
    /// Fds this child owns (closed at exit).
    owned: Vec<OwnedFd>,
    /// GEM handles of this file (accel targets).
    pub handles: Vec<u32>,
    /// GEM handles of another file of the same device.
    pub foreign_handles: Vec<u32>,
    /// mmap offsets handed out (own and other files').
    pub offsets: Vec<u64>,
    /// Valid user mappings `(addr, len)` of buffers (zero-copy pointers).
    pub maps: Vec<(u64, u64)>,
    /// Buffers as a call names them: `(reference, mapped at, length)`.
    pub bufs: Vec<(i32, u64, u64)>,
    /// Calls that succeeded.
    pub ok: u64,
    /// DSP addresses the driver returned `(vaddrout, size, fd)`.
    pub vaddrs: Vec<(u64, u64, i32)>,
    /// The calculator's handle, if the child's DSP process has one.
    pub calc: Option<u32>,
    /// Devices kept open for the run.
    _devs: Vec<Device>,
    pub calls: u64,
    pub errnos: BTreeMap<i32, u64>,
    pub failures: Vec<String>,
    pub iter: usize,
}

/// What the last call was, for the fatal-signal handler.
static mut LAST: [u8; 512] = [0; 512];
static mut LAST_LEN: usize = 0;

extern "C" fn on_fatal(sig: libc::c_int) {
    let head = b"FAIL fatal signal during: ";
    // SAFETY: write(2) and _exit(2) are async-signal-safe; LAST is only
    // written by the (single) thread this handler interrupts, between
    // calls.
    unsafe {
        libc::write(1, head.as_ptr().cast(), head.len());
        let p = &raw const LAST;
        libc::write(1, p.cast(), LAST_LEN);
        let tail = format_sig(sig);
        libc::write(1, tail.as_ptr().cast(), tail.len());
        libc::_exit(3);
    }
}

fn format_sig(sig: i32) -> [u8; 13] {
    let mut b = *b" (signal NN)\n";
    b[9] = b'0' + (sig / 10 % 10) as u8;
    b[10] = b'0' + (sig % 10) as u8;
    b
}

fn install_fatal_handlers() {
    for sig in [libc::SIGBUS, libc::SIGSEGV] {
        // SAFETY: installs a handler that only writes and exits.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_fatal as *const () as usize;
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// An fd from a raw system-call result, if it is one.
fn owned(fd: RawFd) -> Option<OwnedFd> {
    // SAFETY: a new fd the kernel returned; we own it.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

impl Env {
    pub fn new(seed: u64, target: &str, fd: OwnedFd) -> Result<Self, String> {
        install_fatal_handlers();
        // SAFETY: a fresh anonymous reservation; only its scratch part is
        // made accessible.
        let scratch = unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                PAGE as usize + SCRATCH + GUARD,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            );
            if p == libc::MAP_FAILED {
                return Err("scratch reservation failed".into());
            }
            let s = p.cast::<u8>().add(PAGE as usize);
            if libc::mprotect(s.cast(), SCRATCH, libc::PROT_READ | libc::PROT_WRITE) != 0 {
                return Err("scratch mprotect failed".into());
            }
            s
        };
        let mut e = Self {
            rng: Rng(seed | 1),
            seed,
            target: target.to_string(),
            fd,
            scratch,
            fds: Vec::new(),
            owned: Vec::new(),
            handles: Vec::new(),
            foreign_handles: Vec::new(),
            offsets: Vec::new(),
            maps: Vec::new(),
            vaddrs: Vec::new(),
            bufs: Vec::new(),
            ok: 0,
            calc: None,
            _devs: Vec::new(),
            calls: 0,
            errnos: BTreeMap::new(),
            failures: Vec::new(),
            iter: 0,
        };
        e.other_kinds();
        Ok(e)
    }

    /// Keeps `fd` open for the run and offers it as a reference.
    pub fn keep(&mut self, fd: OwnedFd, what: &'static str) -> RawFd {
        let raw = fd.as_raw_fd();
        self.owned.push(fd);
        self.fds.push((raw, what));
        raw
    }

    /// Keeps a device open for the run.
    pub fn keep_device(&mut self, d: Device) {
        self._devs.push(d);
    }

    /// A pipe, /dev/null, an eventfd, a memfd, a closed fd number, a
    /// system-heap dma-buf and a udmabuf (where available).
    fn other_kinds(&mut self) {
        let mut p = [0; 2];
        // SAFETY: plain system calls creating fds we then own.
        unsafe {
            if libc::pipe(p.as_mut_ptr()) == 0 {
                let (r, w) = (owned(p[0]), owned(p[1]));
                r.map(|f| self.keep(f, "pipe"));
                w.map(|f| self.keep(f, "pipe"));
            }
            if let Some(f) = owned(libc::eventfd(0, 0)) {
                self.keep(f, "eventfd");
            }
            if let Some(f) = owned(libc::memfd_create(c"qda-fuzz".as_ptr(), 0)) {
                libc::ftruncate(f.as_raw_fd(), PAGE as i64);
                self.keep(f, "memfd");
            }
        }
        if let Ok(f) = File::open("/dev/null") {
            self.keep(f.into(), "/dev/null");
        }
        if let Ok(f) = File::open("/dev/null") {
            let n = f.into_raw_fd();
            // SAFETY: closes the fd just opened: its number is now stale.
            unsafe { libc::close(n) };
            self.fds.push((n, "closed fd"));
        }
        if let Ok(f) = qda::heap::alloc("system", PAGE) {
            self.map_dmabuf(&f);
            self.keep(f, "system-heap dma-buf");
        }
        if let Ok((memfd, buf)) = qda::heap::udmabuf(PAGE) {
            self.owned.push(memfd);
            self.map_dmabuf(&buf);
            self.keep(buf, "udmabuf");
        }
    }

    /// Maps dma-buf `fd` (for pointers that lie in it).
    pub fn map_dmabuf(&mut self, fd: &OwnedFd) {
        if let Some(a) = self.map_shared(fd.as_raw_fd(), 0, PAGE) {
            self.bufs.push((fd.as_raw_fd(), a, PAGE));
        }
    }

    /// A buffer `(reference, address, length)` to build a valid
    /// reference from, if any.
    pub fn buf(&mut self) -> Option<(i32, u64, u64)> {
        (!self.bufs.is_empty()).then(|| self.rng.pick(&self.bufs.clone()))
    }

    /// Maps `len` bytes of `fd` at `offset`; records the mapping.
    pub fn map_shared(&mut self, fd: RawFd, offset: u64, len: u64) -> Option<u64> {
        // SAFETY: a new shared mapping, kept for the child's life.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                offset as libc::off_t,
            )
        };
        (p != libc::MAP_FAILED).then(|| {
            self.maps.push((p as u64, len));
            p as u64
        })
    }

    /// The scratch area's address plus `off`.
    pub fn at(&self, off: usize) -> u64 {
        self.scratch as u64 + off as u64
    }

    /// Writes `v` at scratch offset `off`.
    pub fn put(&mut self, off: usize, v: &[u8]) {
        assert!(off + v.len() <= SCRATCH);
        // SAFETY: inside the accessible scratch area.
        unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), self.scratch.add(off), v.len()) };
    }

    /// Random bytes at scratch offset `off`.
    pub fn noise(&mut self, off: usize, len: usize) {
        let v: Vec<u8> = (0..len).map(|_| self.rng.next() as u8).collect();
        self.put(off, &v);
    }

    /// A pointer: into scratch (start, end, last bytes before the guard),
    /// tagged, into a buffer mapping, or inaccessible.
    pub fn ptr(&mut self) -> u64 {
        let end = self.at(SCRATCH);
        match self.rng.below(10) {
            0..=2 => self.at(16 << 10) + self.rng.below(32 << 10),
            3 => end - self.rng.pick(&[1, 8, 24, PAGE]),
            4 => end,
            5 => (0xffu64 << 56) | self.at(16 << 10),
            6 | 7 if !self.maps.is_empty() => {
                let (a, l) = self.rng.pick(&self.maps.clone());
                a + self.rng.pick(&[0, 1, l / 2, l - 1, l])
            }
            _ => dict::bad_addr(&mut self.rng),
        }
    }

    /// A buffer reference: fds of every kind, handles of this and of
    /// other files, numbers at their boundaries.
    pub fn fd_ref(&mut self) -> i32 {
        match self.rng.below(10) {
            0..=3 if !self.fds.is_empty() => self.rng.pick(&self.fds.clone()).0,
            4 => self.fd.as_raw_fd(),
            5 | 6 if !self.handles.is_empty() => self.rng.pick(&self.handles.clone()) as i32,
            7 if !self.foreign_handles.is_empty() => {
                self.rng.pick(&self.foreign_handles.clone()) as i32
            }
            _ => dict::fd_number(&mut self.rng),
        }
    }

    /// A GEM handle: own, another file's, or a boundary number.
    pub fn handle(&mut self) -> u32 {
        match self.rng.below(6) {
            0 | 1 if !self.handles.is_empty() => self.rng.pick(&self.handles.clone()),
            2 if !self.foreign_handles.is_empty() => self.rng.pick(&self.foreign_handles.clone()),
            _ => self
                .rng
                .pick(&[0, 1, 2, 100, 0x7fff_ffff, 0x8000_0000, u32::MAX]),
        }
    }

    /// A DSP address: one the driver returned, or a boundary word.
    pub fn vaddr(&mut self) -> (u64, u64, i32) {
        if !self.vaddrs.is_empty() && self.rng.one_in(2) {
            let (v, s, fd) = self.rng.pick(&self.vaddrs.clone());
            let s = if self.rng.one_in(3) {
                dict::len(&mut self.rng, v)
            } else {
                s
            };
            return (v, s, fd);
        }
        let v = dict::word(&mut self.rng);
        (v, dict::len(&mut self.rng, v), self.fd_ref())
    }

    /// Issues `req` with argument `arg` (`desc` describes it) on the
    /// fuzzed node: the errno must be in `allowed`. Returns the result.
    pub fn issue(
        &mut self,
        desc: String,
        req: u32,
        arg: *mut u8,
        allowed: &[i32],
    ) -> Result<i32, i32> {
        self.note(&desc);
        // SAFETY: every address the argument holds is scratch memory, a
        // mapping of a buffer (both writable, no other data of this
        // child lies behind them), or inaccessible: the kernel must
        // check them.
        let r = unsafe { libc::ioctl(self.fd.as_raw_fd(), req as _, arg) };
        self.outcome(desc, r, allowed)
    }

    /// Records the result `r` of call `desc`.
    pub fn outcome(&mut self, desc: String, r: i32, allowed: &[i32]) -> Result<i32, i32> {
        self.calls += 1;
        if r != -1 {
            self.ok += 1;
            return Ok(r);
        }
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        *self.errnos.entry(errno).or_default() += 1;
        if !allowed.contains(&errno) && self.failures.len() < 20 {
            self.failures.push(format!(
                "FAIL seed={:#x} target={} uid={} iter={}: {desc} -> errno {errno} (allowed {allowed:?})",
                self.seed,
                self.target,
                // SAFETY: getuid cannot fail.
                unsafe { libc::getuid() },
                self.iter
            ));
        }
        Err(errno)
    }

    /// Remembers `desc` as the call in progress (and prints it when
    /// tracing).
    pub fn note(&mut self, desc: &str) {
        if std::env::var_os("qda_fuzz_trace").is_some() {
            println!("fuzz: {} iter {}: {desc}", self.target, self.iter);
        }
        let b = desc.as_bytes();
        let n = b.len().min(511);
        // SAFETY: single-threaded child; the handler reads LAST only when
        // it interrupts this thread, which is then not writing it.
        unsafe {
            let p = &raw mut LAST;
            std::ptr::copy_nonoverlapping(b.as_ptr(), p.cast::<u8>(), n);
            LAST_LEN = n;
        }
    }

    /// Closes own fds of successful calls beyond the last few, so that
    /// they do not pile up.
    pub fn adopt(&mut self, fd: RawFd, what: &'static str) {
        if let Some(f) = owned(fd) {
            self.keep(f, what);
        }
        let extra = self.owned.len().saturating_sub(24);
        if extra > 0 {
            let gone: Vec<OwnedFd> = self.owned.drain(8..8 + extra).collect();
            let raws: Vec<RawFd> = gone.iter().map(|f| f.as_raw_fd()).collect();
            self.fds.retain(|(f, _)| !raws.contains(f));
            self.bufs.retain(|(f, _, _)| !raws.contains(f));
        }
    }

    /// The report line of a finished child.
    pub fn summary(&self) -> String {
        let e: Vec<String> = self
            .errnos
            .iter()
            .map(|(k, v)| format!("{k}x{v}"))
            .collect();
        format!(
            "fuzz: {} seed={:#x} iterations={} calls={} succeeded={} errnos {}",
            self.target,
            self.seed,
            self.iter,
            self.calls,
            self.ok,
            e.join(",")
        )
    }
}

/// A GEM handle's mmap offset on `fd`.
pub fn mmap_offset(fd: RawFd, handle: u32) -> Option<u64> {
    let mut a = uapi::GemMmapOffset {
        handle,
        pad: 0,
        offset: 0,
    };
    // SAFETY: GEM_MMAP_OFFSET reads and writes `a` only.
    let r = unsafe { libc::ioctl(fd, uapi::DRM_IOCTL_QDA_GEM_MMAP_OFFSET as _, &mut a) };
    (r == 0).then_some(a.offset)
}
