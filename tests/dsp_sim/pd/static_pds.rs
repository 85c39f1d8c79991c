// SPDX-License-Identifier: GPL-2.0

//! debugfs of the static PDs, per channel (stable across crashes):
//!
//! - `audiopd-<dsp>`: the audio PD ([`crate::pd::audio_pd`]): `heap`,
//!   `used`, `grants`, `creates`, `up`, `last` lines; write `alloc N`
//!   (from the heap, else from the daemon through `apps_mem`; returns
//!   when done) or `free`;
//! - `sensors-<dsp>`: the last file read (`read <path> <len> <fnv1a64>`,
//!   `error <errno>` or `none`) and `up 0|1` (a process is attached to the
//!   sensors PD); write `read <path>`: the sensors PD reads the file
//!   through `apps_std` reverse calls its daemon serves
//!   ([`crate::reverse::file_read`]); the write returns when the read is over;
//! - `listeners-<dsp>`: one line per process, `<pd> registered <0|1>
//!   next2 <0|1>`: the PD it runs in (`rootpd`, `sensorspd`, `audiopd`,
//!   `userpd`), whether the apps side registered its default listener
//!   (`adsp_default_listener`, [`crate::pd::modules`]) and whether its
//!   listener's `next2` is held waiting for a reverse call;
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
    channel::{
        knob::Knob,
        state::ChanState, //
    },
    dsp::state::State,
    hw::smmu::Smmu,
    pd::process::{
        Effects,
        Process, //
    },
    reverse::{
        file_read::{
            ReadResult,
            ReadWait, //
        },
        mem_request::MemOp, //
    }, //
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

/// The channel's current incarnation.
fn current(k: &Knob) -> Result<Arc<ChanState>> {
    k.current.lock().state.clone().ok_or(ENODEV)
}

fn write_audio(k: &Arc<Knob>, r: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 64];
    let cmd = command(r, &mut buf)?;
    if cmd == "free" {
        return free_audio(k);
    }
    let bytes = cmd
        .strip_prefix("alloc ")
        .and_then(|n| n.trim().parse::<u64>().ok())
        .ok_or(EINVAL)?;
    let cs = current(k)?;
    // The memory is written without the state's lock: the DSP keeps
    // answering the driver meanwhile.
    let r = cs
        .dsp
        .with_state(|st| st.audio.reserve(bytes))
        .and_then(|(at, len, byte)| {
            cs.dsp.rproc.fill_and_check(at, len, byte).inspect_err(|_| {
                cs.dsp.with_state(|st| st.audio.unreserve(bytes));
            })
        });
    drop(cs);
    let r = match r {
        Err(e) if e == ENOMEM => grow(k, bytes),
        r => r,
    };
    with_state(k, |st| st.audio.record(r)).unwrap_or(r)
}

/// Starts a reverse call of the static PD whose client id `pick` finds
/// (`none`: the errno without one) with `start`; the replies it produced
/// are sent once the state is unlocked.
fn start_job(
    cs: &ChanState,
    (pick, none): (fn(&State) -> Option<i32>, Error),
    start: impl FnOnce(&mut Process, &mut Effects<'_>) -> Result,
) -> Result {
    let mut done = KVec::new();
    cs.dsp.with_state(|st| {
        let client = pick(st).ok_or(none)?;
        let p = st.process(client).ok_or(none)?;
        let mut fx = Effects {
            smmu: &cs.dsp.smmu,
            rproc: &cs.dsp.rproc,
            done: &mut done,
            finished: KVec::new(),
        };
        start(p, &mut fx)
    })?;
    for r in done.iter() {
        cs.reply(r);
    }
    Ok(())
}

/// Asks the audio PD's daemon for `op` through `apps_mem` and waits for
/// the outcome (the channel is not held while waiting).
fn ask_mem(k: &Knob, op: MemOp) -> ReadResult {
    let wait = ReadWait::new()?;
    let cs = current(k)?;
    start_job(&cs, (|st| st.audio.client, ENOMEM), |p, fx| {
        p.request_mem(op, wait.clone(), fx)
    })?;
    drop(cs);
    wait.wait()
}

/// More memory from the apps side, written and read back through the
/// daemon's SMMU context.
fn grow(k: &Knob, bytes: u64) -> Result {
    let (vadsp, _) = ask_mem(k, MemOp::Map(bytes))?;
    let cs = current(k)?;
    let addr = cs.dsp.with_state(|st| {
        let client = st.audio.client;
        st.maps
            .iter()
            .find(|m| Some(m.client_id) == client && m.vaddr == vadsp && m.size >= bytes)
            .map(|m| m.addr)
            .ok_or(EFAULT)
    })?;
    // Written without the state's lock (see `write_audio`).
    fill(&cs.dsp.smmu, addr, bytes)?;
    cs.dsp
        .with_state(|st| st.audio.grants.push((vadsp, bytes), GFP_KERNEL))?;
    Ok(())
}

/// Writes a pattern over `[addr, addr + len)` through the SMMU and reads
/// it back.
fn fill(smmu: &Smmu, addr: u64, len: u64) -> Result {
    let mut page = [0u8; 4096];
    let mut back = [0u8; 4096];
    let mut off = 0u64;
    while off < len {
        let n = (len - off).min(4096) as usize;
        page.iter_mut().for_each(|b| *b = (off >> 12) as u8 ^ 0xa5);
        smmu.write(addr + off, &page[..n])?;
        smmu.read(addr + off, &mut back[..n])?;
        if back[..n] != page[..n] {
            return Err(EIO);
        }
        off += n as u64;
    }
    Ok(())
}

/// `free`: the heap is emptied, grants go back through `apps_mem`.
fn free_audio(k: &Knob) -> Result {
    let grants = with_state(k, |st| {
        st.audio.free();
        core::mem::take(&mut st.audio.grants)
    })
    .ok_or(ENODEV)?;
    let mut r = Ok(());
    for (vadsp, len) in grants {
        if let Err(e) = ask_mem(k, MemOp::Unmap(vadsp, len)) {
            r = Err(e);
        }
    }
    r
}

fn show_sensors(k: &Arc<Knob>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    with_state(k, |st| {
        match &st.sensors_last {
            None => writeln!(f, "none")?,
            Some((path, Ok((len, hash)))) => {
                let p = core::str::from_utf8(path).unwrap_or("?");
                writeln!(f, "read {p} {len} {hash:016x}")?
            }
            Some((_, Err(e))) => writeln!(f, "error {}", -e.to_errno())?,
        }
        writeln!(f, "up {}", u8::from(st.sensors.is_some()))
    })
    .unwrap_or_else(|| writeln!(f, "down"))
}

/// Starts the sensors PD's read of `path`.
fn start_read(cs: &ChanState, path: &[u8], wait: &Arc<ReadWait>) -> Result {
    start_job(cs, (|st| st.sensors, ENODEV), |p, fx| {
        p.read_file(path, wait.clone(), fx)
    })
}

fn write_sensors(k: &Arc<Knob>, r: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 64];
    let cmd = command(r, &mut buf)?;
    let path = cmd.strip_prefix("read ").map(str::trim).ok_or(EINVAL)?;
    let mut owned = KVec::new();
    owned.extend_from_slice(path.as_bytes(), GFP_KERNEL)?;
    let wait = ReadWait::new()?;
    {
        // Not held while waiting: a crash must be able to drop the DSP.
        let cs = k.current.lock().state.clone().ok_or(ENODEV)?;
        start_read(&cs, path.as_bytes(), &wait)?;
    }
    let r = wait.wait();
    if r != Err(ERESTARTSYS) {
        with_state(k, |st| st.sensors_last = Some((owned, r)));
    }
    r.map(|_| ())
}

fn show_listeners(k: &Arc<Knob>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    with_state(k, |st| {
        for p in st.procs.iter() {
            writeln!(
                f,
                "{} registered {} next2 {}",
                p.pd.name(),
                u8::from(p.default_listener),
                u8::from(p.listening())
            )?;
        }
        Ok(())
    })
    .unwrap_or_else(|| writeln!(f, "down"))
}

fn show_remoteproc(k: &Arc<Knob>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Ok(cs) = current(k) else {
        return writeln!(f, "down");
    };
    writeln!(f, "domain {}", cs.dsp.rproc.domain_kind())?;
    let (mapped, total) = cs.dsp.rproc.heap_pages();
    writeln!(f, "mapped {mapped} {total}")
}

fn ignore(_k: &Arc<Knob>, r: &mut UserSliceReader) -> Result {
    r.skip(r.len())?;
    Err(EINVAL)
}

/// Creates the four files of channel `name` in `dir`.
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
    let n = CString::try_from_fmt(fmt!("listeners-{name}"))?;
    let f = dir.read_write_callback_file(&n, knob.clone(), &show_listeners, &ignore);
    files.push(KBox::pin_init(f, GFP_KERNEL)?, GFP_KERNEL)?;
    let n = CString::try_from_fmt(fmt!("remoteproc-{name}"))?;
    let f = dir.read_write_callback_file(&n, knob.clone(), &show_remoteproc, &ignore);
    files.push(KBox::pin_init(f, GFP_KERNEL)?, GFP_KERNEL)?;
    Ok(())
}
