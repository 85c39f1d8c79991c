// SPDX-License-Identifier: GPL-2.0

//! A static PD reading a file of the apps side, as the sensors PD reads
//! its configuration: reverse calls the process's listener serves, one
//! per step, driven by the listener's `next2` like a skel load
//! ([`crate::reverse::loader`]):
//!
//! 1. `apps_remotectl` open of `"apps_std"` (once per process);
//! 2. `apps_std` `fopen(name, "r")` (method 0);
//! 3. `flen` (10), `fread` (4) in chunks, `fclose` (3), also after a
//!    failure once the file is open.
//!
//! Whoever asked waits on a [`ReadWait`] for the length and FNV-1a 64 of
//! the content; if the job is dropped unfinished (the process ends, the
//! DSP crashes), the wait ends with `EPIPE`.

use kernel::{
    new_condvar, new_mutex,
    prelude::*,
    sync::{
        Arc,
        CondVar,
        Mutex, //
    },
};

use crate::reverse::loader::{
    sc,
    Request, //
};

/// Largest file read.
const MAX_FILE: u64 = 64 << 10;
/// Bytes asked for per `fread`.
const CHUNK: u32 = 16 << 10;

/// The outcome of a read: `(length, FNV-1a 64)` or an errno.
pub(crate) type ReadResult = core::result::Result<(u64, u64), Error>;

/// Where the asker waits for a read's outcome.
#[pin_data]
pub(crate) struct ReadWait {
    #[pin]
    result: Mutex<Option<ReadResult>>,
    #[pin]
    cv: CondVar,
}

impl ReadWait {
    /// A fresh wait.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                result <- new_mutex!(None),
                cv <- new_condvar!(),
            }),
            GFP_KERNEL,
        )
    }

    pub(crate) fn set(&self, r: ReadResult) {
        let mut g = self.result.lock();
        if g.is_none() {
            *g = Some(r);
            self.cv.notify_all();
        }
    }

    /// Waits for the outcome; `ERESTARTSYS` if a signal comes first.
    pub(crate) fn wait(&self) -> ReadResult {
        let mut g = self.result.lock();
        while g.is_none() {
            if self.cv.wait_interruptible(&mut g) {
                return Err(ERESTARTSYS);
            }
        }
        g.take().unwrap_or(Err(EPIPE))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    OpenStd,
    Fopen,
    Flen,
    Fread,
    Fclose,
}

/// One file read in progress.
pub(crate) struct FileRead {
    path: KVec<u8>,
    /// The apps side's `apps_std` handle.
    pub(crate) std: Option<u32>,
    step: Step,
    file: u32,
    size: u64,
    got: u64,
    hash: u64,
    failure: Option<Error>,
    /// The next reverse call, not yet handed to the listener.
    pub(crate) want: Option<Request>,
    wait: Arc<ReadWait>,
}

fn word(b: &[u8], i: usize) -> u32 {
    b.get(i * 4..i * 4 + 4)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn fnv(mut h: u64, data: &[u8]) -> u64 {
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

impl FileRead {
    /// Starts reading `path`; `std` is the process's `apps_std` handle if
    /// it has one. The outcome goes to `wait`.
    pub(crate) fn new(path: &[u8], std: Option<u32>, wait: Arc<ReadWait>) -> Result<Self> {
        let mut p = KVec::new();
        p.extend_from_slice(path, GFP_KERNEL)?;
        let mut r = Self {
            path: p,
            std,
            step: Step::OpenStd,
            file: 0,
            size: 0,
            got: 0,
            hash: 0xcbf2_9ce4_8422_2325,
            failure: None,
            want: None,
            wait,
        };
        match std {
            Some(h) => r.ask_fopen(h)?,
            None => r.want = Some(Request::open_module(b"apps_std\0")?),
        }
        Ok(r)
    }

    fn ask(&mut self, handle: u32, sc: u32, ins: &[&[u8]], out_lens: &[u32]) -> Result {
        self.want = Some(Request::new(handle, sc, ins, out_lens)?);
        Ok(())
    }

    fn ask_fopen(&mut self, std: u32) -> Result {
        let mut name = KVec::new();
        name.extend_from_slice(&self.path, GFP_KERNEL)?;
        name.push(0, GFP_KERNEL)?;
        let mode = b"r\0";
        let prim = crate::dsp::skel::words(&[name.len() as u32, mode.len() as u32])?;
        self.step = Step::Fopen;
        self.ask(std, sc(0, 3, 1), &[&prim, &name, mode], &[4])
    }

    /// Asks the file operation of `step` (file already open).
    fn ask_file(&mut self, step: Step) -> Result {
        let std = self.std.unwrap_or(0);
        self.step = step;
        match step {
            Step::Flen => {
                let prim = crate::dsp::skel::words(&[self.file])?;
                self.ask(std, sc(10, 1, 1), &[&prim], &[8])
            }
            Step::Fread => {
                let n = ((self.size - self.got) as u32).min(CHUNK);
                let prim = crate::dsp::skel::words(&[self.file, n])?;
                self.ask(std, sc(4, 1, 2), &[&prim], &[8, n])
            }
            _ => {
                let prim = crate::dsp::skel::words(&[self.file])?;
                self.ask(std, sc(3, 1, 0), &[&prim], &[])
            }
        }
    }

    /// Records a failure; an open file is closed first. `true` when done.
    fn failed(&mut self, e: Error) -> Result<bool> {
        self.failure = Some(e);
        if matches!(self.step, Step::Flen | Step::Fread) {
            self.ask_file(Step::Fclose)?;
            return Ok(false);
        }
        self.wait.set(Err(e));
        Ok(true)
    }

    /// Takes in the apps side's answer to the last request (`None`:
    /// malformed). `true` once the read is over (the outcome is posted).
    pub(crate) fn answer(&mut self, result: i32, outs: Option<&[KVec<u8>]>) -> Result<bool> {
        let outs = match outs {
            Some(o) if result == 0 => o,
            _ if self.step == Step::Fclose => return self.finish(),
            _ if self.step == Step::Fopen => return self.failed(ENOENT),
            _ => return self.failed(EIO),
        };
        let w = |k: usize, i: usize| outs.get(k).map_or(0, |b| word(b, i));
        match self.step {
            Step::OpenStd => {
                if w(0, 1) != 0 || w(0, 0) == 0 {
                    return self.failed(EIO);
                }
                self.std = Some(w(0, 0));
                self.ask_fopen(w(0, 0))?;
            }
            Step::Fopen => {
                self.file = w(0, 0);
                self.ask_file(Step::Flen)?;
            }
            Step::Flen => {
                self.size = u64::from(w(0, 0)) | (u64::from(w(0, 1)) << 32);
                if self.size > MAX_FILE {
                    return self.failed(EFBIG);
                }
                let next = if self.size == 0 {
                    Step::Fclose
                } else {
                    Step::Fread
                };
                self.ask_file(next)?;
            }
            Step::Fread => return self.read(outs),
            Step::Fclose => return self.finish(),
        }
        Ok(false)
    }

    /// One `fread` answer: `{bytesRead, bEOF}` and the data.
    fn read(&mut self, outs: &[KVec<u8>]) -> Result<bool> {
        let n = outs.first().map_or(0, |b| word(b, 0)) as usize;
        let data = outs.get(1).map_or(&[][..], |b| &b[..]);
        let left = (self.size - self.got) as usize;
        if n > data.len() || n > left {
            return self.failed(EIO);
        }
        self.hash = fnv(self.hash, &data[..n]);
        self.got += n as u64;
        if self.got == self.size {
            self.ask_file(Step::Fclose)?;
        } else if n == 0 {
            return self.failed(EIO);
        } else {
            self.ask_file(Step::Fread)?;
        }
        Ok(false)
    }

    /// The file is closed: post the outcome.
    fn finish(&mut self) -> Result<bool> {
        let r = match self.failure.take() {
            Some(e) => Err(e),
            None => Ok((self.size, self.hash)),
        };
        self.wait.set(r);
        Ok(true)
    }
}

impl Drop for FileRead {
    fn drop(&mut self) {
        // Unfinished (the process or the DSP went away): the asker learns.
        self.wait.set(Err(EPIPE));
    }
}
