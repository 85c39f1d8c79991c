//! Kernel memory-leak check around the whole test-suite, with kmemleak
//! (the test boot passes `kmemleak=on`).
//!
//! [`baseline`] forgets whatever the boot itself left unreferenced;
//! [`nothing_leaked`] runs at the very end, after every test, the rmmod
//! and the re-insmod, and fails listing each object kmemleak reports.

use std::{fs, thread::sleep, time::Duration};

use crate::ktap::{check, Outcome};

const CTL: &str = "/sys/kernel/debug/kmemleak";

/// kmemleak only reports objects older than this (`MSECS_MIN_AGE`), plus
/// a margin.
const MIN_AGE: Duration = Duration::from_millis(5500);

fn uptime() -> Duration {
    let s = fs::read_to_string("/proc/uptime").unwrap_or_default();
    let secs: f64 = s
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    Duration::from_secs_f64(secs)
}

fn ctl(cmd: &str) -> Result<(), String> {
    fs::write(CTL, cmd).map_err(|e| format!("{CTL} <- {cmd}: {e}"))
}

/// Whether kmemleak is running in this kernel.
pub fn enabled() -> bool {
    fs::read_to_string(CTL).is_ok()
}

/// Scans once every object of the boot is old enough to be reported, then
/// clears the report so that only objects leaked by the tests remain.
pub fn baseline() -> Result<(), String> {
    let up = uptime();
    if up < MIN_AGE {
        sleep(MIN_AGE - up);
    }
    ctl("scan")?;
    ctl("clear")
}

/// Waits until every object the tests allocated is old enough, scans
/// twice (the second scan drops objects that were only transiently
/// unreferenced) and expects an empty report.
pub fn nothing_leaked() -> Outcome {
    sleep(MIN_AGE);
    ctl("scan")?;
    ctl("scan")?;
    let report = fs::read_to_string(CTL).map_err(|e| format!("{CTL}: {e}"))?;
    let objects = report
        .lines()
        .filter(|l| l.starts_with("unreferenced object"))
        .count();
    check!(
        objects == 0,
        "kmemleak reports {objects} unreferenced objects:\n{}",
        report.lines().take(60).collect::<Vec<_>>().join("\n")
    );
    Ok(())
}
