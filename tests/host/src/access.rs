//! The access model's rules and the legacy node names
//! (`src/access_policy.rs`, `src/legacy/names.rs`), checked against what
//! `drivers/misc/fastrpc.c` of 7.3 does.

use crate::{
    access_policy::{
        legacy_nodes, refused_without_smmu, session_rejected, unsigned_support, PdStart,
        ATTR_PRIVILEGED, ATTR_UNSIGNED,
    },
    domain::Domain,
    legacy_names::node_name,
};

const ALL: [Domain; 9] = [
    Domain::Adsp,
    Domain::Mdsp,
    Domain::Sdsp,
    Domain::Cdsp(0),
    Domain::Cdsp(1),
    Domain::Cdsp(2),
    Domain::Cdsp(3),
    Domain::Gdsp(0),
    Domain::Gdsp(1),
];

#[test]
fn node_names_are_upstreams() {
    for d in ALL {
        assert_eq!(
            node_name(d, false).to_str().unwrap(),
            format!("fastrpc-{}", d.label())
        );
        assert_eq!(
            node_name(d, true).to_str().unwrap(),
            format!("fastrpc-{}-secure", d.label())
        );
    }
}

#[test]
fn nodes_per_channel_follow_upstream() {
    // ADSP/MDSP/SDSP: one node, secure iff the channel is.
    for d in [Domain::Adsp, Domain::Mdsp, Domain::Sdsp] {
        assert_eq!(legacy_nodes(d, true), &[true]);
        assert_eq!(legacy_nodes(d, false), &[false]);
        assert!(!unsigned_support(d));
    }
    // CDSP/GDSP: both, whatever the channel.
    for d in [
        Domain::Cdsp(0),
        Domain::Cdsp(3),
        Domain::Gdsp(0),
        Domain::Gdsp(1),
    ] {
        assert_eq!(legacy_nodes(d, true), &[true, false]);
        assert_eq!(legacy_nodes(d, false), &[true, false]);
        assert!(unsigned_support(d));
    }
}

#[test]
fn session_rejected_is_upstreams_rule() {
    // Only a non-secure node on a secure channel is ever rejected...
    for d in ALL {
        for unsigned in [false, true] {
            assert!(!session_rejected(true, true, d, unsigned));
            assert!(!session_rejected(true, false, d, unsigned));
            assert!(!session_rejected(false, false, d, unsigned));
        }
    }
    // ...and there only signed PDs, or unsigned ones the DSP cannot run.
    assert!(session_rejected(false, true, Domain::Cdsp(0), false));
    assert!(!session_rejected(false, true, Domain::Cdsp(0), true));
    assert!(!session_rejected(false, true, Domain::Gdsp(1), true));
    assert!(session_rejected(false, true, Domain::Adsp, true));
    assert!(session_rejected(false, true, Domain::Sdsp, false));
}

#[test]
fn daemon_operations_need_privilege() {
    for secure in [false, true] {
        assert!(PdStart::AttachRoot.needs_privilege(secure));
        assert!(PdStart::AttachSensors.needs_privilege(secure));
        assert!(PdStart::CreateStatic.needs_privilege(secure));
        assert!(!PdStart::create(ATTR_UNSIGNED).needs_privilege(secure));
    }
    // Signed PDs only on secure channels.
    assert!(PdStart::create(0).needs_privilege(true));
    assert!(!PdStart::create(0).needs_privilege(false));
    // Debug mode alone is no privilege.
    assert!(!PdStart::create(1).needs_privilege(false));
    assert_eq!(
        PdStart::create(ATTR_UNSIGNED | 1),
        PdStart::Create {
            unsigned: true,
            privileged: false
        }
    );
}

#[test]
fn the_privileged_attribute_needs_privilege() {
    for secure in [false, true] {
        for extra in [0, 1, ATTR_UNSIGNED, ATTR_UNSIGNED | 1] {
            assert!(PdStart::create(ATTR_PRIVILEGED | extra).needs_privilege(secure));
        }
    }
}

#[test]
fn only_unsigned_creates_are_refused_on_a_cb_without_smmu() {
    // Every attribute combination of a create, and the other starts.
    for attrs in 0..=(ATTR_UNSIGNED | ATTR_PRIVILEGED) {
        let op = PdStart::create(attrs);
        let unsigned = attrs & ATTR_UNSIGNED != 0;
        assert_eq!(refused_without_smmu(op, false), unsigned, "{attrs:#x}");
        assert!(!refused_without_smmu(op, true), "{attrs:#x}");
    }
    for op in [
        PdStart::AttachRoot,
        PdStart::AttachSensors,
        PdStart::CreateStatic,
    ] {
        assert!(!refused_without_smmu(op, false));
        assert!(!refused_without_smmu(op, true));
    }
}
