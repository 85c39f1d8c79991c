// SPDX-License-Identifier: GPL-2.0

//! debugfs files of one DSP, under `/sys/kernel/debug/qda/<dsp>/`:
//!
//! - `sessions`: one line per session slot: SID, IOMMU group, the DSP
//!   address window, the owning process and its open files.
//! - `invoke_timeout_ms`: timeout of user calls (0, the default: until
//!   the reply or a signal). Writable.
//! - `calls`: FastRPC calls in flight (pending or orphaned), orphans made,
//!   orphaned now (unanswered; user calls are refused at `orphan_limit`),
//!   answered but not yet reaped (freed by the next call), and reaped,
//!   processes kept for the DSP after a release it did not confirm,
//!   replies dropped (unknown, stale, duplicate).
//! - `memory`: live allocations and bytes per memory backend, then one
//!   `pool <backend> <base> <size>` line per reserved region in use.
//! - `remote_heap` (only on a DSP with a remote heap): `<base> <size>
//!   <access> <sent>`: where the static PDs' heap is, how the DSP reaches
//!   it (`identity-mapped`, `scm-assigned`, `direct`) and whether a
//!   static-PD create has handed it to the DSP (1) or not yet (0).
//! - `iova_probe`: write a DSP address; reading then shows, for every
//!   context bank, which physical address that address's IOVA translates
//!   to in the CB's IOMMU domain (`-` if unmapped). Tests use it to show
//!   that one process's buffer is not reachable through another's CB.

use core::fmt;
use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
    },
    uaccess::UserSliceReader, //
};

use crate::{
    fastrpc::channel::{
        Channel,
        ORPHAN_LIMIT, //
    },
    memory::MemoryManager,
    platform::{
        remote_heap::HeapInfo,
        session::Sessions, //
    },
};

/// State of the `iova_probe` file.
pub(crate) struct IovaProbe {
    sessions: Arc<Sessions>,
    addr: Atomic<u64>,
}

/// The files of one DSP; removed on drop.
pub(crate) struct DspDebugfs {
    _calls: Pin<KBox<File<Arc<Channel>>>>,
    _timeout: Pin<KBox<File<Arc<Channel>>>>,
    _sessions: Pin<KBox<File<Arc<Sessions>>>>,
    _memory: Pin<KBox<File<Arc<MemoryManager>>>>,
    _probe: Pin<KBox<File<IovaProbe>>>,
    _heap: Option<Pin<KBox<File<HeapView>>>>,
    _dir: Dir,
}

/// The remote heap as debugfs shows it.
pub(crate) struct HeapView {
    info: Arc<HeapInfo>,
    access: &'static str,
}

fn show_heap(h: &HeapView, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(
        f,
        "{:#x} {:#x} {} {}",
        h.info.base,
        h.info.size,
        h.access,
        u8::from(h.info.is_sent())
    )
}

fn show_sessions(s: &Arc<Sessions>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, "slot sid iommu_group dsp_window owner_tgid files")?;
    let mut r = Ok(());
    s.for_each(|slot, cb, owner| {
        let window = cb.window().dsp_addr(0).unwrap_or(0);
        let (tgid, files) = owner.unwrap_or((-1, 0));
        if r.is_ok() {
            r = writeln!(
                f,
                "{slot} {} {} {window:#x} {tgid} {files}",
                cb.sid,
                cb.dev.iommu_group_id().unwrap_or(-1)
            );
        }
    });
    r
}

fn show_calls(c: &Arc<Channel>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, "in_flight {}", c.in_flight())?;
    writeln!(f, "orphaned {}", c.stats.orphaned.load(Relaxed))?;
    let (orphans, unreaped) = c.orphans();
    writeln!(f, "orphans {orphans}")?;
    writeln!(f, "orphan_limit {ORPHAN_LIMIT}")?;
    writeln!(f, "unreaped {unreaped}")?;
    writeln!(f, "reaped {}", c.stats.reaped.load(Relaxed))?;
    writeln!(f, "kept {}", c.kept())?;
    writeln!(f, "dropped_replies {}", c.stats.dropped.load(Relaxed))
}

fn show_timeout(c: &Arc<Channel>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, "{}", c.user_timeout_ms.load(Relaxed))
}

fn write_timeout(c: &Arc<Channel>, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 16];
    let n = reader.len().min(buf.len());
    reader.read_slice(&mut buf[..n])?;
    let text = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?.trim();
    let ms = text.parse::<u32>().map_err(|_| EINVAL)?;
    c.user_timeout_ms.store(ms, Relaxed);
    Ok(())
}

fn show_memory(m: &Arc<MemoryManager>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, "backend allocations bytes")?;
    let mut r = Ok(());
    m.for_each_usage(|name, usage| {
        let (n, bytes) = usage.get();
        if r.is_ok() {
            r = writeln!(f, "{name} {n} {bytes}");
        }
    });
    m.for_each_pool(|name, base, size| {
        if r.is_ok() {
            r = writeln!(f, "pool {name} {base:#x} {size:#x}");
        }
    });
    r
}

fn show_probe(p: &IovaProbe, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let addr = p.addr.load(Relaxed);
    // Every CB of a channel has the channel's layout.
    let mut iova = 0;
    p.sessions
        .for_each(|_, cb, _| iova = cb.window().layout.split(addr).1);
    writeln!(f, "dsp_addr {addr:#x} iova {iova:#x}")?;
    writeln!(f, "slot sid phys")?;
    let mut r = Ok(());
    p.sessions.for_each(|slot, cb, _| {
        if r.is_ok() {
            r = match cb.dev.iova_to_phys(iova) {
                0 => writeln!(f, "{slot} {} -", cb.sid),
                phys => writeln!(f, "{slot} {} {phys:#x}", cb.sid),
            };
        }
    });
    r
}

fn write_probe(p: &IovaProbe, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 24];
    let n = reader.len().min(buf.len());
    reader.read_slice(&mut buf[..n])?;
    let text = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?.trim();
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let addr = u64::from_str_radix(digits, 16).map_err(|_| EINVAL)?;
    p.addr.store(addr, Relaxed);
    Ok(())
}

impl DspDebugfs {
    /// Creates `<parent>/<name>/` and its files.
    pub(crate) fn new(
        parent: &Dir,
        name: &CStr,
        (sessions, memory, channel): (&Arc<Sessions>, &Arc<MemoryManager>, &Arc<Channel>),
        heap: Option<(Arc<HeapInfo>, &'static str)>,
    ) -> Result<Self> {
        let dir = parent.subdir(name);
        let heap = match heap {
            Some((info, access)) => Some(KBox::pin_init(
                dir.read_callback_file(c"remote_heap", HeapView { info, access }, &show_heap),
                GFP_KERNEL,
            )?),
            None => None,
        };
        Ok(Self {
            _heap: heap,
            _calls: KBox::pin_init(
                dir.read_callback_file(c"calls", channel.clone(), &show_calls),
                GFP_KERNEL,
            )?,
            _timeout: KBox::pin_init(
                dir.read_write_callback_file(
                    c"invoke_timeout_ms",
                    channel.clone(),
                    &show_timeout,
                    &write_timeout,
                ),
                GFP_KERNEL,
            )?,
            _sessions: KBox::pin_init(
                dir.read_callback_file(c"sessions", sessions.clone(), &show_sessions),
                GFP_KERNEL,
            )?,
            _memory: KBox::pin_init(
                dir.read_callback_file(c"memory", memory.clone(), &show_memory),
                GFP_KERNEL,
            )?,
            _probe: KBox::pin_init(
                dir.read_write_callback_file(
                    c"iova_probe",
                    IovaProbe {
                        sessions: sessions.clone(),
                        addr: Atomic::new(0),
                    },
                    &show_probe,
                    &write_probe,
                ),
                GFP_KERNEL,
            )?,
            _dir: dir,
        })
    }
}
