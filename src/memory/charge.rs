// SPDX-License-Identifier: GPL-2.0

//! A buffer's share of its file's [`Quota`], held for as long as the
//! buffer's memory lives (see [`crate::memory::limits`]).

use kernel::{
    device::Device,
    prelude::*,
    sync::Arc, //
};

use crate::memory::limits::{
    Quota,
    Refusal, //
};

/// One buffer's share of a quota; given back when dropped.
pub(crate) struct Charge {
    quota: Arc<Quota>,
    bytes: u64,
}

impl Charge {
    /// Charges a buffer of `bytes` to `quota`: `-ENOSPC` past its buffer
    /// count, `-ENOMEM` past its bytes, with a rate-limited line on `dev`.
    pub(crate) fn new(quota: &Arc<Quota>, bytes: u64, dev: &Device) -> Result<Self> {
        quota.take(bytes).map_err(|r| {
            let (held, max) = (quota.held(), quota.limits());
            crate::ratelimit::dev_ratelimited!(
                debug,
                dev,
                "a file's buffers are limited to {} and {} bytes (it holds {} and {}): {} more bytes refused\n",
                max.buffers,
                max.bytes,
                held.0,
                held.1,
                bytes
            );
            match r {
                Refusal::Count => ENOSPC,
                Refusal::Bytes => ENOMEM,
            }
        })?;
        Ok(Self {
            quota: quota.clone(),
            bytes,
        })
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.quota.give(self.bytes);
    }
}
