//! The listener: the apps-side thread that serves a DSP process's reverse
//! calls, as FastRPC clients run one per session.
//!
//! A DSP process reaches back to the apps processor through its listener:
//! the thread waits in the DSP's `next2` for a call, runs it here and
//! returns its result with the next `next2`. This is how the DSP loads a
//! module's skeleton (`file:///libX_skel.so?...`): it opens the apps-side
//! module `apps_std` through `apps_remotectl` and reads the file with
//! `fopen_with_env("ADSP_LIBRARY_PATH", ";", "libX_skel.so", "r")`,
//! `flen`, `fread` and `fclose`.
//!
//! ```no_run
//! let dsp = qda::Device::by_name("cdsp")?;
//! dsp.create(&std::fs::read("/usr/lib/dsp/fastrpc_shell_3")?, 0)?;
//! let listener = dsp.start_listener("/usr/lib/dsp")?;
//! let calc = dsp.open_module(
//!     "file:///libcalculator_skel.so?calculator_skel_handle_invoke&_modver=1.0&_dom=cdsp",
//! )?;
//! assert_eq!(dsp.calculator_sum(calc, &[1, 2, 3])?, 6);
//! let report = listener.stop(); // ends the DSP process
//! assert!(matches!(report.end, qda::listener::End::ProcessExited));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Protocol: `init2` on `adsp_listener1` (handle 7), falling back to
//! `adsp_listener` (handle 3) when the DSP does not know the first, then
//! `next2`/`get_in_bufs2` in a loop; requests and responses
//! travel in the packed format of the `packed` module. Stopping sends
//! `adsp_current_process1_exit` (handle 4), after which the DSP completes
//! the pending `next2` with `AEE_EBADSTATE` and the thread ends.
//!
//! Differences from the FastRPC library's listener: the two buffers are
//! passed inline (the library uses dma-bufs); `init2` runs before
//! [`Device::start_listener`] returns, so a DSP without a listener
//! interface is an error there (the library would run its loop anyway when
//! `init2` fails with an unexpected code); the response's length is
//! always its packed size; only `apps_std` is served, and `apps_mem` when
//! the listener is given [`Memory`] to grant (as daemons of static PDs
//! are: [`Device::listen`]); other modules fail to load, with a dlerror
//! message; and the library path is the one given, with no implicit extra
//! entry.

pub mod aee;
pub mod apps_mem;
mod apps_std;
mod files;
mod grants;
mod iface;
mod modules;
mod packed;
mod serve;
mod skel;

#[cfg(test)]
mod fake_dsp;

use std::{
    ffi::OsStr,
    io,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::{self, JoinHandle},
};

use crate::{rpc::RemoteError, Device};
pub use apps_mem::Memory;
use files::Files;
pub use grants::GemMemory;
use iface::{Channel, Iface, LISTENER, LISTENER1};
use modules::Modules;
pub use serve::End;

/// A running listener thread of one DSP process ([`Device::start_listener`]).
///
/// Dropping it stops it as [`Listener::stop`] does.
#[derive(Debug)]
pub struct Listener {
    dev: Arc<Device>,
    iface: Iface,
    exiting: Arc<AtomicBool>,
    thread: Option<JoinHandle<Report>>,
}

/// How a listener ended ([`Listener::stop`]).
#[derive(Debug)]
pub struct Report {
    /// Reverse calls served.
    pub served: u64,
    /// Why the loop ended.
    pub end: End,
    /// Modules the DSP left open (handles it did not close).
    pub open_modules: usize,
    /// Files the DSP left open (closed by the listener as it ended).
    pub open_files: usize,
    /// `apps_mem` buffers the DSP did not give back (freed on this side
    /// as the listener ended).
    pub grants: usize,
    /// The outcome of the exit call (the DSP's result word).
    pub exit: io::Result<i32>,
}

/// `init2` on `adsp_listener1`, else on `adsp_listener` when the DSP does
/// not have the first; the interface to use.
fn init(ch: &impl Channel) -> io::Result<Iface> {
    let missing = [aee::dsp(aee::ERPC), aee::dsp(aee::ENOSUCHMOD)];
    match LISTENER1.init2(ch)? {
        0 => return Ok(LISTENER1),
        c if missing.contains(&c) => {}
        c => return Err(RemoteError::new("adsp_listener1 init2", c).into()),
    }
    match LISTENER.init2(ch)? {
        0 => Ok(LISTENER),
        c => Err(RemoteError::new("adsp_listener init2", c).into()),
    }
}

impl Device {
    /// A new handle on the same open file (and so the same DSP process).
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            file: self.file.try_clone()?,
            path: self.path.clone(),
        })
    }

    /// Starts the listener of this file's DSP process (created with
    /// [`Device::create`] or attached with [`Device::attach`]): registers
    /// with the DSP (`init2`), then serves its reverse calls on a thread
    /// of its own until [`Listener::stop`].
    ///
    /// `library_path` is the `;`-separated directory list that answers the
    /// DSP's `ADSP_LIBRARY_PATH` (and `DSP_LIBRARY_PATH`) lookups; in each
    /// directory `<dir>/<dsp>/<name>` is tried before `<dir>/<name>`,
    /// `<dsp>` being this DSP's name ("cdsp", ...); an empty entry means
    /// the current directory.
    pub fn start_listener(&self, library_path: impl AsRef<OsStr>) -> io::Result<Listener> {
        self.start_listener_with(library_path, None)
    }

    /// [`Device::start_listener`], also serving `apps_mem` with `mem`.
    pub fn start_listener_with(
        &self,
        library_path: impl AsRef<OsStr>,
        mem: Option<Box<dyn Memory>>,
    ) -> io::Result<Listener> {
        let dev = Arc::new(self.try_clone()?);
        let mut modules = self.modules(library_path.as_ref(), mem)?;
        let iface = init(&*dev)?;
        let exiting = Arc::new(AtomicBool::new(false));
        let (d, e) = (Arc::clone(&dev), Arc::clone(&exiting));
        let thread = thread::Builder::new()
            .name("qda-listener".into())
            .spawn(move || run(&*d, iface, &mut modules, &e))?;
        Ok(Listener {
            dev,
            iface,
            exiting,
            thread: Some(thread),
        })
    }
}

/// A listener registered with the DSP, to be run on the calling thread
/// ([`Device::listen`]).
#[derive(Debug)]
pub struct Serving<'d> {
    dev: &'d Device,
    iface: Iface,
    modules: Modules,
}

impl Serving<'_> {
    /// Serves reverse calls until the DSP process or the DSP goes away.
    pub fn run(mut self) -> Report {
        run(
            self.dev,
            self.iface,
            &mut self.modules,
            &AtomicBool::new(false),
        )
    }
}

impl Device {
    /// Registers a listener of this file's DSP process with the DSP
    /// (`init2`), as a daemon does, serving `apps_std` (with
    /// `library_path` as for [`Device::start_listener`]) and, given
    /// `mem`, `apps_mem`. Its [`Serving::run`] serves on the calling
    /// thread; it sends no exit call.
    pub fn listen(
        &self,
        library_path: impl AsRef<OsStr>,
        mem: Option<Box<dyn Memory>>,
    ) -> io::Result<Serving<'_>> {
        let modules = self.modules(library_path.as_ref(), mem)?;
        let iface = init(self)?;
        Ok(Serving {
            dev: self,
            iface,
            modules,
        })
    }

    /// The apps-side modules of this file's process.
    fn modules(&self, library_path: &OsStr, mem: Option<Box<dyn Memory>>) -> io::Result<Modules> {
        let subsystem = self.query()?.name().to_string();
        let files = Files::new(library_path.to_owned(), subsystem);
        Ok(Modules::with_memory(files, mem))
    }
}

/// The listener loop on `ch`, then what it left behind.
fn run(ch: &impl Channel, iface: Iface, modules: &mut Modules, exiting: &AtomicBool) -> Report {
    let (served, end) = serve::serve(ch, iface, modules, exiting);
    Report {
        served,
        end,
        open_modules: modules.handles().len(),
        open_files: modules.open_files(),
        grants: modules.grants(),
        exit: Ok(0),
    }
}

impl Listener {
    /// The remote handle of the listener interface in use: 7
    /// (`adsp_listener1`) or 3 (`adsp_listener`).
    pub fn interface_handle(&self) -> u32 {
        self.iface.handle
    }

    /// Whether the thread has ended already (the DSP process is gone, or
    /// a call failed).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Ends the DSP process (`adsp_current_process1_exit`, as FastRPC
    /// clients do before joining their listener) and waits for the thread,
    /// which ends once the DSP completes its pending `next2`. The process
    /// can take no more calls afterwards.
    pub fn stop(mut self) -> Report {
        self.finish()
            .expect("the thread is only taken by stop or drop")
    }

    fn finish(&mut self) -> Option<Report> {
        let thread = self.thread.take()?;
        self.exiting.store(true, Ordering::Release);
        let exit = iface::exit(&*self.dev);
        let mut report = thread.join().unwrap_or_else(|_| Report {
            served: 0,
            end: End::Os(io::Error::other("listener thread panicked")),
            open_modules: 0,
            open_files: 0,
            grants: 0,
            exit: Ok(0),
        });
        report.exit = exit;
        Some(report)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Answers `init2` on handle 7 and 3 with canned DSP results.
    struct Inits {
        on7: i32,
        on3: i32,
        calls: RefCell<Vec<(u32, u32)>>,
    }

    impl Channel for Inits {
        fn call(&self, handle: u32, sc: u32, _: &[&[u8]], _: &mut [&mut [u8]]) -> io::Result<i32> {
            self.calls.borrow_mut().push((handle, sc));
            Ok(if handle == 7 { self.on7 } else { self.on3 })
        }
    }

    fn init_with(on7: i32, on3: i32) -> (io::Result<Iface>, Vec<(u32, u32)>) {
        let ch = Inits {
            on7,
            on3,
            calls: RefCell::new(Vec::new()),
        };
        let r = init(&ch);
        (r, ch.calls.into_inner())
    }

    #[test]
    fn init2_falls_back_to_the_non_domain_listener() {
        let (r, calls) = init_with(0, 0);
        assert_eq!(r.unwrap(), LISTENER1);
        assert_eq!(calls, [(7, 0x0500_0000)]);
        for missing in [aee::dsp(aee::ERPC), aee::dsp(aee::ENOSUCHMOD)] {
            let (r, calls) = init_with(missing, 0);
            assert_eq!(r.unwrap(), LISTENER);
            assert_eq!(calls, [(7, 0x0500_0000), (3, 0x0300_0000)]);
            let (r, _) = init_with(missing, aee::DSP_EBADSTATE);
            let e = r.unwrap_err();
            let remote = RemoteError::of(&e).expect("a remote error");
            assert_eq!(remote.retval, aee::DSP_EBADSTATE);
        }
        // Any other refusal is an error, without trying handle 3.
        let (r, calls) = init_with(aee::dsp(aee::EBADPARM), 0);
        let e = r.unwrap_err();
        assert_eq!(
            RemoteError::of(&e).map(|r| r.retval),
            Some(aee::dsp(aee::EBADPARM))
        );
        assert_eq!(calls.len(), 1);
    }
}
