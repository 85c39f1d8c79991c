//! The board boot's suites (`qda_mode=board`): what `make
//! modules_install`, dkms and the shipped packaging/ files give on a
//! kernel without the test machinery ([`checks`]).

mod checks;

use checks::GROUP;

use crate::fixtures::{ktap, library};

/// An app in group `fastrpc` computes through the library's accel build
/// (the node and `/dev/dma_heap/system`); without the group it cannot.
fn app_cases(s: &mut ktap::Suite) {
    if !library::present() {
        let why = "the FastRPC library is not in the initramfs";
        s.skip("an_app_in_group_fastrpc_computes", why);
        s.skip("an_app_outside_group_fastrpc_is_refused", why);
        return;
    }
    let log = library::serve_syslog();
    s.case("an_app_in_group_fastrpc_computes", || {
        let g = checks::gid_of(GROUP).ok_or(format!("no group {GROUP}"))?;
        library::verdict_outcome(checks::calculator_as_app("app_in_group", vec![g], &log))
    });
    s.case(
        "an_app_outside_group_fastrpc_is_refused",
        || match checks::calculator_as_app("app_outside_group", Vec::new(), &log) {
            library::Verdict::Pass => Err("the calculator ran without the group".into()),
            _ => Ok(()),
        },
    );
}

/// The board boot's own suite: autoload, the shipped files, an app.
pub fn run() {
    let mut s = ktap::Suite::new("qda_board");
    match checks::bring_up() {
        Err(e) => s.case("udev_loads_qda_by_its_alias", || Err(e)),
        Ok(()) => {
            s.case(
                "udev_loads_qda_by_its_alias",
                checks::udev_loads_qda_by_its_alias,
            );
            s.case(
                "shipped_rules_set_owners_and_modes",
                checks::shipped_rules_set_owners_and_modes,
            );
            s.case(
                "modprobe_by_alias_loads_qda",
                checks::modprobe_by_alias_loads_qda,
            );
            app_cases(&mut s);
        }
    }
    print!("{}", s.render());
}

/// Last in the boot: the dkms-built module replaces the installed one.
pub fn run_dkms() {
    let mut s = ktap::Suite::new("qda_board_dkms");
    s.case(
        "dkms_module_loads_and_computes",
        checks::dkms_module_loads_and_computes,
    );
    print!("{}", s.render());
}
