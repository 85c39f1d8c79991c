//! The `qda_legacy` KTAP suite: qda's `/dev/fastrpc-<dsp>[-secure]` nodes
//! and fastrpc.ko's UAPI on them ([`nodes`]), hostile ranges from an app,
//! and the fair share of sessions, client ids and calls between users.

pub mod fair_share;
pub mod hostile_ranges;
pub mod nodes;

use crate::fixtures::ktap::Suite;

/// Runs the suite.
pub fn run() {
    let mut s = Suite::new("qda_legacy");
    s.case(
        "nodes_are_named_as_upstream",
        nodes::nodes_are_named_as_upstream,
    );
    s.case(
        "calculator_through_the_legacy_node",
        nodes::calculator_through_the_legacy_node,
    );
    s.case(
        "accel_and_legacy_files_share_the_context_bank",
        nodes::accel_and_legacy_files_share_the_context_bank,
    );
    s.case(
        "dma_buffers_and_options_as_upstream",
        nodes::dma_buffers_and_options_as_upstream,
    );
    s.case(
        "mappings_are_tracked_per_file",
        nodes::mappings_are_tracked_per_file,
    );
    s.case(
        "unprivileged_apps_are_refused_daemon_operations",
        nodes::unprivileged_apps_are_refused_daemon_operations,
    );
    s.case(
        "hostile_ranges_are_refused_as_an_app",
        hostile_ranges::hostile_ranges_are_refused_as_an_app,
    );
    s.case(
        "the_daemon_group_is_granted_daemon_operations",
        nodes::the_daemon_group_is_granted_daemon_operations,
    );
    s.case(
        "legacy_nodes_can_be_turned_off",
        nodes::legacy_nodes_can_be_turned_off,
    );
    s.case("each_file_has_its_limits", nodes::each_file_has_its_limits);
    s.case(
        "a_process_has_at_most_1024_mappings",
        nodes::a_process_has_at_most_1024_mappings,
    );
    s.case(
        "a_foreign_buffer_mapped_often_is_attached_once",
        nodes::a_foreign_buffer_mapped_often_is_attached_once,
    );
    s.case(
        "one_user_cannot_take_every_session",
        fair_share::one_user_cannot_take_every_session,
    );
    s.case(
        "one_user_cannot_take_every_client_id",
        fair_share::one_user_cannot_take_every_client_id,
    );
    s.case(
        "one_user_cannot_orphan_every_call",
        fair_share::one_user_cannot_orphan_every_call,
    );
    print!("{}", s.render());
}
