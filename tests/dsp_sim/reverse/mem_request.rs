// SPDX-License-Identifier: GPL-2.0

//! The audio PD asking the apps side for memory when its heap is full,
//! and giving it back: `apps_mem` reverse calls its daemon serves
//! (`adsprpcd audiopd`, `qdactl daemon audiopd`), marshalled as the
//! library's `apps_mem` interface (`inc/apps_mem.h`):
//!
//! 1. `apps_remotectl` open of `"apps_mem"` (reverse handle 0, method 0);
//! 2. `request_map64` (method 2): in `{heapid, lflags, rflags, pad, vin:
//!    u64, len: i64}` (32 bytes), out `{vapps: u64, vadsp: u64}`; the
//!    daemon maps the memory into the process (a FastRPC MMAP the DSP
//!    sees) and answers its DSP address;
//! 3. `request_unmap64` (method 3): in `{vadsp: u64, len: i64}`.
//!
//! The outcome goes to a [`ReadWait`]: `(vadsp, 0)` for a map, `(0, 0)`
//! for an unmap.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use crate::reverse::{
    file_read::ReadWait,
    loader::{
        sc,
        Request, //
    }, //
};

/// `rflags` of a heap-growth map: `ADSP_MMAP_ADD_PAGES`, pages added to
/// the PD's heap. The library's `apps_mem_request_map64`
/// (`src/apps_mem_imp.c`) then has the kernel allocate them for a signed
/// PD such as the audio PD (`FASTRPC_IOCTL_MMAP` without a buffer), the
/// only form `drivers/misc/fastrpc.c` serves: other flags make the library
/// map a buffer of its own with those flags, which that driver refuses
/// (`EINVAL`), so firmware asking with them could never grow its heap
/// through the library's daemon.
const RFLAGS: u32 = 0x1000;

/// What to ask of `apps_mem`.
#[derive(Clone, Copy)]
pub(crate) enum MemOp {
    /// `len` more bytes.
    Map(u64),
    /// Give back `(vadsp, len)`.
    Unmap(u64, u64),
}

/// One `apps_mem` request in progress.
pub(crate) struct MemRequest {
    op: MemOp,
    opened: bool,
    /// The next reverse call, not yet handed to the listener.
    pub(crate) want: Option<Request>,
    wait: Arc<ReadWait>,
}

/// `n` little-endian bytes of `v` appended to `b`.
fn put(b: &mut KVec<u8>, v: u64, n: usize) -> Result {
    b.extend_from_slice(&v.to_le_bytes()[..n], GFP_KERNEL)?;
    Ok(())
}

impl MemRequest {
    /// Starts `op`, the apps side's `apps_mem` handle being `handle` if
    /// the process has one.
    pub(crate) fn new(op: MemOp, handle: Option<u32>, wait: Arc<ReadWait>) -> Result<Self> {
        let mut r = Self {
            op,
            opened: false,
            want: None,
            wait,
        };
        match handle {
            Some(h) => r.ask_op(h)?,
            None => r.want = Some(Request::open_module(b"apps_mem\0")?),
        }
        Ok(r)
    }

    fn ask_op(&mut self, h: u32) -> Result {
        self.opened = true;
        let mut prim = KVec::new();
        self.want = Some(match self.op {
            MemOp::Map(len) => {
                for w in [0u64, 0, u64::from(RFLAGS), 0] {
                    put(&mut prim, w, 4)?;
                }
                put(&mut prim, 0, 8)?;
                put(&mut prim, len, 8)?;
                Request::new(h, sc(2, 1, 1), &[&prim], &[16])?
            }
            MemOp::Unmap(vadsp, len) => {
                put(&mut prim, vadsp, 8)?;
                put(&mut prim, len, 8)?;
                Request::new(h, sc(3, 1, 0), &[&prim], &[])?
            }
        });
        Ok(())
    }

    /// Takes in the apps side's answer; `Some(handle)` of `apps_mem` once
    /// it is known, and whether the request is over (outcome posted).
    pub(crate) fn answer(
        &mut self,
        result: i32,
        outs: Option<&[KVec<u8>]>,
    ) -> Result<(Option<u32>, bool)> {
        let Some(outs) = outs.filter(|_| result == 0) else {
            self.wait.set(Err(ENOMEM));
            return Ok((None, true));
        };
        let word = |k: usize, i: usize| {
            outs.get(k)
                .and_then(|b| b.get(i * 4..i * 4 + 4))
                .and_then(|w| w.try_into().ok())
                .map_or(0, u32::from_le_bytes)
        };
        if !self.opened {
            let h = word(0, 0);
            if h == 0 || word(0, 1) != 0 {
                self.wait.set(Err(ENOMEM));
                return Ok((None, true));
            }
            self.ask_op(h)?;
            return Ok((Some(h), false));
        }
        let vadsp = u64::from(word(0, 2)) | (u64::from(word(0, 3)) << 32);
        self.wait.set(Ok(match self.op {
            MemOp::Map(_) => (vadsp, 0),
            MemOp::Unmap(..) => (0, 0),
        }));
        Ok((None, true))
    }
}

impl Drop for MemRequest {
    fn drop(&mut self) {
        // Unfinished (the daemon or the DSP went away): the asker learns.
        self.wait.set(Err(EPIPE));
    }
}
