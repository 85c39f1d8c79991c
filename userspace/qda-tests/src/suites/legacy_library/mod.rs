//! The `qda_legacy_library` KTAP suite: the FastRPC library's legacy
//! build (`/dev/fastrpc-<dsp>`) and its daemons against qda's legacy
//! nodes ([`cases`]); [`bench`](mod@bench) times it against fastrpc.ko's.

pub mod bench;
mod cases;

pub use cases::present;
use cases::PREFIX;

use crate::fixtures::{
    kmemleak,
    library::{self, Verdict},
};

/// Runs the suite and prints it as KTAP; `leak_check`: whether kmemleak
/// is on in this boot (the test boot's `kmemleak=on`).
pub fn run_suite(leak_check: bool) {
    let mut names: Vec<String> = ["calculator_on_cdsp", "calculator_on_adsp"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for d in &cases::DAEMONS {
        names.push(d.name.to_string());
        names.push(d.listener.to_string());
        names.extend(d.work.map(|w| w.0.to_string()));
    }
    names.push("kmemleak_finds_no_leak".into());
    let cases: Vec<(String, Verdict)> = if !cases::present() {
        let why = format!(
            "the legacy FastRPC library is not in the initramfs (no {PREFIX}; no tarball: set QDA_FASTRPC_TARBALL)"
        );
        names
            .into_iter()
            .map(|n| (n, Verdict::Skip(why.clone())))
            .collect()
    } else {
        let kmemleak = leak_check
            && kmemleak::enabled()
            && std::fs::write("/sys/kernel/debug/kmemleak", "clear").is_ok();
        let log = library::serve_syslog();
        let mut c = vec![
            (
                "calculator_on_cdsp".to_string(),
                cases::calculator_on("cdsp", 3, &log),
            ),
            (
                "calculator_on_adsp".to_string(),
                cases::calculator_on("adsp", 0, &log),
            ),
        ];
        for d in &cases::DAEMONS {
            c.extend(cases::daemon_case(d, &log));
        }
        let ran = c.iter().any(|(_, v)| !matches!(v, Verdict::Skip(_)));
        let leaks = if ran {
            library::leaks(kmemleak)
        } else {
            Verdict::Skip("no case ran".into())
        };
        c.push(("kmemleak_finds_no_leak".into(), leaks));
        c
    };
    print!("{}", library::render("qda_legacy_library", &cases));
}
