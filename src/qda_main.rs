// SPDX-License-Identifier: GPL-2.0

//! qda: Qualcomm Hexagon DSPs as DRM compute accelerators.
//!
//! One `/dev/accel/accelN` node is registered per FastRPC rpmsg channel
//! (`fastrpcglink-apps-dsp`, DT compatible `qcom,fastrpc`). Userspace
//! identifies the DSP behind a node with `DRM_IOCTL_QDA_QUERY`.
//!
//! Layout, from top to bottom (each folder uses only those below it; see
//! `Documentation/accel/qda/layers.rst`, checked by
//! `scripts/check-layers.py`): [`driver`] is the composition root (the
//! rpmsg probe builds the DSP service and registers its frontends and
//! [`debugfs`]); [`accel`] and [`legacy`] are the two UAPI frontends;
//! [`dsp`] is the service both call; [`fastrpc`] the engine, with the pure
//! protocol in [`fastrpc::proto`]; then [`buffer`], [`memory`],
//! [`platform`], [`ratelimit`] and [`ffi`], the only place that touches C
//! APIs the 7.3 `kernel` crate does not wrap.
//!
//! Unsafe code lives in [`ffi`] only: every other module is safe Rust
//! (`grep -rn unsafe src --include=*.rs | grep -v '^src/ffi/'` finds no
//! code). [`ffi`] wraps each C API it calls in a safe, sound interface,
//! shaped like the 7.3 kernel crate's abstractions; where a caller
//! obligation is real it is an `unsafe fn` or `unsafe trait` inside
//! [`ffi`], with a `# Safety` section. The KUnit suites (`tests/kunit`)
//! may implement those traits for their fakes.

use kernel::prelude::*;

mod accel;
mod buffer;
mod debugfs;
mod driver;
mod dsp;
mod fastrpc;
mod ffi;
mod legacy;
mod memory;
mod platform;
mod ratelimit;

#[cfg(CONFIG_KUNIT = "y")]
#[path = "../tests/kunit/domain_kunit.rs"]
mod domain_kunit;
#[cfg(CONFIG_KUNIT = "y")]
#[path = "../tests/kunit/fastrpc_kunit.rs"]
mod fastrpc_kunit;
#[cfg(CONFIG_KUNIT = "y")]
#[path = "../tests/kunit/memory_kunit.rs"]
mod memory_kunit;
#[cfg(CONFIG_KUNIT = "y")]
#[path = "../tests/kunit/remote_heap_kunit.rs"]
mod remote_heap_kunit;
#[cfg(CONFIG_KUNIT = "y")]
#[path = "../tests/kunit/topology_kunit.rs"]
mod topology_kunit;
#[cfg(CONFIG_KUNIT = "y")]
#[path = "../tests/kunit/uapi_kunit.rs"]
mod uapi_kunit;

module! {
    type: QdaModule,
    name: "qda",
    authors: ["The qda developers"],
    description: "Qualcomm Hexagon DSP accelerator (FastRPC over DRM accel)",
    license: "GPL",
    imports_ns: ["DMA_BUF"],
    params: {
        daemon_gid: i32 {
            default: -1,
            description: "Members of this group (initial user namespace) may do daemon operations: root/sensors PD attach, static PD create, signed PDs on secure DSPs (-1: only CAP_SYS_ADMIN)",
        },
        file_buffers: u32 {
            default: 4096,
            description: "Buffer objects one open file may have allocated at a time (-ENOSPC past it)",
        },
        file_mem_mib: u32 {
            default: 2048,
            description: "MiB of buffer memory one open file may have allocated at a time (-ENOMEM past it)",
        },
        legacy_nodes: bool {
            default: true,
            description: "Serve the fastrpc.ko UAPI on /dev/fastrpc-<dsp>[-secure] nodes",
        },
    },
}

/// Module state. Fields drop in order: the rpmsg driver (and with it every
/// channel) before the context-bank bus.
struct QdaModule {
    _driver: ffi::rpmsg::Registration<driver::QdaDriver>,
    _cb_bus: ffi::bus::CbBus,
}

impl kernel::Module for QdaModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let cb_bus = ffi::bus::CbBus::register(module)?;
        Ok(Self {
            _driver: ffi::rpmsg::Registration::new(module, driver::DriverContext::new()?)?,
            _cb_bus: cb_bus,
        })
    }
}
