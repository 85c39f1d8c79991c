//! `/init` of the QEMU test guest.
//!
//! Mounts the pseudo filesystems, loads `qda.ko` and `qda_dsp_sim.ko`,
//! then either shows the demo (`qda_mode=demo` on the kernel command line)
//! or runs the userspace test-suite, the static PD suite, the FastRPC
//! library's suites (its accel and its legacy build) and the differential
//! suite (qda against fastrpc.ko)
//! and prints them as KTAP (`qda_mode=test`), or runs the boundary fuzzer
//! at length (`qda_mode=fuzz`), or, on the board flavour of the kernel,
//! lets udev and modprobe load what `make modules_install` and dkms
//! installed and runs the suites there (`qda_mode=board`), and powers the
//! machine off.

mod audio_pd;
mod backends;
mod board;
mod daemon_proc;
mod differential;
mod divergence;
mod fair_share;
mod faults;
mod fuzz;
mod hostile_ranges;
mod interrupted;
mod kernel_call_faults;
mod kmemleak;
mod ktap;
mod legacy_library;
mod legacy_nodes;
mod lib_bench;
mod library;
mod listener;
mod memory;
mod prime;
mod remote_heap;
mod rpc;
mod sensors_pd;
mod sessions;
mod sim_static;
mod static_pd;
mod static_pd_faults;
mod sys;
mod tests;

use std::time::Duration;

/// Modules in load order; unloaded in reverse.
pub const MODULES: [&str; 2] = ["qda", "qda_dsp_sim"];

fn demo() {
    println!("== qda demo ==");
    match qda::Device::paths() {
        Ok(p) => {
            println!("$ ls {}", qda::ACCEL_DIR);
            for p in &p {
                println!("{}", p.display());
            }
        }
        Err(e) => println!("cannot list {}: {e}", qda::ACCEL_DIR),
    }
    // The legacy nodes of the same DSPs (the fastrpc.ko UAPI).
    println!("$ ls /dev/fastrpc-*");
    for n in legacy_nodes::node_names() {
        println!("/dev/{n}");
    }
    match qda::Device::all() {
        Ok(devs) => {
            for d in devs {
                match d.query() {
                    Ok(q) => println!(
                        "{}: QUERY -> dsp_name={:?} capabilities={:#x}",
                        d.path().display(),
                        q.name(),
                        q.capabilities()
                    ),
                    Err(e) => println!("{}: QUERY failed: {e}", d.path().display()),
                }
            }
        }
        Err(e) => println!("opening accel nodes failed: {e}"),
    }
    for args in [
        &["list"][..],
        &["info", "cdsp"][..],
        &["alloc", "adsp", "100000", "cma"][..],
        &["alloc", "cdsp", "8192", "carveout"][..],
        &["calc", "cdsp", "sum", "1", "2", "3", "4"][..],
        &["calc", "adsp", "max", "-7", "42", "5"][..],
        &["invoke", "cdsp", "null", "2"][..],
    ] {
        println!("$ qdactl {}", args.join(" "));
        if let Err(e) = std::process::Command::new("/bin/qdactl")
            .args(args)
            .status()
        {
            println!("running /bin/qdactl failed: {e}");
        }
    }
    println!("== end of demo ==");
}

/// `qda_mode=probe`: which DSPs registered (for the broken-DT tests).
fn probe() {
    let mut names = Vec::new();
    for d in qda::Device::all().unwrap_or_default() {
        if let Ok(q) = d.query() {
            names.push(q.name().to_string());
        }
    }
    names.sort();
    println!("qda-probe: dsps={}", names.join(","));
    legacy_nodes::probe();
    for d in qda::Device::all().unwrap_or_default() {
        let name = d.query().map(|q| q.name().to_string()).unwrap_or_default();
        match calculator_sum(&d) {
            Ok(sum) => println!("qda-probe: calc {name}: sum of 1..=1000 = {sum}"),
            Err(e) => println!("qda-probe: calc {name} failed: {e}"),
        }
        match carveout_roundtrip(&d) {
            Ok(true) => println!("qda-probe: carveout {name} ok"),
            Ok(false) => {}
            Err(e) => println!("qda-probe: carveout {name} failed: {e}"),
        }
    }
}

/// A remote call on the root PD of `d`: the calculator's sum of 1..=1000,
/// computed by the (simulated) DSP from the buffer it reads.
fn calculator_sum(d: &qda::Device) -> std::io::Result<i64> {
    let v: Vec<i32> = (1..=1000).collect();
    d.attach()?;
    let h = d.open_module("calculator")?;
    let sum = d.calculator_sum(h, &v)?;
    d.close_module(h)?;
    Ok(sum)
}

/// A carve-out buffer of `d` (`Ok(false)` if it has no carve-out): zeroed
/// when new, and what one mapping writes another reads back.
fn carveout_roundtrip(d: &qda::Device) -> Result<bool, String> {
    let bo = match qda::Bo::new_in(d, 3 * 4096, qda::uapi::QDA_MEM_CARVEOUT) {
        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => return Ok(false),
        r => r.map_err(|e| format!("alloc: {e}"))?,
    };
    {
        let mut m = bo.map().map_err(|e| format!("mmap: {e}"))?;
        if m.as_slice().iter().any(|&b| b != 0) {
            return Err("new buffer not zeroed".into());
        }
        for (i, b) in m.as_mut_slice().iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
    }
    let m = bo.map().map_err(|e| format!("mmap: {e}"))?;
    let same = m
        .as_slice()
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (i % 251) as u8);
    same.then_some(true)
        .ok_or_else(|| "data differs after remapping".into())
}

fn main() {
    // A child the qda_legacy suite runs as an unprivileged app.
    match std::env::var("qda_mode").as_deref() {
        Ok("unprivileged") => return legacy_nodes::unprivileged(),
        Ok("unprivileged-creates") => return legacy_nodes::unprivileged_creates(),
        Ok("hold-session") => return fair_share::hold_session(),
        Ok("many-files") => return fair_share::many_files(),
        Ok("calls") => return fair_share::calls(),
        _ => {}
    }
    // The hostile-range probes the qda_legacy suite runs as an app.
    if std::env::var("qda_mode").as_deref() == Ok("hostile_ranges") {
        hostile_ranges::unprivileged();
        return;
    }
    // A child of the boundary fuzzer (as root or as an app).
    if std::env::var("qda_mode").as_deref() == Ok("fuzz_child") {
        fuzz::boundary::child();
        return;
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
    // Let the probe messages reach the console before our own output.
    std::thread::sleep(Duration::from_millis(200));
    match mode.as_str() {
        "test" => {
            ktap::run_suite("qda_userspace", || tests::run(loaded));
            ktap::run_suite("qda_static_pd", static_pd::run);
            ktap::run_suite("qda_legacy", legacy_nodes::run);
            ktap::run_suite("qda_library", library::run_suite);
            ktap::run_suite("qda_legacy_library", || legacy_library::run_suite(true));
            ktap::run_suite("qda_differential", differential::run);
        }
        "board" => {
            board::run();
            ktap::run_suite("qda_userspace", || tests::run(loaded));
            ktap::run_suite("qda_static_pd", static_pd::run);
            ktap::run_suite("qda_legacy", legacy_nodes::run);
            ktap::run_suite("qda_library", library::run_suite);
            ktap::run_suite("qda_legacy_library", || legacy_library::run_suite(true));
            board::run_dkms();
        }
        "probe" => probe(),
        // `make fuzz`: the boundary fuzzer at length (qda_fuzz_seed,
        // qda_fuzz_iterations on the kernel command line).
        "fuzz" => ktap::run_suite("qda_fuzz", || {
            let cfg = fuzz::boundary::Config::from_env(0x5eed_f00d_cafe_d00d, 20_000);
            let mut s = ktap::Suite::new("qda_fuzz");
            s.case("boundary_values_on_both_node_kinds", || {
                fuzz::boundary::run(cfg)
            });
            s.case("kmemleak_finds_no_leak", kmemleak::nothing_leaked);
            print!("{}", s.render());
        }),
        "compare" => {
            if let Err(e) = std::process::Command::new("/bin/qdactl")
                .arg("compare")
                .status()
            {
                println!("running /bin/qdactl compare failed: {e}");
            }
            // The legacy library against fastrpc.ko's /dev/fastrpc-cdsp,
            // when the boot carries it (QDA_GUEST_LIBRARY=1).
            // (kmemleak is off in this boot.)
            if legacy_library::present() {
                lib_bench::run_bench();
                ktap::run_suite("qda_legacy_library", || legacy_library::run_suite(false));
            }
        }
        "bench" => {
            if let Err(e) = std::process::Command::new("/bin/qdactl")
                .arg("bench")
                .status()
            {
                println!("running /bin/qdactl bench failed: {e}");
            }
        }
        _ => demo(),
    }
}
