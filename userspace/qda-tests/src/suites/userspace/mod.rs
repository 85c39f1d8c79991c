//! The `qda_userspace` KTAP suite, run in the guest against the real
//! driver and the simulated DSPs: the accel nodes ([`nodes`]), sessions,
//! buffers and backends, PRIME, remote calls, the listener, faults of the
//! DSP and of kernel calls, the fuzzers briefly, and leaks.

mod backends;
mod faults;
mod kernel_call_faults;
mod listener;
mod memory;
mod nodes;
mod prime;
mod removal_race;
mod rpc;
mod sessions;

use crate::{
    fixtures::{
        debugfs, kmemleak,
        ktap::{check, Outcome, Suite},
        sys,
    },
    fuzz::boundary,
};

/// Runs every case and prints the KTAP document.
pub fn run(loaded: bool) {
    let mut s = Suite::new("qda_userspace");
    s.case("modules_load", || {
        check!(loaded, "insmod of qda or qda_dsp_sim failed (see above)");
        Ok(())
    });
    // The board kernel has no debug machinery: the leak check is the test
    // boot's.
    let board = sys::board_boot();
    if board {
        s.skip("kmemleak_baseline", "the board kernel has no kmemleak");
    } else {
        s.case("kmemleak_baseline", || {
            check!(
                kmemleak::enabled(),
                "kmemleak is off (the test boot passes kmemleak=on)"
            );
            kmemleak::baseline()
        });
    }
    s.case("two_accel_nodes", nodes::two_accel_nodes);
    s.case(
        "query_reports_adsp_and_cdsp",
        nodes::query_reports_adsp_and_cdsp,
    );
    s.case("query_name_is_nul_padded", nodes::query_name_is_nul_padded);
    s.case("drm_version_names_qda", nodes::drm_version_names_qda);
    s.case(
        "unknown_driver_ioctl_is_einval",
        nodes::unknown_driver_ioctl_is_einval,
    );
    s.case(
        "foreign_ioctl_type_is_enotty",
        nodes::foreign_ioctl_type_is_enotty,
    );
    s.case(
        "query_to_bad_pointer_is_efault",
        nodes::query_to_bad_pointer_is_efault,
    );
    s.case(
        "query_into_short_buffer_is_efault",
        nodes::query_into_short_buffer_is_efault,
    );
    s.case(
        "query_with_smaller_size_writes_only_that",
        nodes::query_with_smaller_size_writes_only_that,
    );
    s.case(
        "context_banks_are_bus_devices_with_own_iommu_groups",
        sessions::context_banks_are_bus_devices_with_own_iommu_groups,
    );
    s.case("nsessions_is_honoured", sessions::nsessions_is_honoured);
    s.case(
        "opens_of_one_process_share_a_session",
        sessions::opens_of_one_process_share_a_session,
    );
    s.case(
        "two_processes_get_different_context_banks",
        sessions::two_processes_get_different_context_banks,
    );
    s.case(
        "no_free_session_is_ebusy",
        sessions::no_free_session_is_ebusy,
    );
    s.case(
        "gem_create_mmap_write_read",
        memory::gem_create_mmap_write_read,
    );
    s.case("mapping_survives_fork", memory::mapping_survives_fork);
    s.case(
        "mmap_beyond_the_object_fails",
        memory::mmap_beyond_the_object_fails,
    );
    s.case(
        "bad_gem_requests_get_specific_errnos",
        memory::bad_gem_requests_get_specific_errnos,
    );
    s.case(
        "buffers_are_isolated_by_the_smmu",
        memory::buffers_are_isolated_by_the_smmu,
    );
    s.case(
        "every_backend_allocates_zeroed_mappable_memory",
        backends::every_backend_allocates_zeroed_mappable_memory,
    );
    s.case(
        "missing_or_unknown_backends_are_refused",
        backends::missing_or_unknown_backends_are_refused,
    );
    s.case(
        "cma_pool_exhausts_and_recovers",
        backends::cma_pool_exhausts_and_recovers,
    );
    s.case(
        "carveout_exhausts_reuses_and_never_leaks_data",
        backends::carveout_exhausts_reuses_and_never_leaks_data,
    );
    s.case(
        "carveout_buffers_cannot_be_exported",
        backends::carveout_buffers_cannot_be_exported,
    );
    s.case(
        "export_import_in_forked_child_sees_same_bytes",
        prime::export_import_in_forked_child_sees_same_bytes,
    );
    s.case(
        "self_import_returns_the_same_object",
        prime::self_import_returns_the_same_object,
    );
    s.case(
        "import_from_the_system_heap",
        prime::import_from_the_system_heap,
    );
    s.case("import_from_a_cma_heap", prime::import_from_a_cma_heap);
    s.case("import_from_udmabuf", prime::import_from_udmabuf);
    s.case(
        "importing_a_non_dma_buf_fails",
        prime::importing_a_non_dma_buf_fails,
    );
    s.case(
        "invoke_on_handle_1_is_refused",
        rpc::invoke_on_handle_1_is_refused,
    );
    s.case(
        "invoke_before_attach_fails",
        rpc::invoke_before_attach_fails,
    );
    s.case(
        "attach_and_call_the_calculator",
        rpc::attach_and_call_the_calculator,
    );
    s.case(
        "create_a_user_pd_from_a_shell",
        rpc::create_a_user_pd_from_a_shell,
    );
    s.case(
        "create_with_the_shell_in_a_buffer",
        rpc::create_with_the_shell_in_a_buffer,
    );
    s.case(
        "each_file_is_a_dsp_process_of_its_own",
        rpc::each_file_is_a_dsp_process_of_its_own,
    );
    s.case("zero_copy_arguments", rpc::zero_copy_arguments);
    s.case(
        "zero_copy_offsets_follow_the_mapping",
        rpc::zero_copy_offsets_follow_the_mapping,
    );
    s.case(
        "the_librarys_buffers_pass_zero_copy",
        rpc::the_librarys_buffers_pass_zero_copy,
    );
    s.case("handles_reach_the_dsp", rpc::handles_reach_the_dsp);
    s.case(
        "listener_loads_a_skel_from_the_library_path",
        listener::a_skel_loads_from_the_library_path,
    );
    s.case(
        "listener_missing_skel_fails_with_the_dlerror",
        listener::a_missing_skel_fails_with_the_dlerror,
    );
    s.case(
        "two_processes_call_concurrently",
        rpc::two_processes_call_concurrently,
    );
    s.case(
        "every_map_flavour_is_tracked",
        rpc::every_map_flavour_is_tracked,
    );
    s.case(
        "capabilities_come_from_the_dsp",
        rpc::capabilities_come_from_the_dsp,
    );
    s.case(
        "remote_error_codes_reach_the_caller",
        faults::remote_error_codes_reach_the_caller,
    );
    s.case(
        "a_signal_interrupts_a_late_call",
        faults::a_signal_interrupts_a_late_call,
    );
    s.case("a_lost_reply_times_out", faults::a_lost_reply_times_out);
    s.case("orphans_are_bounded", faults::orphans_are_bounded);
    s.case(
        "duplicate_and_stale_replies_are_dropped",
        faults::duplicate_and_stale_replies_are_dropped,
    );
    s.case(
        "hostile_metadata_and_garbage_replies_are_contained",
        faults::hostile_metadata_and_garbage_replies_are_contained,
    );
    s.case(
        "a_dsp_crash_fails_the_call_and_the_dsp_comes_back",
        faults::a_dsp_crash_fails_the_call_and_the_dsp_comes_back,
    );
    s.case(
        "listener_ends_when_the_dsp_crashes",
        listener::a_dsp_crash_ends_the_listener,
    );
    s.case(
        "a_crash_under_load_fails_every_call_cleanly",
        faults::a_crash_under_load_fails_every_call_cleanly,
    );
    s.case(
        "a_killed_process_waits_for_its_release",
        faults::a_killed_process_waits_for_its_release,
    );
    s.case(
        "an_unconfirmed_release_keeps_the_process",
        faults::an_unconfirmed_release_keeps_the_process,
    );
    for (name, case) in [
        (
            "signals_do_not_end_an_attach",
            kernel_call_faults::signals_do_not_end_an_attach as fn() -> Outcome,
        ),
        (
            "signals_do_not_end_a_create",
            kernel_call_faults::signals_do_not_end_a_create,
        ),
        (
            "signals_do_not_end_a_legacy_map",
            kernel_call_faults::signals_do_not_end_a_legacy_map,
        ),
        (
            "signals_do_not_end_a_mem_map",
            kernel_call_faults::signals_do_not_end_a_mem_map,
        ),
        (
            "signals_do_not_end_an_unmap",
            kernel_call_faults::signals_do_not_end_an_unmap,
        ),
        (
            "interrupted_closes_leak_no_session",
            kernel_call_faults::interrupted_closes_leak_no_session,
        ),
        (
            "a_killed_task_exits_within_the_bound",
            kernel_call_faults::a_killed_task_exits_within_the_bound,
        ),
    ] {
        s.case(name, case);
    }
    s.case(
        "random_ioctls_get_clean_errnos",
        crate::fuzz::random_ioctls_get_clean_errnos,
    );
    s.case("boundary_values_get_clean_errnos", || {
        boundary::run(boundary::Config::from_env(0x0b0d_a1e5_5eed_0001, 2000))
    });
    s.case("no_call_left_in_flight", rpc::no_call_left_in_flight);
    s.case("nothing_leaked", debugfs::nothing_leaked);
    s.case(
        "qda_cannot_unload_while_a_node_is_open",
        nodes::qda_cannot_unload_while_a_node_is_open,
    );
    s.case(
        "open_file_fails_cleanly_when_dsp_goes_away",
        nodes::open_file_fails_cleanly_when_dsp_goes_away,
    );
    s.case(
        "ioctls_racing_removal_get_enodev",
        removal_race::ioctls_racing_removal_get_enodev,
    );
    s.case("rmmod_and_insmod_again", nodes::rmmod_and_insmod_again);
    if board {
        s.skip("kmemleak_finds_no_leak", "the board kernel has no kmemleak");
    } else {
        s.case("kmemleak_finds_no_leak", kmemleak::nothing_leaked);
    }
    print!("{}", s.render());
}
