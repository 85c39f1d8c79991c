//! The `qda_differential` and `qda_legacy_differential` KTAP suites: one
//! script of FastRPC operations ([`script`]) through qda's accel node,
//! qda's legacy node and fastrpc.ko's, on the same simulated DSP, compared
//! message by message; [`interrupted`] adds the calls a signal interrupts.

mod interrupted;
mod script;

use std::path::Path;

use crate::fixtures::ktap::Suite;

/// Runs the suite and prints it as KTAP.
pub fn run() {
    if !Path::new("/lib/modules/fastrpc.ko").exists() {
        let mut s = Suite::new("qda_differential");
        for (name, _) in script::STEPS {
            s.skip(name, "fastrpc.ko is not in the initramfs");
        }
        s.skip("stale_divergences", "fastrpc.ko is not in the initramfs");
        print!("{}", s.render());
        let mut s = Suite::new("qda_legacy_differential");
        for (name, _) in script::STEPS {
            s.skip(name, "fastrpc.ko is not in the initramfs");
        }
        print!("{}", s.render());
        return;
    }
    let q = script::qda_side();
    let l = script::qda_legacy_side();
    let u = script::upstream_side();
    print!("{}", script::render("qda_differential", &q, &u, true));
    // qda's legacy node against fastrpc.ko's, step by step.
    print!(
        "{}",
        script::render("qda_legacy_differential", &l, &u, false)
    );
    script::print_golden(&u);
    // The simulator stays as it is: this suite runs last, and rmmod would
    // wait forever for fastrpc.ko to release the cdsp channel, which it
    // never does after an interrupted call (the interrupted context holds
    // a reference on its file, and the file puts its pending contexts only
    // when its last reference goes: a cycle).
}
