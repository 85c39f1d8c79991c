//! The sensors PD (`qda_static_pd`): attached by `qdactl daemon sensors`,
//! it reads a file the test wrote through `apps_std` reverse calls to the
//! daemon; the simulator reports the length and FNV-1a hash it read.

use std::fs;

use crate::{
    daemon_proc::DaemonProc,
    ktap::{check, Outcome},
    sim_static::{clear_trace, command, fnv1a64, init_requests, sensors, trace},
    static_pd::DSP,
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
        crate::faults::eventually(|| sensors(DSP).is_ok_and(|s| !s.up)),
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

/// The sensors PD of `dsp` reads `path` (holding `data`) through its
/// daemon: the simulator must report the path, length and FNV-1a hash.
pub fn read_is_checked(dsp: &str, path: &str, data: &[u8]) -> Outcome {
    let file = format!("sensors-{dsp}");
    command(&file, &format!("read {path}")).map_err(|e| format!("read {path}: {e}"))?;
    let s = sensors(dsp)?;
    let want = [
        "read".to_string(),
        path.to_string(),
        data.len().to_string(),
        format!("{:016x}", fnv1a64(data)),
    ];
    check!(
        s.last == want,
        "sensors PD read {:?}, want {want:?}",
        s.last
    );
    Ok(())
}

/// A read of a missing file fails, and the simulator reports an error.
pub fn missing_read_fails(dsp: &str) -> Outcome {
    let file = format!("sensors-{dsp}");
    let missing = "/tmp/qda-no-such-sensors.cfg";
    let r = command(&file, &format!("read {missing}"));
    let s = sensors(dsp)?;
    check!(
        r.is_err() && s.last.first().map(String::as_str) == Some("error"),
        "read of a missing file: {r:?}, {:?}",
        s.last
    );
    Ok(())
}
