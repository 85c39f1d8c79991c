//! The `qda_static_pd` suite: the ADSP's audio PD on the remote heap and
//! the sensors PD, served by `qdactl daemon`, checked through the
//! simulator's debugfs files (`audiopd-adsp`, `sensors-adsp`,
//! `remoteproc-adsp`) and qda's own (`qda/adsp/memory`, `sessions`).
//!
//! It runs on freshly loaded modules (after `qda_userspace`, which ends by
//! reloading them): the first case sees the channel's first create.

mod audio_pd;
mod faults;
mod remote_heap;
mod sensors_pd;

use crate::fixtures::{
    ktap::{check, Outcome, Suite},
    sessions::slots,
    wait::eventually,
};

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
    s.case("daemon_killed_mid_call", faults::daemon_killed_mid_call);
    s.case(
        "sensors_pd_attach",
        sensors_pd::attach_reaches_the_sensors_pd,
    );
    s.case(
        "sensors_pd_reads_a_file_through_apps_std",
        sensors_pd::reads_a_file_through_apps_std,
    );
    s.case("ssr_with_the_audio_pd_up", faults::ssr_with_the_audio_pd_up);
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
