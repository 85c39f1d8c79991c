// SPDX-License-Identifier: GPL-2.0

//! Rate limiting of log lines that userspace or the DSP can trigger at
//! will (the 7.3 `kernel` crate has no `pr_*_ratelimited!`).
//!
//! Each call site of [`dev_ratelimited!`] gets its own [`RateLimit`]:
//! at most [`BURST`] lines per [`INTERVAL_NS`], like the kernel's default
//! `DEFINE_RATELIMIT_STATE`; the first line of a new window reports how
//! many were suppressed in the previous one.

use core::sync::atomic::{
    AtomicU32,
    AtomicU64,
    Ordering, //
};

/// Length of a window.
pub(crate) const INTERVAL_NS: u64 = 5_000_000_000;
/// Lines let through per window.
pub(crate) const BURST: u32 = 10;

/// The state of one call site.
pub(crate) struct RateLimit {
    start: AtomicU64,
    printed: AtomicU32,
    missed: AtomicU32,
}

impl RateLimit {
    /// A limiter whose first window starts at the first line.
    pub(crate) const fn new() -> Self {
        Self {
            start: AtomicU64::new(0),
            printed: AtomicU32::new(0),
            missed: AtomicU32::new(0),
        }
    }

    /// Whether a line may be printed at time `now_ns`; `Some(n)` with the
    /// number of lines suppressed since the last one printed, `None` if
    /// this one is suppressed. Racing callers may let a line or two more
    /// through at a window boundary, never fewer.
    pub(crate) fn check(&self, now_ns: u64) -> Option<u32> {
        let start = self.start.load(Ordering::Relaxed);
        if start == 0 || now_ns.wrapping_sub(start) >= INTERVAL_NS {
            if self
                .start
                .compare_exchange(start, now_ns.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                self.printed.store(0, Ordering::Relaxed);
            }
        }
        if self.printed.fetch_add(1, Ordering::Relaxed) < BURST {
            Some(self.missed.swap(0, Ordering::Relaxed))
        } else {
            self.missed.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// `dev_<level>!(dev, ...)` limited to [`BURST`] lines per [`INTERVAL_NS`]
/// per call site: the one way to log what userspace or the DSP can
/// trigger. `dev` is a `&kernel::device::Device` (the DSP's channel
/// device, or a context bank), `level` one of `info`, `warn`, `err`.
macro_rules! dev_ratelimited {
    ($level:ident, $dev:expr, $($arg:tt)*) => {{
        static LIMIT: $crate::ratelimit::RateLimit = $crate::ratelimit::RateLimit::new();
        if let Some(missed) = LIMIT.check($crate::ffi::monotonic_ns()) {
            let dev: &kernel::device::Device = $dev;
            if missed > 0 {
                $crate::ratelimit::dev_ratelimited!(@log $level, dev, "{} similar messages suppressed\n", missed);
            }
            $crate::ratelimit::dev_ratelimited!(@log $level, dev, $($arg)*);
        }
    }};
    (@log debug, $dev:expr, $($arg:tt)*) => { kernel::dev_dbg!($dev, $($arg)*) };
    (@log info, $dev:expr, $($arg:tt)*) => { kernel::dev_info!($dev, $($arg)*) };
    (@log warn, $dev:expr, $($arg:tt)*) => { kernel::dev_warn!($dev, $($arg)*) };
    (@log err, $dev:expr, $($arg:tt)*) => { kernel::dev_err!($dev, $($arg)*) };
}
pub(crate) use dev_ratelimited;
