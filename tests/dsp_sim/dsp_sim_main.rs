// SPDX-License-Identifier: GPL-2.0

//! qda_dsp_sim: a simulated Hexagon DSP transport for testing qda in QEMU.
//!
//! On a board, the glink edge of each remoteproc announces the
//! `fastrpcglink-apps-dsp` channel and the rpmsg core creates an rpmsg
//! device whose `of_node` is the `qcom,fastrpc` child. This module does the
//! same for every `qcom,fastrpc` node of the device tree: it registers a
//! real rpmsg device (on the real rpmsg bus, with this module as its
//! transport), so the unmodified qda driver binds exactly as on hardware.
//!
//! Requests sent to a channel are answered asynchronously from a work
//! item, like firmware: [`dsp::Dsp`] decodes them and reaches every
//! argument through the SMMU ([`smmu::Smmu`]); the reply goes back through
//! the endpoint's receive callback.

use core::{
    ffi::{
        c_int,
        c_void, //
    },
    ptr, //
    sync::atomic::{
        AtomicUsize,
        Ordering, //
    },
};
use kernel::{
    bindings,
    debugfs,
    faux,
    new_mutex,
    platform,
    prelude::*,
    str::CString,
    sync::{
        Arc,
        Mutex, //
    },
    time::{
        delay::fsleep,
        Delta, //
    }, //
    workqueue,
};

#[allow(
    clippy::all,
    clippy::as_underscore,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::undocumented_unsafe_blocks,
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    unused_imports
)]
mod sys {
    include!("bindings_generated.rs");
}

mod audio_pd;
mod call;
mod current_process;
mod dsp;
mod errors;
mod file_read;
mod kernel_calls;
mod listener;
mod listener_buf;
mod loader;
mod mem_request;
mod modules;
mod process;
mod remotectl;
mod remoteproc;
mod remoteproc_driver;

use remoteproc_driver::SimRemoteproc;
mod skel;
mod smmu;
mod static_pds;
mod trace;

// The FastRPC protocol, shared with qda: the simulator uses its decoding
// side.
#[allow(dead_code)]
#[path = "../../src/fastrpc/proto/mod.rs"]
mod proto;
use proto::{
    layout,
    proc_msgs,
    scalars,
    wire, //
};

module! {
    type: DspSim,
    name: "qda_dsp_sim",
    authors: ["The qda developers"],
    description: "Simulated Hexagon DSP rpmsg transport for qda tests",
    license: "GPL",
    params: {
        upstream_cdsp: bool {
            default: false,
            description: "Steer the cdsp channel to drivers/misc/fastrpc.c and the others to qda (comparison runs)",
        },
        upstream_mask: u32 {
            default: 0,
            description: "Steer channel i (bit i, in registration order) to drivers/misc/fastrpc.c and the others to qda (comparison runs)",
        },
        pin_drivers: bool {
            default: false,
            description: "Bind every channel by driver_override (qda unless steered to fastrpc.ko), whichever driver was loaded first",
        },
        corpus_group: u32 {
            default: 0,
            description: "Only the FastRPC nodes whose remoteproc has this qda,corpus-group (0: every node; the device-tree corpus test)",
        },
    },
}

/// rpmsg channel name glink uses for FastRPC.
const CHANNEL: &CStr = c"fastrpcglink-apps-dsp";

/// Device-tree compatibles of FastRPC nodes (the second on Kaanapali and
/// later SoCs, which have no `qcom,fastrpc` fallback).
const COMPATIBLES: [&CStr; 2] = [c"qcom,fastrpc", c"qcom,kaanapali-fastrpc"];

/// Upper bound on simulated channels (a real SoC has at most a handful).
const MAX_CHANNELS: usize = 8;

/// Channel devices not yet released. A DRM device keeps a reference to its
/// parent (our rpmsg device) until its last open file is closed, so module
/// exit waits for this to reach zero: `release_channel` lives in this module.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Work items in flight (answers being computed); module exit waits for
/// them: their code lives in this module.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// Where replies go: the endpoint's receive callback.
struct Receiver {
    cb: sys::rpmsg_rx_cb_t,
    rpdev: *mut sys::rpmsg_device,
    priv_: *mut c_void,
    addr: u32,
}

// SAFETY: the pointers are only used under `ChanState::receiver`'s lock,
// while the endpoint exists.
unsafe impl Send for Receiver {}

/// One simulated DSP and its endpoint.
#[pin_data]
struct ChanState {
    #[pin]
    dsp: dsp::Dsp,
    #[pin]
    receiver: Mutex<Option<Receiver>>,
    knob: Arc<Knob>,
}

/// A fault to inject into the next call on a module handle.
#[derive(Clone, Copy)]
enum Fault {
    /// Answer with this return value without running the method.
    Error(i32),
    /// Answer this many milliseconds late.
    Delay(u32),
    /// Hold the answer until `release` is written.
    Drop,
    /// Hold the answer to the next kernel call (handle 1) of this method
    /// until `release` is written: firmware that does the work and answers
    /// late, or never confirms (method 1, the release).
    DropKernel(u32),
    /// Answer twice.
    Duplicate,
    /// Send a stale answer (an older sequence number) first.
    Stale,
    /// Crash: the channel goes away (subsystem restart) and comes back.
    Crash,
    /// Behave like broken firmware: overwrite the call's metadata (lengths,
    /// pointers, page table) with `0xff` bytes after running the method,
    /// and send a truncated and an oversized garbage message before the
    /// real answer.
    Hostile,
}

/// Fault control of one channel, stable across simulated crashes:
/// `/sys/kernel/debug/qda_dsp_sim/<label>`.
#[pin_data]
struct Knob {
    node: *mut bindings::device_node,
    parent: *mut bindings::device,
    index: u32,
    /// Driver to bind to instead of matching (comparison runs).
    driver_override: Option<&'static CStr>,
    /// What the channel received: `/sys/kernel/debug/qda_dsp_sim/trace-<label>`.
    trace: Arc<Mutex<trace::Trace>>,
    #[pin]
    fault: Mutex<Option<Fault>>,
    #[pin]
    current: Mutex<Current>,
}

/// The channel's current incarnation.
struct Current {
    rpdev: *mut sys::rpmsg_device,
    state: Option<Arc<ChanState>>,
    /// Answers held back by `drop`.
    held: KVec<wire::Rsp>,
    crashes: u32,
}

// SAFETY: the raw pointers are a DT node (referenced), the parent device
// (outlives every channel) and the registered rpmsg device, used under
// `current`'s lock.
unsafe impl Send for Knob {}
// SAFETY: see `Send`.
unsafe impl Sync for Knob {}
// SAFETY: see `Knob`.
unsafe impl Send for Current {}

impl Knob {
    /// Simulates a subsystem restart: the rpmsg device goes away (qda's
    /// in-flight calls fail, its node disappears) and a new one comes.
    fn crash(self: &Arc<Self>) {
        let mut cur = self.current.lock();
        if !cur.rpdev.is_null() {
            // SAFETY: registered and not yet unregistered.
            unsafe { bindings::device_unregister(&raw mut (*cur.rpdev).dev) };
            cur.rpdev = ptr::null_mut();
            cur.state = None;
        }
        cur.held.clear();
        cur.crashes += 1;
        // SAFETY: `node` and `parent` are valid for the module's life.
        match unsafe { register_channel(self.parent, self.node, self.index, self.clone()) } {
            Ok((rpdev, state)) => {
                cur.rpdev = rpdev;
                cur.state = Some(state);
            }
            Err(e) => pr_err!("restart after a simulated crash failed: {:?}\n", e),
        }
    }

    /// Delivers the answers held back by `drop`.
    fn release(&self) {
        let cur = self.current.lock();
        if let Some(state) = cur.state.as_ref() {
            for rsp in cur.held.iter() {
                state.reply(rsp);
            }
        }
        drop(cur);
        self.current.lock().held.clear();
    }

    /// Unregisters the current rpmsg device (module exit).
    fn remove(&self) {
        let mut cur = self.current.lock();
        if !cur.rpdev.is_null() {
            // SAFETY: registered and not yet unregistered.
            unsafe { bindings::device_unregister(&raw mut (*cur.rpdev).dev) };
            cur.rpdev = ptr::null_mut();
            cur.state = None;
        }
    }
}

/// debugfs read: the armed fault and counters.
fn show_knob(k: &Arc<Knob>, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    let armed = match *k.fault.lock() {
        None => "none",
        Some(Fault::Error(_)) => "error",
        Some(Fault::Delay(_)) => "delay",
        Some(Fault::Drop) => "drop",
        Some(Fault::DropKernel(_)) => "drop-kernel",
        Some(Fault::Duplicate) => "duplicate",
        Some(Fault::Stale) => "stale",
        Some(Fault::Crash) => "crash",
        Some(Fault::Hostile) => "hostile",
    };
    let cur = k.current.lock();
    writeln!(
        f,
        "armed {armed}\nheld {}\ncrashes {}",
        cur.held.len(),
        cur.crashes
    )
}

/// debugfs write: `error N`, `delay MS`, `drop`, `duplicate`, `stale`,
/// `crash`, `hostile` (armed for the next call on a module handle),
/// `drop-kernel M` (armed for the next process-control call of method `M`),
/// `drop-release` (`drop-kernel 1`: the next process release), or
/// `release`.
fn write_knob(k: &Arc<Knob>, r: &mut kernel::uaccess::UserSliceReader) -> Result {
    let mut buf = [0u8; 32];
    let n = r.len().min(buf.len());
    r.read_slice(&mut buf[..n])?;
    let text = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?.trim();
    let mut words = text.split_whitespace();
    let num = |w: Option<&str>| w.and_then(|v| v.parse::<i64>().ok()).ok_or(EINVAL);
    let fault = match words.next() {
        Some("error") => Fault::Error(i32::try_from(num(words.next())?).map_err(|_| EINVAL)?),
        Some("delay") => Fault::Delay(u32::try_from(num(words.next())?).map_err(|_| EINVAL)?),
        Some("drop") => Fault::Drop,
        Some("drop-release") => Fault::DropKernel(proc_msgs::method::RELEASE),
        Some("drop-kernel") => {
            Fault::DropKernel(u32::try_from(num(words.next())?).map_err(|_| EINVAL)?)
        }
        Some("duplicate") => Fault::Duplicate,
        Some("stale") => Fault::Stale,
        Some("crash") => Fault::Crash,
        Some("hostile") => Fault::Hostile,
        Some("release") => {
            k.release();
            return Ok(());
        }
        _ => return Err(EINVAL),
    };
    *k.fault.lock() = Some(fault);
    Ok(())
}

/// debugfs read of `trace-<label>`: the requests recorded.
fn show_trace(k: &Arc<Knob>, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    k.trace.lock().show(f)
}

/// debugfs read of `addrs-<label>`: the addresses of the `a` tokens.
fn show_addrs(k: &Arc<Knob>, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    k.trace.lock().show_addrs(f)
}

/// debugfs write of `trace-<label>`: anything clears the trace.
fn clear_trace(k: &Arc<Knob>, r: &mut kernel::uaccess::UserSliceReader) -> Result {
    r.skip(r.len())?;
    k.trace.lock().clear();
    Ok(())
}

/// Takes the fault armed for `msg`, if it applies to it.
fn armed_for(knob: &Knob, msg: &wire::Msg) -> Option<Fault> {
    let mut armed = knob.fault.lock();
    let kernel = (msg.handle == proc_msgs::INIT_HANDLE).then(|| scalars::Scalars(msg.sc).method());
    match *armed {
        Some(Fault::DropKernel(m)) if kernel == Some(m) => armed.take().map(|_| Fault::Drop),
        Some(Fault::DropKernel(_)) => None,
        _ if modules::is_module_handle(msg.handle) => armed.take(),
        _ => None,
    }
}

/// Answers `msg` on `state`, applying an armed fault to module calls.
///
/// Runs in a work item that never waits for another message: a call
/// firmware holds (a listener's `next2`, an open waiting for its skel)
/// is answered later by the message that completes it.
fn answer(state: Arc<ChanState>, msg: wire::Msg) {
    let fault = armed_for(&state.knob, &msg);
    let rsp = |retval| wire::Rsp {
        ctx: msg.ctx,
        retval,
    };
    match fault {
        Some(Fault::Crash) => return state.knob.crash(),
        Some(Fault::Error(code)) => return state.reply(&rsp(code)),
        Some(Fault::Delay(ms)) => fsleep(Delta::from_millis(i64::from(ms))),
        Some(Fault::Stale) => {
            let (index, seq) = wire::ctx_decode(msg.ctx);
            let stale = wire::ctx_encode(
                index,
                wire::seq_wrap(seq.wrapping_sub(1)),
                (msg.ctx & 0xf) as u32,
            );
            state.reply(&wire::Rsp {
                ctx: stale,
                retval: 0,
            });
        }
        _ => {}
    }
    let out = state.dsp.handle(&msg);
    if let Some(retval) = out.retval {
        reply_with_fault(&state, &msg, rsp(retval), fault);
    }
    // Held calls this message completed are answered after it: the
    // library marks a session as exiting only once its exit call has
    // returned, and must see that before its listener's `next2` ends.
    for r in out.done.iter() {
        state.reply(r);
    }
}

/// Sends `r`, the answer to `msg`, as the armed `fault` wants.
fn reply_with_fault(state: &ChanState, msg: &wire::Msg, r: wire::Rsp, fault: Option<Fault>) {
    match fault {
        Some(Fault::Drop) => {
            let _ = state.knob.current.lock().held.push(r, GFP_KERNEL);
        }
        Some(Fault::Duplicate) => {
            state.reply(&r);
            state.reply(&r);
        }
        Some(Fault::Hostile) => {
            state.dsp.scribble(msg);
            state.send(&[0xff; 4]);
            state.send(&[0xff; 64]);
            state.reply(&r);
        }
        _ => state.reply(&r),
    }
}

impl ChanState {
    /// Delivers a reply, unless the endpoint is gone.
    fn reply(&self, rsp: &wire::Rsp) {
        self.send(&rsp.encode());
    }

    /// Delivers raw bytes to the driver's endpoint, unless it is gone.
    fn send(&self, bytes: &[u8]) {
        let r = self.receiver.lock();
        if let Some(rx) = r.as_ref() {
            if let Some(cb) = rx.cb {
                // SAFETY: the endpoint exists while `receiver` is set (it is
                // cleared under this lock before the endpoint is freed).
                unsafe {
                    cb(
                        rx.rpdev,
                        bytes.as_ptr().cast_mut().cast(),
                        bytes.len() as c_int,
                        rx.priv_,
                        rx.addr,
                    )
                };
            }
        }
    }
}

/// An endpoint handed to the rpmsg core; `ept` must stay first.
#[repr(C)]
struct SimEndpoint {
    ept: sys::rpmsg_endpoint,
    state: Arc<ChanState>,
}

/// A registered rpmsg device; `rpdev` must stay first (the release
/// callback converts the `struct device` back to this).
#[repr(C)]
struct SimChannel {
    rpdev: sys::rpmsg_device,
    state: Arc<ChanState>,
}

/// Wrapper making a C ops table usable from a `static`.
#[repr(transparent)]
struct Ops<T>(T);
// SAFETY: the tables are constant function-pointer tables, only read.
unsafe impl<T> Sync for Ops<T> {}

static DEVICE_OPS: Ops<sys::rpmsg_device_ops> = Ops(sys::rpmsg_device_ops {
    create_channel: None,
    release_channel: None,
    create_ept: Some(create_ept),
    announce_create: None,
    announce_destroy: None,
});

static ENDPOINT_OPS: Ops<sys::rpmsg_endpoint_ops> = Ops(sys::rpmsg_endpoint_ops {
    destroy_ept: Some(destroy_ept),
    send: Some(send),
    sendto: None,
    trysend: Some(send),
    trysendto: None,
    poll: None,
    set_flow_control: None,
    get_mtu: None,
});

/// # Safety
///
/// Called by the rpmsg or driver core only, on objects of this module.
unsafe extern "C" fn create_ept(
    rpdev: *mut sys::rpmsg_device,
    cb: sys::rpmsg_rx_cb_t,
    priv_: *mut c_void,
    chinfo: sys::rpmsg_channel_info,
) -> *mut sys::rpmsg_endpoint {
    // SAFETY: `rpdev` is the first field of one of our `SimChannel`s.
    let state = unsafe { (*rpdev.cast::<SimChannel>()).state.clone() };
    let Ok(ep) = KBox::new(
        SimEndpoint {
            ept: sys::rpmsg_endpoint::default(),
            state: state.clone(),
        },
        GFP_KERNEL,
    ) else {
        return ptr::null_mut();
    };
    *state.receiver.lock() = Some(Receiver {
        cb,
        rpdev,
        priv_,
        addr: chinfo.src,
    });
    let ep = KBox::into_raw(ep);
    // SAFETY: `ep` is a fresh, exclusively owned allocation.
    unsafe {
        (*ep).ept.rpdev = rpdev;
        (*ep).ept.cb = cb;
        (*ep).ept.priv_ = priv_;
        (*ep).ept.addr = chinfo.src;
        (*ep).ept.ops = &ENDPOINT_OPS.0;
        &raw mut (*ep).ept
    }
}

/// # Safety
///
/// Called by the rpmsg or driver core only, on objects of this module.
unsafe extern "C" fn destroy_ept(ept: *mut sys::rpmsg_endpoint) {
    // SAFETY: `ept` was created by `create_ept` as the first field of a
    // `SimEndpoint` and the rpmsg core destroys it exactly once.
    let ep = unsafe { KBox::from_raw(ept.cast::<SimEndpoint>()) };
    // Waits for a reply being delivered; later replies are dropped.
    *ep.state.receiver.lock() = None;
}

/// # Safety
///
/// Called by the rpmsg or driver core only, on objects of this module.
unsafe extern "C" fn send(ept: *mut sys::rpmsg_endpoint, data: *const c_void, len: c_int) -> c_int {
    let Ok(len) = usize::try_from(len) else {
        return EINVAL.to_errno();
    };
    // SAFETY: the rpmsg core passes `len` readable bytes.
    let bytes = unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len) };
    // A request is exactly one `fastrpc_msg`, as the upstream driver sends.
    if len != wire::Msg::SIZE {
        pr_warn!(
            "refused a {len}-byte message (requests are {} bytes)\n",
            wire::Msg::SIZE
        );
        return EINVAL.to_errno();
    }
    let Some(msg) = wire::Msg::decode(bytes) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `ept` is the first field of a live `SimEndpoint`.
    let state = unsafe { (*ept.cast::<SimEndpoint>()).state.clone() };
    PENDING.fetch_add(1, Ordering::AcqRel);
    // Answer later, from a worker, as firmware does.
    let r = workqueue::system().try_spawn(GFP_KERNEL, move || {
        answer(state, msg);
        PENDING.fetch_sub(1, Ordering::AcqRel);
    });
    match r {
        Ok(()) => 0,
        Err(_) => {
            PENDING.fetch_sub(1, Ordering::AcqRel);
            ENOMEM.to_errno()
        }
    }
}

/// # Safety
///
/// Called by the rpmsg or driver core only, on objects of this module.
unsafe extern "C" fn release_channel(dev: *mut bindings::device) {
    let ch = dev.cast::<SimChannel>();
    // SAFETY: `dev` is the first field of a `SimChannel` leaked in
    // `register_channel`; the driver core calls this once, on the last put.
    unsafe {
        let node = (*ch).rpdev.dev.of_node;
        if !node.is_null() {
            bindings::fwnode_handle_put(&raw mut (*node).fwnode);
        }
        drop(KBox::from_raw(ch));
    }
    LIVE.fetch_sub(1, Ordering::Release);
}

/// Registers one rpmsg device for `node` under `parent`.
///
/// # Safety
///
/// `node` must be a valid device-tree node and `parent` a valid device that
/// outlives the registered device.
unsafe fn register_channel(
    parent: *mut bindings::device,
    node: *mut bindings::device_node,
    index: u32,
    knob: Arc<Knob>,
) -> Result<(*mut sys::rpmsg_device, Arc<ChanState>)> {
    let driver_override = knob.driver_override;
    let smmu = smmu::Smmu::new(node)?;
    let trace = knob.trace.clone();
    let state = Arc::pin_init(
        pin_init!(ChanState {
            dsp <- dsp::Dsp::new(smmu, remoteproc::Remoteproc::new(node), trace),
            receiver <- new_mutex!(None),
            knob,
        }),
        GFP_KERNEL,
    )?;
    let mut ch = KBox::new(
        SimChannel {
            rpdev: sys::rpmsg_device::default(),
            state: state.clone(),
        },
        GFP_KERNEL,
    )?;
    let name = CHANNEL.to_bytes();
    for (d, s) in ch.rpdev.id.name.iter_mut().zip(name) {
        *d = *s;
    }
    ch.rpdev.src = index;
    ch.rpdev.dst = index;
    ch.rpdev.little_endian = true;
    ch.rpdev.ops = &DEVICE_OPS.0;
    ch.rpdev.dev.parent = parent;
    ch.rpdev.dev.release = Some(release_channel);
    // SAFETY: `node` is valid; the reference is dropped in `release_channel`.
    unsafe { bindings::fwnode_handle_get(&raw mut (*node).fwnode) };
    ch.rpdev.dev.of_node = node;
    let ch = KBox::into_raw(ch);
    LIVE.fetch_add(1, Ordering::Relaxed);
    // SAFETY: the device is fully set up. On failure the core drops the
    // initial reference, which runs `release_channel` and frees `ch`.
    let ret = unsafe {
        sys::rpmsg_register_device_override(
            &raw mut (*ch).rpdev,
            driver_override.map_or(ptr::null(), |o| o.as_char_ptr()),
        )
    };
    kernel::error::to_result(ret)?;
    // SAFETY: `ch` stays alive until `device_unregister`.
    Ok((unsafe { &raw mut (*ch).rpdev }, state))
}

/// The driver channel `index` (DT label `label`) is bound to: comparison
/// runs bind each channel to a named driver, whichever was loaded first
/// (`upstream_cdsp`: cdsp to fastrpc.ko; `upstream_mask`: channel `i` for
/// bit `i`; the others to qda; `pin`: every channel to qda unless
/// steered); otherwise the first driver that matches.
fn steer(
    upstream_cdsp: bool,
    mask: u32,
    pin: bool,
    index: u32,
    label: &[u8],
) -> Option<&'static CStr> {
    if !upstream_cdsp && mask == 0 && !pin {
        return None;
    }
    let by_mask = 1u32.checked_shl(index).is_some_and(|bit| mask & bit != 0);
    if by_mask || (upstream_cdsp && label == b"cdsp") {
        Some(c"qcom,fastrpc")
    } else {
        Some(c"qda")
    }
}

/// Whether FastRPC node `node` belongs to corpus group `group`: its
/// remoteproc (the parent of its edge) has `qda,corpus-group = <group>`;
/// group 0 takes every node.
fn in_group(node: *mut bindings::device_node, group: u32) -> bool {
    if group == 0 {
        return true;
    }
    let mut got = 0u32;
    // SAFETY: `node` is valid; each `of_get_parent` result is referenced
    // (NULL for NULL) and put below; the property name is NUL-terminated
    // and `got` has room for the one value asked for.
    unsafe {
        let edge = bindings::of_get_parent(node);
        let rproc = bindings::of_get_parent(edge);
        let r = bindings::of_property_read_variable_u32_array(
            rproc,
            c"qda,corpus-group".as_char_ptr(),
            &mut got,
            1,
            1,
        );
        for np in [rproc, edge] {
            if !np.is_null() {
                bindings::fwnode_handle_put(&raw mut (*np).fwnode);
            }
        }
        r == 1 && got == group
    }
}

/// Module state: the parent device, the channels and their fault knobs.
/// Fields drop in order: debugfs first.
struct DspSim {
    _files: KVec<Pin<KBox<debugfs::File<Arc<Knob>>>>>,
    _dir: debugfs::Dir,
    knobs: KVec<Arc<Knob>>,
    _parent: faux::Registration,
    /// Bound before the channels are registered, unbound after they are
    /// gone (last field).
    _remoteprocs: Pin<KBox<kernel::driver::Registration<platform::Adapter<SimRemoteproc>>>>,
}

impl DspSim {
    /// Registers the channel of FastRPC `node` (a referenced node whose
    /// reference the knob keeps).
    fn add(&mut self, parent: *mut bindings::device, node: *mut bindings::device_node) -> Result {
        let index = self.knobs.len() as u32;
        let mut label: *const kernel::ffi::c_char = ptr::null();
        // SAFETY: valid node and property name; `label` points into the DT.
        let name = if unsafe {
            bindings::of_property_read_string(node, c"label".as_char_ptr(), &mut label)
        } == 0
        {
            // SAFETY: a NUL-terminated DT string.
            CString::try_from(unsafe { CStr::from_char_ptr(label) })?
        } else {
            CString::try_from_fmt(fmt!("channel{index}"))?
        };
        let driver_override = steer(
            module_parameters::upstream_cdsp.value(),
            module_parameters::upstream_mask.value(),
            module_parameters::pin_drivers.value(),
            index,
            name.to_bytes(),
        );
        let trace = Arc::pin_init(new_mutex!(trace::Trace::new()), GFP_KERNEL)?;
        let knob = Arc::pin_init(
            pin_init!(Knob {
                node,
                parent,
                index,
                driver_override,
                trace,
                fault <- new_mutex!(None),
                current <- new_mutex!(Current {
                    rpdev: ptr::null_mut(),
                    state: None,
                    held: KVec::new(),
                    crashes: 0,
                }),
            }),
            GFP_KERNEL,
        )?;
        self.knobs.push(knob.clone(), GFP_KERNEL)?;
        // SAFETY: `node` is valid (the knob holds a reference) and `parent`
        // outlives every channel: `drop` unregisters them first.
        let (rpdev, state) = unsafe { register_channel(parent, node, index, knob.clone())? };
        let mut cur = knob.current.lock();
        cur.rpdev = rpdev;
        cur.state = Some(state);
        drop(cur);
        let file = KBox::pin_init(
            self._dir
                .read_write_callback_file(&name, knob.clone(), &show_knob, &write_knob),
            GFP_KERNEL,
        )?;
        self._files.push(file, GFP_KERNEL)?;
        static_pds::add_files(&self._dir, &name, &knob, &mut self._files)?;
        let trace_name = CString::try_from_fmt(fmt!("trace-{}", &*name))?;
        let file = KBox::pin_init(
            self._dir.read_write_callback_file(
                &trace_name,
                knob.clone(),
                &show_trace,
                &clear_trace,
            ),
            GFP_KERNEL,
        )?;
        self._files.push(file, GFP_KERNEL)?;
        let addrs_name = CString::try_from_fmt(fmt!("addrs-{}", &*name))?;
        let file = KBox::pin_init(
            self._dir.read_callback_file(&addrs_name, knob, &show_addrs),
            GFP_KERNEL,
        )?;
        self._files.push(file, GFP_KERNEL)?;
        Ok(())
    }
}

impl kernel::Module for DspSim {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let remoteprocs = KBox::pin_init(
            kernel::driver::Registration::new(c"qda_sim_remoteproc", module),
            GFP_KERNEL,
        )?;
        let parent = faux::Registration::new(c"qda-dsp-sim", None)?;
        let fdev: &kernel::device::Device<kernel::device::Bound> = parent.as_ref().as_ref();
        let parent_dev = ptr::from_ref(fdev).cast_mut().cast::<bindings::device>();
        let mut sim = DspSim {
            _files: KVec::new(),
            _dir: debugfs::Dir::new(c"qda_dsp_sim"),
            knobs: KVec::new(),
            _parent: parent,
            _remoteprocs: remoteprocs,
        };
        for (i, compatible) in COMPATIBLES.iter().enumerate() {
            sim.add_compatible(parent_dev, compatible, &COMPATIBLES[..i])?;
        }
        pr_info!(
            "registered {} simulated FastRPC channel(s)\n",
            sim.knobs.len()
        );
        Ok(sim)
    }
}

impl DspSim {
    /// Registers a channel for every node compatible with `compatible`
    /// but none of `seen` (found by an earlier search).
    fn add_compatible(
        &mut self,
        parent_dev: *mut bindings::device,
        compatible: &CStr,
        seen: &[&CStr],
    ) -> Result {
        let sim = self;
        let mut node: *mut bindings::device_node = ptr::null_mut();
        loop {
            // SAFETY: `node` is NULL or the node returned by the previous
            // call, whose reference this call drops.
            node = unsafe {
                bindings::of_find_compatible_node(node, ptr::null(), compatible.as_char_ptr())
            };
            if node.is_null() {
                break;
            }
            // SAFETY: `node` is valid; the strings are NUL-terminated.
            let found_before = seen
                .iter()
                .any(|c| unsafe { bindings::of_device_is_compatible(node, c.as_char_ptr()) } > 0);
            if found_before || !in_group(node, module_parameters::corpus_group.value()) {
                continue;
            }
            if sim.knobs.len() == MAX_CHANNELS {
                pr_warn!(
                    "more than {} FastRPC nodes, ignoring the rest\n",
                    MAX_CHANNELS
                );
                // SAFETY: drop the reference the search returned.
                unsafe { bindings::fwnode_handle_put(&raw mut (*node).fwnode) };
                break;
            }
            // The knob keeps a reference to the node (dropped in `drop`).
            // SAFETY: `node` is valid.
            unsafe { bindings::fwnode_handle_get(&raw mut (*node).fwnode) };
            if let Err(e) = sim.add(parent_dev, node) {
                pr_err!("registering a channel failed: {:?}\n", e);
                // SAFETY: drop the reference the search returned.
                unsafe { bindings::fwnode_handle_put(&raw mut (*node).fwnode) };
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Drop for DspSim {
    fn drop(&mut self) {
        self._files.clear();
        for k in self.knobs.iter().rev() {
            k.remove();
        }
        let mut waited = 0;
        while LIVE.load(Ordering::Acquire) != 0 || PENDING.load(Ordering::Acquire) != 0 {
            if waited % 50 == 0 {
                pr_info!(
                    "waiting for {} channel(s) still referenced (open accel files?)\n",
                    LIVE.load(Ordering::Relaxed)
                );
            }
            waited += 1;
            fsleep(Delta::from_millis(20));
        }
        for k in self.knobs.iter() {
            // SAFETY: drops the reference taken in `init`.
            unsafe { bindings::fwnode_handle_put(&raw mut (*k.node).fwnode) };
        }
    }
}
