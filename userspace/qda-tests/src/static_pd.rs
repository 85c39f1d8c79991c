//! The `qda_static_pd` suite: the ADSP's audio PD on the remote heap and
//! the sensors PD, served by `qdactl daemon`, checked through the
//! simulator's debugfs files (`audiopd-adsp`, `sensors-adsp`,
//! `remoteproc-adsp`) and qda's own (`qda/adsp/memory`, `sessions`).
//!
//! It runs on freshly loaded modules (after `qda_userspace`, which ends by
//! reloading them): the first case sees the channel's first create.

use qda::Device;

use crate::{
    audio_pd,
    faults::eventually,
    ktap::{check, Outcome, Suite},
    remote_heap, sensors_pd,
    sessions::slots,
    sim_static::{self, alloc, audio, remoteproc},
    static_pd_faults,
};

/// The DSP with the remote heap.
pub const DSP: &str = "adsp";
pub const PAGE: u64 = 4096;
pub const MIB: u64 = 1 << 20;
/// Size of the ADSP remote heap in the test DT.
pub const HEAP_SIZE: u64 = 8 * MIB;

/// Opens `dsp`. A daemon killed just before frees its session when its
/// file is released, shortly after its DSP process is: `EBUSY` (no free
/// session) is waited out.
pub fn open(dsp: &str) -> Result<Device, String> {
    let mut last = None;
    crate::faults::eventually(|| match Device::by_name(dsp) {
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => false,
        r => {
            last = Some(r);
            true
        }
    });
    last.unwrap_or_else(|| Device::by_name(dsp))
        .map_err(|e| format!("open {dsp}: {e}"))
}

/// The remote heap the audio PD holds: (base, size).
pub fn heap() -> Result<(u64, u64), String> {
    let a = audio(DSP)?;
    a.heap
        .ok_or_else(|| format!("the audio PD has no heap: {a:?}"))
}

/// `alloc <bytes>` must succeed, and the simulator must say so.
pub fn alloc_ok(bytes: u64) -> Outcome {
    alloc(DSP, bytes).map_err(|e| format!("alloc {bytes}: {e}"))?;
    let a = audio(DSP)?;
    check!(a.last == "ok", "alloc {bytes}: last {:?}", a.last);
    Ok(())
}

/// `free`: nothing used in the heap and no grant held afterwards.
pub fn free_all() -> Outcome {
    sim_static::free(DSP).map_err(|e| format!("free: {e}"))?;
    let a = audio(DSP)?;
    check!(a.used == 0 && a.grants == 0, "after free: {a:?}");
    Ok(())
}

/// Every page of the `size`-byte heap translates IOVA == PA in the
/// remoteproc's domain.
pub fn heap_fully_mapped(size: u64) -> Outcome {
    let r = remoteproc(DSP)?;
    check!(r.domain != "none", "remoteproc-{DSP} has no IOMMU domain");
    check!(
        r.total == size / PAGE && r.mapped == r.total,
        "remote heap mapping: {} of {} pages (heap {size:#x})",
        r.mapped,
        r.total
    );
    Ok(())
}

/// `pageslen` of every CREATE_STATIC (handle 1, method 8, 3 inputs) the
/// ADSP received since its trace was cleared; each must carry the user
/// PD bits (1).
pub fn traced_creates() -> Result<Vec<u32>, String> {
    let t = sim_static::trace(DSP)?;
    let mut v = Vec::new();
    for (pd, d) in sim_static::init_requests(&t, qda::rpc::scalars(8, 3, 0)) {
        check!(pd == 1, "CREATE_STATIC with PD bits {pd}: {d}");
        v.push(sim_static::pageslen(&d).ok_or(format!("no pageslen in {d:?}"))?);
    }
    Ok(v)
}

/// Backends of `dsp` with buffers still allocated (`qda/<dsp>/memory`).
fn live_backends(dsp: &str) -> Result<Vec<String>, String> {
    let path = format!("/sys/kernel/debug/qda/{dsp}/memory");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("pool ") && !l.ends_with(" 0 0"))
        .map(str::to_string)
        .collect())
}

/// No buffer of any backend left on `dsp` and no session held, once
/// exiting daemons are gone.
pub fn nothing_left(dsp: &str) -> Outcome {
    let clean = || {
        live_backends(dsp).is_ok_and(|v| v.is_empty())
            && slots(dsp).is_ok_and(|s| s.iter().all(|s| s.owner == -1))
    };
    check!(
        eventually(clean),
        "{dsp}: left over: {:?}, session owners {:?}, calls: {:?}",
        live_backends(dsp),
        slots(dsp).map(|s| s
            .iter()
            .map(|s| (s.owner, task_state(s.owner)))
            .collect::<Vec<_>>()),
        std::fs::read_to_string(format!("/sys/kernel/debug/qda/{dsp}/calls"))
    );
    Ok(())
}

/// The `State:` line of process `pid`, or why not.
fn task_state(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status")).map_or_else(
        |e| e.to_string(),
        |t| {
            let name = t.lines().next().unwrap_or("").to_string();
            let state = t.lines().find(|l| l.starts_with("State:")).unwrap_or("");
            format!("{name} {state}")
        },
    )
}

/// Runs every case and prints the KTAP document.
pub fn run() {
    let mut s = Suite::new("qda_static_pd");
    s.case(
        "audio_pd_first_create_sends_the_heap",
        audio_pd::first_create_sends_the_heap,
    );
    s.case(
        "audio_pd_later_create_does_not_send_it_again",
        audio_pd::later_create_does_not_send_it_again,
    );
    s.case("create_static_refusals", audio_pd::create_static_refusals);
    s.case(
        "audio_alloc_in_the_heap_is_reachable",
        audio_pd::alloc_in_the_heap_is_reachable,
    );
    s.case(
        "alloc_beyond_the_heap_goes_through_apps_mem",
        audio_pd::alloc_beyond_the_heap_goes_through_apps_mem,
    );
    s.case(
        "apps_cannot_allocate_from_the_remote_heap",
        audio_pd::apps_cannot_allocate_from_the_remote_heap,
    );
    s.case(
        "daemon_killed_mid_call",
        static_pd_faults::daemon_killed_mid_call,
    );
    s.case(
        "sensors_pd_attach",
        sensors_pd::attach_reaches_the_sensors_pd,
    );
    s.case(
        "sensors_pd_reads_a_file_through_apps_std",
        sensors_pd::reads_a_file_through_apps_std,
    );
    s.case(
        "ssr_with_the_audio_pd_up",
        static_pd_faults::ssr_with_the_audio_pd_up,
    );
    s.case(
        "remote_heap_unmapped_while_qda_is_unbound",
        remote_heap::unmapped_while_qda_is_unbound,
    );
    s.case("nothing_leaked", || {
        nothing_left("adsp")?;
        nothing_left("cdsp")
    });
    print!("{}", s.render());
}
