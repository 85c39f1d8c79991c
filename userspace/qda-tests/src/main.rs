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

mod audio_pd;
mod backends;
mod board;
mod corpus;
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
/// The DSPs of the test tree (`dts/qda-virt.dtsi`), sorted by name.
pub const TEST_DSPS: [&str; 4] = ["adsp", "cdsp", "gdsp0", "sdsp"];

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
        match carveout_roundtrip(&d) {
            Ok(true) => println!("qda-probe: carveout {name} ok"),
            Ok(false) => {}
            Err(e) => println!("qda-probe: carveout {name} failed: {e}"),
        }
        println!("qda-probe: {name} windows {}", windows(&name));
        match sums(&d) {
            Ok((inline, zero_copy, at)) => println!(
                "qda-probe: {name} sum 1..=100 inline {inline} zero-copy {zero_copy} (buffer at {at:#x})"
            ),
            Err(e) => println!("qda-probe: {name} sum failed: {e}"),
        }
    }
}

/// `sid@window` of each session slot of `dsp` (qda's debugfs): where the
/// SoC's layout puts each context bank in the DSP's address space.
fn windows(dsp: &str) -> String {
    let path = format!("/sys/kernel/debug/qda/{dsp}/sessions");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let v: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 3).then(|| format!("{}@{}", f[1], f[3]))
        })
        .collect();
    v.join(" ")
}

/// The calculator's sum of 1..=100 on `d`'s root PD, passed inline and
/// zero copy: the DSP reaches the payload and the buffer at the addresses
/// qda built for it.
fn sums(d: &qda::Device) -> std::io::Result<(i64, i64, u64)> {
    let v: Vec<i32> = (1..=100).collect();
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    d.attach()?;
    let h = d.open_module("calculator")?;
    let inline = d.calculator_sum(h, &v)?;
    let bo = qda::Bo::new(d, 4096)?;
    let mut m = bo.map()?;
    m.as_mut_slice()[..bytes.len()].copy_from_slice(&bytes);
    let arg = qda::rpc::Arg::buffer(bo.handle(), &m.as_slice()[..bytes.len()]);
    let zero_copy = d.calculator_sum_arg(h, v.len(), arg)?;
    d.close_module(h)?;
    Ok((inline, zero_copy, bo.info()?.dsp_addr))
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
    } else if mode == "corpus" {
        // The simulator is loaded per SoC of the corpus (corpus::run).
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
        // The device-tree corpus (tests/dt_corpus): every FastRPC node of
        // the kernel's qcom trees, through qda and fastrpc.ko.
        "corpus" => ktap::run_suite("qda_dt_corpus", corpus::run),
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
