//! The `qda_library` KTAP suite: Qualcomm's FastRPC library (QDA backend)
//! and the Hexagon SDK examples it ships, run unmodified against qda (the
//! harness is [`crate::fixtures::library`]).

use std::path::Path;

use crate::fixtures::{
    kmemleak,
    library::{self, Verdict},
};

/// Runs the suite and prints it as KTAP.
pub fn run_suite() {
    let names = [
        "calculator_on_cdsp",
        "hap_example_on_cdsp",
        "multithreading_on_cdsp",
        "hap_example_dma_handle_on_cdsp",
        "calculator_on_adsp",
        "hap_example_on_adsp",
        "multithreading_on_adsp",
        "hap_example_dma_handle_on_adsp",
        "two_sessions_in_one_process",
        "subsystem_restart",
        "kmemleak_finds_no_leak",
    ];
    let cases: Vec<(String, Verdict)> = if !Path::new(library::FASTRPC_TEST).exists() {
        let why =
            "the FastRPC library is not in the initramfs (no tarball: set QDA_FASTRPC_TARBALL)";
        names
            .iter()
            .map(|n| (n.to_string(), Verdict::Skip(why.into())))
            .collect()
    } else {
        // Leaks found before this suite are the userspace suite's.
        let kmemleak =
            kmemleak::enabled() && std::fs::write("/sys/kernel/debug/kmemleak", "clear").is_ok();
        let log = library::serve_syslog();
        let mut c = library::examples_on("cdsp", 3, &log);
        c.extend(library::examples_on("adsp", 0, &log));
        let (v, _) = library::libtest("two_sessions_in_one_process", &["multisession"], &log);
        c.push(("two_sessions_in_one_process".into(), v));
        c.push(("subsystem_restart".into(), library::ssr(&log)));
        c.push(("kmemleak_finds_no_leak".into(), library::leaks(kmemleak)));
        c
    };
    print!("{}", library::render("qda_library", &cases));
}
