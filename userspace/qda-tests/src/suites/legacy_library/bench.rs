//! The library head-to-head of `make bench` (compare boot): the same
//! `qda_libtest bench` binary runs the calculator on cdsp through
//!
//! - the legacy-built FastRPC library on `fastrpc.ko`'s `/dev/fastrpc-cdsp`,
//! - the same library on qda's `/dev/fastrpc-cdsp`,
//! - the accel-built library on qda's `/dev/accel`,
//!
//! with the cdsp channel handed from one driver to the other between runs
//! (the simulator is reloaded with or without `upstream_cdsp=1`: same
//! channel, same label, same context banks). Passes alternate the order.
//! Prints, per figure, the median and the spread over the passes, and the
//! ratios of qda's medians to fastrpc.ko's.

use std::{collections::BTreeMap, path::Path, process::Command, time::Duration};

use super::cases::{legacy_env, present, CDSPRPC};
use crate::fixtures::{
    library::{accel_env, run, serve_syslog, Syslog, LIBTEST},
    upstream::{load, unload_sim, SIM, SIM_UPSTREAM, UPSTREAM_NODE},
    wait::wait_for,
};

/// Passes over the three configurations.
const PASSES: usize = 5;
/// Calls per figure, and the vector size of the throughput figures.
const CALLS: &str = "200";
const BYTES: &str = "65536";

/// One way of reaching the DSP.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Config {
    Upstream,
    QdaLegacy,
    QdaAccel,
}

impl Config {
    fn title(self) -> &'static str {
        match self {
            Self::Upstream => "fastrpc.ko",
            Self::QdaLegacy => "qda legacy",
            Self::QdaAccel => "qda accel",
        }
    }

    /// Hands cdsp to the driver this configuration uses.
    fn setup(self) -> Result<(), String> {
        unload_sim()?;
        let params = if self == Self::Upstream {
            SIM_UPSTREAM
        } else {
            ""
        };
        load(SIM, params)?;
        wait_for(|| Path::new(UPSTREAM_NODE).exists().then_some(()))
            .ok_or(format!("no {UPSTREAM_NODE} after insmod {SIM} {params}"))
    }

    /// The bench command with this configuration's library.
    fn command(self) -> Command {
        let mut cmd = Command::new(LIBTEST);
        cmd.args(["bench", CALLS, BYTES]);
        match self {
            Self::QdaAccel => {
                accel_env(&mut cmd);
            }
            _ => {
                legacy_env(&mut cmd).env("LD_PRELOAD", CDSPRPC);
            }
        }
        cmd
    }
}

/// Figures by (name, unit) and configuration, one value per pass.
type Figures = BTreeMap<(String, String), BTreeMap<Config, Vec<f64>>>;

/// Runs one configuration and adds its figures.
fn measure(c: Config, log: &Syslog, figs: &mut Figures) -> Result<(), String> {
    c.setup()?;
    let r = run(
        &format!("bench-{}", c.title()),
        c.command(),
        Duration::from_secs(120),
        log,
    )?;
    if r.code != Some(0) {
        return Err(format!("{} exited with {:?}", c.title(), r.code));
    }
    for l in &r.lines {
        let f: Vec<&str> = l.split_whitespace().collect();
        if let ["qda_libtest:", "bench", name, value, unit] = f[..] {
            if let Ok(v) = value.parse::<f64>() {
                let key = (name.to_string(), unit.to_string());
                figs.entry(key).or_default().entry(c).or_default().push(v);
            }
        }
    }
    Ok(())
}

/// Median and (min, max) of `v`.
fn stats(v: &[f64]) -> Option<(f64, f64, f64)> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let mid = s.len() / 2;
    let med = match s.len() {
        0 => return None,
        n if n % 2 == 0 => (s[mid - 1] + s[mid]) / 2.0,
        _ => s[mid],
    };
    Some((med, s[0], s[s.len() - 1]))
}

/// The table of medians, spreads and ratios.
fn table(figs: &Figures) -> String {
    let configs = [Config::Upstream, Config::QdaLegacy, Config::QdaAccel];
    let mut out = String::new();
    for ((name, unit), by) in figs {
        let med = |c| by.get(&c).and_then(|v| stats(v));
        out += &format!("{name:<14} {unit:<8}");
        for c in configs {
            out += &match med(c) {
                Some((m, lo, hi)) => format!("  {:<11} {m:>9.1} [{lo:.1}..{hi:.1}]", c.title()),
                None => format!("  {:<11} {:>9}", c.title(), "-"),
            };
        }
        if let Some((up, ..)) = med(Config::Upstream) {
            for c in [Config::QdaLegacy, Config::QdaAccel] {
                if let Some((m, ..)) = med(c) {
                    out += &format!("  {}/fastrpc.ko {:.2}x", c.title(), m / up);
                }
            }
        }
        out += "\n";
    }
    out
}

/// Runs the head-to-head and prints it.
pub fn run_bench() {
    if !present() || !Path::new(LIBTEST).exists() {
        println!("library head-to-head: skipped (no FastRPC library in this boot)");
        return;
    }
    let log = serve_syslog();
    let mut figs = Figures::new();
    let mut errors = Vec::new();
    for pass in 0..PASSES {
        let mut order = [Config::Upstream, Config::QdaLegacy, Config::QdaAccel];
        if pass % 2 == 1 {
            order.reverse();
        }
        for c in order {
            if let Err(e) = measure(c, &log, &mut figs) {
                errors.push(format!("pass {pass} {}: {e}", c.title()));
            }
        }
    }
    println!(
        "library head-to-head: qda_libtest bench {CALLS} {BYTES} (calculator on cdsp, one binary), \
         {PASSES} passes in alternating order; median [min..max] per figure"
    );
    print!("{}", table(&figs));
    for e in errors {
        println!("library head-to-head: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_spreads() {
        assert_eq!(stats(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0)));
        assert_eq!(stats(&[4.0, 1.0, 2.0, 3.0]), Some((2.5, 1.0, 4.0)));
        assert_eq!(stats(&[]), None);
    }

    #[test]
    fn the_table_has_ratios_to_fastrpc() {
        let mut figs = Figures::new();
        let by = figs
            .entry(("round_trip".into(), "calls/s".into()))
            .or_default();
        by.insert(Config::Upstream, vec![100.0, 120.0, 110.0]);
        by.insert(Config::QdaLegacy, vec![200.0, 220.0, 210.0]);
        let t = table(&figs);
        assert!(t.contains("qda legacy/fastrpc.ko 1.91x"), "{t}");
        assert!(t.contains("110.0 [100.0..120.0]"), "{t}");
    }
}
