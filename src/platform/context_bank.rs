// SPDX-License-Identifier: GPL-2.0

//! A context bank: one `qcom,fastrpc-compute-cb` device with its own IOMMU
//! domain (stream id `sid`), and the payload buffers cached on it.

use kernel::{
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
};

use crate::{
    ffi::{
        bus::CbDevice,
        dma::CoherentBuf, //
    },
    platform::topology::{
        AddrLayout,
        Window, //
    },
};

/// A context bank and its device.
#[pin_data]
pub(crate) struct ContextBank {
    /// Payload buffers of finished calls, reused by later ones (declared
    /// first: they are freed before the device goes).
    #[pin]
    payloads: Mutex<KVec<CoherentBuf>>,
    /// The bus device with the CB's IOMMU domain.
    pub(crate) dev: CbDevice,
    /// Stream id, the DSP address prefix.
    pub(crate) sid: u32,
    /// Where the SoC puts the SID, and the CB's DMA width.
    layout: AddrLayout,
}

/// Payload buffers kept per context bank.
const PAYLOAD_CACHE: usize = 4;
/// Largest payload buffer kept: small calls gain most from reuse, and a
/// CB never holds more than `PAYLOAD_CACHE` times this much idle memory.
const PAYLOAD_CACHE_MAX_SIZE: usize = 1 << 20;

impl ContextBank {
    /// A context bank over `dev` with stream id `sid`, addressed by the
    /// DSP as `layout` says.
    pub(crate) fn new(dev: CbDevice, sid: u32, layout: AddrLayout) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                payloads <- kernel::new_mutex!(KVec::new()),
                dev,
                sid,
                layout,
            }),
            GFP_KERNEL,
        )
    }

    /// This CB's window in the DSP's address space.
    pub(crate) fn window(&self) -> Window {
        Window {
            sid: self.sid,
            layout: self.layout,
        }
    }

    /// A zeroed payload buffer of `size` bytes (a page multiple): a cached
    /// one if one fits (at most four times larger), else a new one.
    pub(crate) fn take_payload(&self, size: usize) -> Result<CoherentBuf> {
        let cached = {
            let mut c = self.payloads.lock();
            c.iter()
                .position(|b| b.size() >= size && b.size() <= size.saturating_mul(4))
                .map(|i| c.remove(i))
        };
        match cached {
            Some(Ok(mut b)) => {
                // All of it: the tail may hold an earlier process's data.
                b.zero();
                Ok(b)
            }
            _ => CoherentBuf::new(self.dev.as_ref(), size),
        }
    }

    /// Returns a payload buffer for reuse (or frees it if it is large or
    /// enough are kept).
    pub(crate) fn give_back(&self, buf: CoherentBuf) {
        if buf.size() > PAYLOAD_CACHE_MAX_SIZE {
            return;
        }
        let mut c = self.payloads.lock();
        if c.len() < PAYLOAD_CACHE {
            // On allocation failure the buffer is simply freed.
            let _ = c.push(buf, GFP_KERNEL);
        }
    }
}
