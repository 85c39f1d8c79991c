//! The sensors PD (`qda_static_pd`): attached by `qdactl daemon sensors`,
//! it reads a file the test wrote through `apps_std` reverse calls to the
//! daemon; the simulator reports the length and FNV-1a hash it read.

use std::fs;

use crate::fixtures::{
    daemon_proc::DaemonProc,
    ktap::{check, Outcome},
    sensors_pd::{missing_read_fails, read_is_checked},
    sim_static::{clear_trace, init_requests, sensors, trace},
    static_pd::DSP,
    wait::eventually,
};

/// `qdactl daemon sensors` attaches to the sensors PD: the DSP sees an
/// attach in the sensors PD's context, a process there while the daemon
/// runs, none after it is gone (its release).
pub fn attach_reaches_the_sensors_pd() -> Outcome {
    clear_trace(DSP)?;
    check!(!sensors(DSP)?.up, "a sensors PD process before the attach");
    let d = DaemonProc::spawn("sensors", DSP)?;
    check!(sensors(DSP)?.up, "no sensors PD after the attach");
    let attaches = init_requests(&trace(DSP)?, qda::rpc::scalars(0, 1, 0));
    let pds: Vec<u32> = attaches.iter().map(|a| a.0).collect();
    check!(pds == [2], "PD bits of the attaches: {pds:?}, want [2]");
    d.kill()?;
    check!(
        eventually(|| sensors(DSP).is_ok_and(|s| !s.up)),
        "the sensors PD process outlived its daemon"
    );
    Ok(())
}

pub fn reads_a_file_through_apps_std() -> Outcome {
    let path = "/tmp/qda-sensors.cfg";
    // 40 000 bytes: more than one fread of a typical 16 KiB chunk.
    let data: Vec<u8> = (0..40_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    fs::write(path, &data).map_err(|e| format!("{path}: {e}"))?;
    clear_trace(DSP)?;
    let d = DaemonProc::spawn("sensors", DSP)?;
    check!(sensors(DSP)?.up, "no sensors PD after the attach");
    // ATTACH (handle 1, method 0, one input) in the sensors PD's context.
    let attaches = init_requests(&trace(DSP)?, qda::rpc::scalars(0, 1, 0));
    let pds: Vec<u32> = attaches.iter().map(|a| a.0).collect();
    check!(pds == [2], "PD bits of the attaches: {pds:?}, want [2]");
    read_is_checked(DSP, path, &data)?;
    missing_read_fails(DSP)?;
    let _ = fs::remove_file(path);
    d.kill()
}
