//! [`GemMemory`]: the memory a daemon grants its DSP process through
//! `apps_mem`, as buffers of its own file mapped into the process.
//!
//! Each grant is a GEM buffer (of the file's default memory, or a chosen
//! backend such as CMA), mapped into the daemon (its address answers
//! `vapps`) and into the DSP process with `DRM_IOCTL_QDA_MAP` (a legacy
//! mapping adding pages to the process's heap; its DSP address answers
//! `vadsp`). `request_unmap64` undoes the DSP mapping, then frees the
//! buffer.
//!
//! Difference from the FastRPC library: whatever `rflags`, `heapid` and
//! `lflags` the DSP gives, the memory is a buffer of the file. The library lets the kernel
//! allocate heap pages for `ADSP_MMAP_HEAP_ADDR`/`REMOTE_HEAP_ADDR`;
//! qda hands no pages outside the remote heap to static PDs that way.
//!
//! When the daemon ends, the grants left are freed on this side only (as
//! the library's `apps_mem_deinit` does): the kernel drops the DSP
//! mappings, and the buffers they hold, when the file is closed.

use std::sync::Arc;

use super::{
    aee,
    apps_mem::{Granted, MapRequest, Memory, ENOSUCHMAP},
};
use crate::{
    bo::close_handle,
    rpc::{RemoteMapping, MAP_LEGACY},
    Bo, Device, Mapping,
};

/// `ADSP_MMAP_ADD_PAGES`: the only legacy mapping flag qda takes.
pub const ADSP_MMAP_ADD_PAGES: u32 = 0x1000;

#[derive(Debug)]
struct Grant {
    handle: u32,
    _cpu: Mapping,
    remote: RemoteMapping,
}

/// GEM buffers of a file, granted to its DSP process.
#[derive(Debug)]
pub struct GemMemory {
    dev: Arc<Device>,
    backend: u32,
    grants: Vec<Grant>,
}

/// The errno of `e`, else `AEE_ERPC`.
fn errno(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(aee::ERPC)
}

impl GemMemory {
    /// Grants buffers of `dev` from memory backend `backend` (`QDA_MEM_*`,
    /// 0: the default).
    pub fn new(dev: Arc<Device>, backend: u32) -> Self {
        Self {
            dev,
            backend,
            grants: Vec::new(),
        }
    }
}

impl Memory for GemMemory {
    fn map(&mut self, req: &MapRequest) -> Result<Granted, i32> {
        let bo = Bo::new_in(&self.dev, req.len, self.backend).map_err(|_| aee::ENORPCMEMORY)?;
        let cpu = bo.map().map_err(|e| errno(&e))?;
        let vapps = cpu.as_slice().as_ptr() as u64;
        let remote = self
            .dev
            .map_with_flags(
                MAP_LEGACY,
                ADSP_MMAP_ADD_PAGES,
                bo.handle() as i32,
                vapps,
                req.len,
            )
            .map_err(|e| errno(&e))?;
        let handle = bo.handle();
        // The handle is closed by `unmap` or on drop from now on.
        std::mem::forget(bo);
        self.grants.push(Grant {
            handle,
            _cpu: cpu,
            remote,
        });
        Ok(Granted {
            vapps,
            vadsp: remote.vaddrout,
        })
    }

    fn unmap(&mut self, vadsp: u64, _len: u64) -> Result<(), i32> {
        let i = self
            .grants
            .iter()
            .position(|g| g.remote.vaddrout == vadsp)
            .ok_or(ENOSUCHMAP)?;
        // Kept (and still reported) if the DSP does not let go of it.
        self.dev
            .unmap(&self.grants[i].remote)
            .map_err(|e| errno(&e))?;
        let g = self.grants.remove(i);
        let _ = close_handle(self.dev.fd(), g.handle);
        Ok(())
    }

    fn grants(&self) -> usize {
        self.grants.len()
    }
}

impl Drop for GemMemory {
    fn drop(&mut self) {
        for g in self.grants.drain(..) {
            let _ = close_handle(self.dev.fd(), g.handle);
        }
    }
}
