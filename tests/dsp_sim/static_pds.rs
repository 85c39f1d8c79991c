// SPDX-License-Identifier: GPL-2.0

//! debugfs of the static PDs, per channel (stable across crashes):
//!
//! - `audiopd-<dsp>`: the audio PD ([`crate::audio_pd`]): `heap`,
//!   `used`, `grants`, `creates`, `up`, `last` lines; write `alloc N` or
//!   `free`;
//! - `sensors-<dsp>`: `none` and `up 0|1` (is a process attached to the
//!   sensors PD); file reads through `apps_std` are not simulated yet
//!   (a `read` command fails with `EOPNOTSUPP`);
//! - `remoteproc-<dsp>`: `domain <none|dma|identity|other>` of the
//!   remoteproc's IOMMU and `mapped <n> <total>`: heap pages that
//!   translate to themselves there.

use core::fmt;
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
    dsp::State,
    Knob, //
};

/// Runs `f` on the channel's current DSP state, if it has one.
fn with_state<R>(k: &Knob, f: impl FnOnce(&mut State) -> R) -> Option<R> {
    let cur = k.current.lock().state.clone();
    cur.map(|s| s.dsp.with_state(f))
}

fn show_audio(k: &Arc<Knob>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    with_state(k, |st| st.audio.show(f)).unwrap_or_else(|| writeln!(f, "down"))
}

/// Reads a short command.
fn command<'a>(r: &mut UserSliceReader, buf: &'a mut [u8; 64]) -> Result<&'a str> {
    let n = r.len().min(buf.len());
    r.read_slice(&mut buf[..n])?;
    core::str::from_utf8(&buf[..n])
        .map(str::trim)
        .map_err(|_| EINVAL)
}

fn write_audio(k: &Arc<Knob>, r: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 64];
    let cmd = command(r, &mut buf)?;
    if cmd == "free" {
        return with_state(k, |st| st.audio.free()).ok_or(ENODEV);
    }
    let bytes = cmd
        .strip_prefix("alloc ")
        .and_then(|n| n.trim().parse::<u64>().ok())
        .ok_or(EINVAL)?;
    with_state(k, |st| {
        let State { audio, rproc, .. } = st;
        audio.alloc(rproc, bytes)
    })
    .ok_or(ENODEV)?
}

fn show_sensors(k: &Arc<Knob>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let up = with_state(k, |st| st.sensors.is_some()).unwrap_or(false);
    writeln!(f, "none")?;
    writeln!(f, "up {}", u8::from(up))
}

fn write_sensors(_k: &Arc<Knob>, r: &mut UserSliceReader) -> Result {
    r.skip(r.len())?;
    Err(EOPNOTSUPP)
}

fn show_remoteproc(k: &Arc<Knob>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    with_state(k, |st| {
        writeln!(f, "domain {}", st.rproc.domain_kind())?;
        let (mapped, total) = st.rproc.heap_pages();
        writeln!(f, "mapped {mapped} {total}")
    })
    .unwrap_or_else(|| writeln!(f, "down"))
}

fn ignore(_k: &Arc<Knob>, r: &mut UserSliceReader) -> Result {
    r.skip(r.len())?;
    Err(EINVAL)
}

/// Creates the three files of channel `name` in `dir`.
pub(crate) fn add_files(
    dir: &Dir,
    name: &CStr,
    knob: &Arc<Knob>,
    files: &mut KVec<Pin<KBox<File<Arc<Knob>>>>>,
) -> Result {
    let n = CString::try_from_fmt(fmt!("audiopd-{name}"))?;
    let f = dir.read_write_callback_file(&n, knob.clone(), &show_audio, &write_audio);
    files.push(KBox::pin_init(f, GFP_KERNEL)?, GFP_KERNEL)?;
    let n = CString::try_from_fmt(fmt!("sensors-{name}"))?;
    let f = dir.read_write_callback_file(&n, knob.clone(), &show_sensors, &write_sensors);
    files.push(KBox::pin_init(f, GFP_KERNEL)?, GFP_KERNEL)?;
    let n = CString::try_from_fmt(fmt!("remoteproc-{name}"))?;
    let f = dir.read_write_callback_file(&n, knob.clone(), &show_remoteproc, &ignore);
    files.push(KBox::pin_init(f, GFP_KERNEL)?, GFP_KERNEL)?;
    Ok(())
}
