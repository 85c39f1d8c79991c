// SPDX-License-Identifier: GPL-2.0

//! The debugfs files of a channel's fault control, in
//! `/sys/kernel/debug/qda_dsp_sim/`: `<label>` arms a fault and shows the
//! armed one and the counters; `trace-<label>` shows (and, written,
//! clears) the requests the channel received; `addrs-<label>` the
//! addresses of their `a` tokens.

use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    prelude::*,
    str::CString,
    sync::Arc,
    uaccess::UserSliceReader, //
};

use crate::{
    channel::knob::Knob,
    faults::fault::{
        Command,
        Fault, //
    },
};

/// The debugfs files of the channels, removed before the channels are.
pub(crate) type Files = KVec<Pin<KBox<File<Arc<Knob>>>>>;

/// debugfs read: the armed fault and counters.
fn show_knob(k: &Arc<Knob>, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    let armed = k.fault.lock().map_or("none", Fault::name);
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
fn write_knob(k: &Arc<Knob>, r: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 32];
    let n = r.len().min(buf.len());
    r.read_slice(&mut buf[..n])?;
    let text = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?.trim();
    match Command::parse(text)? {
        Command::Release => k.release(),
        Command::Arm(fault) => *k.fault.lock() = Some(fault),
    }
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
fn clear_trace(k: &Arc<Knob>, r: &mut UserSliceReader) -> Result {
    r.skip(r.len())?;
    k.trace.lock().clear();
    Ok(())
}

/// Creates `<name>`, the fault file of `knob`'s channel, in `dir`.
pub(crate) fn add_fault_file(
    dir: &Dir,
    name: &CStr,
    knob: &Arc<Knob>,
    files: &mut Files,
) -> Result {
    let f = dir.read_write_callback_file(name, knob.clone(), &show_knob, &write_knob);
    files.push(KBox::pin_init(f, GFP_KERNEL)?, GFP_KERNEL)?;
    Ok(())
}

/// Creates `trace-<name>` and `addrs-<name>`, the trace files of `knob`'s
/// channel, in `dir`.
pub(crate) fn add_trace_files(
    dir: &Dir,
    name: &CStr,
    knob: &Arc<Knob>,
    files: &mut Files,
) -> Result {
    let n = CString::try_from_fmt(fmt!("trace-{name}"))?;
    let f = dir.read_write_callback_file(&n, knob.clone(), &show_trace, &clear_trace);
    files.push(KBox::pin_init(f, GFP_KERNEL)?, GFP_KERNEL)?;
    let n = CString::try_from_fmt(fmt!("addrs-{name}"))?;
    let f = dir.read_callback_file(&n, knob.clone(), &show_addrs);
    files.push(KBox::pin_init(f, GFP_KERNEL)?, GFP_KERNEL)?;
    Ok(())
}
