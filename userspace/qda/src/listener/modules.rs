//! The apps-side modules a DSP process can call, and `apps_remotectl`
//! (reverse handle 0), through which it opens and closes them.
//!
//! The static modules `apps_std` and, when the listener was given memory
//! to grant, `apps_mem` are served. Opening any other name
//! (`adspmsgd_apps`, a `lib<name>_skel.so` the library would
//! `dlopen`) succeeds as a call but reports a load failure, as the FastRPC
//! library does for a module it cannot load: result 0, handle 0, `dlErr`
//! `AEE_EINVHANDLE` and a message in the dlerror buffer.

use super::{
    aee,
    apps_mem::{self, Memory},
    apps_std,
    files::Files,
    skel::{copy_cstr, method, Call},
};

/// The most reverse handles open at once (as in the library).
pub const MAX_OPEN: usize = 20;
/// The handle of the first open module; later ones follow.
pub const HANDLE_BASE: u32 = 0x0a50_0100;
/// The stdio module, always served.
pub const APPS_STD: &[u8] = b"apps_std";
/// The memory module, served with a [`Memory`].
pub const APPS_MEM: &[u8] = b"apps_mem";

#[derive(Debug)]
struct Open {
    handle: u32,
    name: Vec<u8>,
    refs: u32,
}

/// The modules open on behalf of one DSP process.
pub struct Modules {
    open: Vec<Open>,
    files: Files,
    mem: Option<Box<dyn Memory>>,
}

impl core::fmt::Debug for Modules {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Modules")
            .field("open", &self.open)
            .field("files", &self.files)
            .field("grants", &self.grants())
            .finish()
    }
}

impl Modules {
    /// Nothing open; `apps_std` will serve `files`.
    #[cfg(test)]
    pub fn new(files: Files) -> Self {
        Self::with_memory(files, None)
    }

    /// Nothing open; `apps_std` will serve `files` and, if given,
    /// `apps_mem` will grant `mem`.
    pub fn with_memory(files: Files, mem: Option<Box<dyn Memory>>) -> Self {
        Self {
            open: Vec::new(),
            files,
            mem,
        }
    }

    /// Buffers `apps_mem` granted and the DSP did not give back.
    pub fn grants(&self) -> usize {
        self.mem.as_ref().map_or(0, |m| m.grants())
    }

    /// Whether module `name` can be opened.
    fn served(&self, name: &[u8]) -> bool {
        name == APPS_STD || (name == APPS_MEM && self.mem.is_some())
    }

    /// FILEs open.
    pub fn open_files(&self) -> usize {
        self.files.count()
    }

    /// Open handles, with their reference counts.
    pub fn handles(&self) -> Vec<(u32, u32)> {
        self.open.iter().map(|o| (o.handle, o.refs)).collect()
    }

    /// Runs reverse call `call` on `handle`; returns its result.
    pub fn invoke(&mut self, handle: u32, call: &mut Call<'_, '_>) -> i32 {
        if handle == 0 {
            return match self.remotectl(call) {
                Ok(()) => 0,
                Err(e) => e,
            };
        }
        let Some(o) = self.open.iter().find(|o| o.handle == handle) else {
            return aee::ENOSUCHMOD;
        };
        match (o.name.as_slice(), self.mem.as_deref_mut()) {
            (APPS_MEM, Some(mem)) => apps_mem::invoke(mem, call),
            _ => apps_std::invoke(&mut self.files, call),
        }
    }

    fn remotectl(&mut self, c: &mut Call<'_, '_>) -> Result<(), i32> {
        match method(c.sc) {
            0 => self.open(c),
            1 => self.close(c),
            _ => Err(aee::EUNSUPPORTED),
        }
    }

    /// open(name, dlerror[dlerrorLen]) -> (handle, dlErr).
    fn open(&mut self, c: &mut Call<'_, '_>) -> Result<(), i32> {
        c.expect(2, 2, 8, 8)?;
        let name = c.string(1, c.word(0))?.to_vec();
        let dlerr_len = c.word(1);
        c.out(1, dlerr_len)?;
        let (handle, dl_err) = if let Some(o) = self.open.iter_mut().find(|o| o.name == name) {
            o.refs += 1;
            (o.handle, 0)
        } else if self.served(&name) {
            (self.add(name)?, 0)
        } else {
            let msg = format!(
                "{}: no such module on the apps side (this listener serves {})",
                String::from_utf8_lossy(&name),
                if self.mem.is_some() {
                    "apps_std and apps_mem"
                } else {
                    "apps_std only"
                }
            );
            copy_cstr(c.out(1, dlerr_len)?, msg.as_bytes());
            (0, aee::EINVHANDLE)
        };
        c.put(0, &handle.to_le_bytes());
        c.put(4, &dl_err.to_le_bytes());
        Ok(())
    }

    fn add(&mut self, name: Vec<u8>) -> Result<u32, i32> {
        let handle = (HANDLE_BASE..)
            .take(MAX_OPEN)
            .find(|h| self.open.iter().all(|o| o.handle != *h))
            .ok_or(aee::EINVHANDLE)?;
        self.open.push(Open {
            handle,
            name,
            refs: 1,
        });
        Ok(handle)
    }

    /// close(handle, dlerror[dlerrorLen]) -> dlErr.
    fn close(&mut self, c: &mut Call<'_, '_>) -> Result<(), i32> {
        c.expect(1, 2, 8, 4)?;
        let handle = c.word(0);
        c.out(1, c.word(1))?;
        let i = self
            .open
            .iter()
            .position(|o| o.handle == handle)
            .ok_or(aee::ENOSUCHMOD)?;
        self.open[i].refs -= 1;
        if self.open[i].refs == 0 {
            self.open.remove(i);
        }
        c.put(0, &0u32.to_le_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::scalars;
    use std::ffi::OsString;

    fn modules() -> Modules {
        Modules::new(Files::new(OsString::new(), "cdsp".into()))
    }

    /// open(name) with a `dlerr`-byte dlerror buffer: (result, handle,
    /// dlErr, dlerror text).
    fn open(m: &mut Modules, name: &[u8], dlerr: u32) -> (i32, u32, i32, String) {
        let mut z = name.to_vec();
        z.push(0);
        let prim = [(z.len() as u32).to_le_bytes(), dlerr.to_le_bytes()].concat();
        let ins: [&[u8]; 2] = [&prim, &z];
        let mut outs = vec![vec![0u8; 8], vec![0u8; dlerr as usize]];
        let r = m.invoke(
            0,
            &mut Call {
                sc: scalars(0, 2, 2),
                ins: &ins,
                outs: &mut outs,
            },
        );
        let text = outs[1].split(|&c| c == 0).next().unwrap_or_default();
        (
            r,
            u32::from_le_bytes(outs[0][..4].try_into().unwrap()),
            i32::from_le_bytes(outs[0][4..].try_into().unwrap()),
            String::from_utf8_lossy(text).into_owned(),
        )
    }

    fn close(m: &mut Modules, handle: u32) -> i32 {
        let prim = [handle.to_le_bytes(), 16u32.to_le_bytes()].concat();
        let ins: [&[u8]; 1] = [&prim];
        let mut outs = vec![vec![0u8; 4], vec![0u8; 16]];
        m.invoke(
            0,
            &mut Call {
                sc: scalars(1, 1, 2),
                ins: &ins,
                outs: &mut outs,
            },
        )
    }

    #[test]
    fn apps_std_opens_and_counts_references() {
        let mut m = modules();
        let (r, h, dl, text) = open(&mut m, b"apps_std", 256);
        assert_eq!((r, dl, text.as_str()), (0, 0, ""));
        assert!(h != 0);
        let (_, h2, _, _) = open(&mut m, b"apps_std", 256);
        assert_eq!(h2, h);
        assert_eq!(m.handles(), vec![(h, 2)]);
        assert_eq!(close(&mut m, h), 0);
        assert_eq!(close(&mut m, h), 0);
        assert_eq!(close(&mut m, h), aee::ENOSUCHMOD);
        assert!(m.handles().is_empty());
    }

    #[test]
    fn other_modules_fail_to_load_with_a_dlerror() {
        let mut m = modules();
        for name in [
            &b"apps_mem"[..],
            b"adspmsgd_apps",
            b"file:///libfoo_skel.so?foo_skel_invoke",
        ] {
            let (r, h, dl, text) = open(&mut m, name, 255);
            assert_eq!((r, h, dl), (0, 0, aee::EINVHANDLE));
            assert!(
                text.starts_with(std::str::from_utf8(name).unwrap()),
                "{text}"
            );
        }
        // A short dlerror buffer gets a truncated, terminated message.
        let (r, _, dl, text) = open(&mut m, b"apps_mem", 5);
        assert_eq!((r, dl, text.as_str()), (0, aee::EINVHANDLE, "apps"));
        assert!(m.handles().is_empty());
    }

    #[test]
    fn calls_on_handles_route_to_apps_std() {
        let mut m = modules();
        let (_, h, _, _) = open(&mut m, b"apps_std", 0);
        let prim = 123u32.to_le_bytes();
        let ins: [&[u8]; 1] = [&prim];
        let mut outs = vec![vec![0u8; 8]];
        let mut call = Call {
            sc: scalars(10, 1, 1),
            ins: &ins,
            outs: &mut outs,
        };
        assert_eq!(m.invoke(h, &mut call), libc::EBADF);
        assert_eq!(m.invoke(h + 1, &mut call), aee::ENOSUCHMOD);
        assert_eq!(close(&mut m, h), 0);
        assert_eq!(m.invoke(h, &mut call), aee::ENOSUCHMOD);
    }

    #[test]
    fn malformed_remotectl_calls() {
        let mut m = modules();
        // Name length without its NUL.
        let prim = [8u32.to_le_bytes(), 0u32.to_le_bytes()].concat();
        let ins: [&[u8]; 2] = [&prim, b"apps_std"];
        let mut outs = vec![vec![0u8; 8], vec![]];
        let mut call = Call {
            sc: scalars(0, 2, 2),
            ins: &ins,
            outs: &mut outs,
        };
        assert_eq!(m.invoke(0, &mut call), aee::EBADPARM);
        call.sc = scalars(2, 2, 2);
        assert_eq!(m.invoke(0, &mut call), aee::EUNSUPPORTED);
        assert!(m.handles().is_empty());
    }

    #[test]
    fn apps_mem_is_served_with_memory_and_routed_by_name() {
        use super::apps_mem::fake::FakeMemory;
        let files = Files::new(OsString::new(), "adsp".into());
        let mut m = Modules::with_memory(files, Some(Box::new(FakeMemory::default())));
        let (r, mem, dl, _) = open(&mut m, b"apps_mem", 64);
        assert_eq!((r, dl), (0, 0));
        let (_, std, _, _) = open(&mut m, b"apps_std", 64);
        assert!(mem != 0 && std != mem);
        // request_map64 of 2 pages on the apps_mem handle.
        let mut prim = vec![0u8; 32];
        prim[8..12].copy_from_slice(&0x1000u32.to_le_bytes());
        prim[24..32].copy_from_slice(&8192u64.to_le_bytes());
        let ins: [&[u8]; 1] = [&prim];
        let mut outs = vec![vec![0u8; 16]];
        let mut call = Call {
            sc: scalars(2, 1, 1),
            ins: &ins,
            outs: &mut outs,
        };
        assert_eq!(m.invoke(mem, &mut call), 0);
        assert_eq!(m.grants(), 1);
        // The same call on the apps_std handle is apps_std's method 2
        // (fflush, refused for its arguments): no grant.
        let mut outs = vec![vec![0u8; 16]];
        let mut call = Call {
            sc: scalars(2, 1, 1),
            ins: &ins,
            outs: &mut outs,
        };
        assert_ne!(m.invoke(std, &mut call), 0);
        assert_eq!(m.grants(), 1);
    }

    #[test]
    fn at_most_twenty_handles() {
        let mut m = modules();
        for _ in 0..MAX_OPEN {
            assert_eq!(m.add(b"x".to_vec()).map(|h| h >= HANDLE_BASE), Ok(true));
        }
        assert_eq!(m.add(b"y".to_vec()), Err(aee::EINVHANDLE));
    }
}
