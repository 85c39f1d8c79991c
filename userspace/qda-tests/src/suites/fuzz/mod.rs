//! The `qda_fuzz` KTAP suite (`qda_mode=fuzz`, `make fuzz`): the boundary
//! fuzzer of [`crate::fuzz::boundary`] at length (`qda_fuzz_seed`,
//! `qda_fuzz_iterations` on the kernel command line), then the leak check.

use crate::{
    fixtures::{kmemleak, ktap::Suite},
    fuzz::boundary,
};

/// Runs the suite and prints it as KTAP.
pub fn run() {
    let cfg = boundary::Config::from_env(0x5eed_f00d_cafe_d00d, 20_000);
    let mut s = Suite::new("qda_fuzz");
    s.case("boundary_values_on_both_node_kinds", || boundary::run(cfg));
    s.case("kmemleak_finds_no_leak", kmemleak::nothing_leaked);
    print!("{}", s.render());
}
