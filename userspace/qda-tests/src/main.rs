//! `/init` of the QEMU test guest.
//!
//! Mounts the pseudo filesystems, loads `qda.ko` and `qda_dsp_sim.ko`,
//! then either shows the demo (`qda_mode=demo` on the kernel command line)
//! or runs the userspace test-suite, the static PD suite, the FastRPC
//! library's suites (its accel and its legacy build) and the differential
//! suite (qda against fastrpc.ko)
//! and prints them as KTAP (`qda_mode=test`), or runs the boundary fuzzer
//! at length (`qda_mode=fuzz`), or the device-tree corpus
//! (`qda_mode=corpus`), or, on the board flavour of the kernel,
//! lets udev and modprobe load what `make modules_install` and dkms
//! installed and runs the suites there (`qda_mode=board`), and powers the
//! machine off.
//!
//! The crate: [`fixtures`] (what the suites share), [`fuzz`] (the two
//! fuzzers), [`suites`] (one folder per KTAP suite, each with its registry
//! of cases) and the boot modes that are no suite ([`demo`], [`probe`]).

mod demo;
mod fixtures;
mod fuzz;
mod probe;
mod suites;

use std::time::Duration;

use fixtures::{
    ktap::{self, run_suite},
    sys, MODULES,
};
use suites::{
    board, differential, dt_corpus, legacy, legacy_library, library, static_pd, userspace,
};

fn main() {
    let mode = std::env::var("qda_mode");
    // A child a suite runs (as an unprivileged app, or of the fuzzer).
    match mode.as_deref() {
        Ok("unprivileged") => return legacy::nodes::unprivileged(),
        Ok("unprivileged-creates") => return legacy::nodes::unprivileged_creates(),
        Ok("hold-session") => return legacy::fair_share::hold_session(),
        Ok("many-files") => return legacy::fair_share::many_files(),
        Ok("calls") => return legacy::fair_share::calls(),
        Ok("hostile_ranges") => return legacy::hostile_ranges::unprivileged(),
        Ok("fuzz_child") => return fuzz::boundary::child(),
        _ => {}
    }
    // Whatever panics, PID 1 goes on to power the machine off.
    if let Err(e) = ktap::catch(run) {
        println!("qda-init: {e}");
    }
    sys::power_off();
}

/// Everything `/init` does before powering off.
fn run() {
    sys::mount_all();
    let mode = std::env::var("qda_mode").unwrap_or_else(|_| "demo".into());
    let loaded = load_modules(&mode);
    // Let the probe messages reach the console before our own output.
    std::thread::sleep(Duration::from_millis(200));
    match mode.as_str() {
        "test" => {
            common_suites(loaded);
            run_suite("qda_differential", differential::run);
        }
        "board" => {
            board::run();
            common_suites(loaded);
            board::run_dkms();
        }
        "probe" => probe::run(),
        // The device-tree corpus (tests/dt_corpus): every FastRPC node of
        // the kernel's qcom trees, through qda and fastrpc.ko.
        "corpus" => run_suite("qda_dt_corpus", dt_corpus::run),
        // `make fuzz`: the boundary fuzzer at length.
        "fuzz" => run_suite("qda_fuzz", suites::fuzz::run),
        "compare" => {
            qdactl("compare");
            // The legacy library against fastrpc.ko's /dev/fastrpc-cdsp,
            // when the boot carries it (QDA_GUEST_LIBRARY=1).
            // (kmemleak is off in this boot.)
            if legacy_library::present() {
                legacy_library::bench::run_bench();
                run_suite("qda_legacy_library", || legacy_library::run_suite(false));
            }
        }
        "bench" => qdactl("bench"),
        _ => demo::run(),
    }
}

/// Loads what `mode` runs on; false if one of [`MODULES`] failed to load.
fn load_modules(mode: &str) -> bool {
    let mut loaded = true;
    if mode == "compare" {
        // drivers/misc/fastrpc.c and what it needs, then qda, then the
        // simulator with cdsp steered to fastrpc.ko.
        for m in ["qcom_tzmem", "qcom_pas", "qcom-scm", "fastrpc", "qda"] {
            if let Err(e) = sys::load_module(m) {
                println!("qda-init: loading {m}.ko failed: {e}");
            }
        }
        if let Err(e) = sys::load_module_with("qda_dsp_sim", "upstream_cdsp=1") {
            println!("qda-init: loading qda_dsp_sim.ko failed: {e}");
        }
    } else if mode == "corpus" {
        // The simulator is loaded per SoC of the corpus (dt_corpus::run).
        if let Err(e) = sys::load_module("qda") {
            println!("qda-init: loading qda.ko failed: {e}");
        }
    } else if mode == "board" {
        // udev and modprobe load the modules (board::run).
    } else {
        for m in MODULES {
            if let Err(e) = sys::load_module(m) {
                println!("qda-init: loading {m}.ko failed: {e}");
                loaded = false;
            }
        }
    }
    loaded
}

/// The suites the test boot and the board boot both run, in order.
fn common_suites(loaded: bool) {
    run_suite("qda_userspace", || userspace::run(loaded));
    run_suite("qda_static_pd", static_pd::run);
    run_suite("qda_legacy", legacy::run);
    run_suite("qda_library", library::run_suite);
    run_suite("qda_legacy_library", || legacy_library::run_suite(true));
}

/// Runs `/bin/qdactl <cmd>` (built with feature `bench`).
fn qdactl(cmd: &str) {
    if let Err(e) = std::process::Command::new("/bin/qdactl").arg(cmd).status() {
        println!("running /bin/qdactl {cmd} failed: {e}");
    }
}
