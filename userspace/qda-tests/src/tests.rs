//! The userspace test-suite, run in the guest against the real driver and
//! the simulated DSPs.

use std::{io, path::Path};

use qda::{uapi, Device};

use crate::{
    backends, faults, fuzz, kernel_call_faults, kmemleak,
    ktap::{check, Outcome, Suite},
    memory, prime, rpc, sessions, sys, MODULES,
};

/// Expects `r` to fail with `errno`.
pub fn expect_errno<T: std::fmt::Debug>(r: io::Result<T>, errno: i32, what: &str) -> Outcome {
    match r {
        Err(e) if e.raw_os_error() == Some(errno) => Ok(()),
        Err(e) => Err(format!("{what}: expected errno {errno}, got {e}")),
        Ok(v) => Err(format!(
            "{what}: expected errno {errno}, succeeded with {v:?}"
        )),
    }
}

fn names() -> Result<Vec<String>, String> {
    let mut v = Vec::new();
    for d in Device::all().map_err(|e| format!("opening nodes: {e}"))? {
        v.push(
            d.query()
                .map_err(|e| format!("QUERY: {e}"))?
                .name()
                .to_string(),
        );
    }
    v.sort();
    Ok(v)
}

fn cdsp() -> Result<Device, String> {
    Device::by_name("cdsp").map_err(|e| format!("open cdsp: {e}"))
}

fn two_accel_nodes() -> Outcome {
    let paths = Device::paths().map_err(|e| e.to_string())?;
    let want = crate::TEST_DSPS.len();
    check!(
        paths.len() == want,
        "expected {want} accel nodes, found {paths:?}"
    );
    let all = Device::all().map_err(|e| e.to_string())?;
    check!(
        all.len() == want,
        "expected {want} qda nodes, found {}",
        all.len()
    );
    Ok(())
}

fn query_reports_adsp_and_cdsp() -> Outcome {
    let n = names()?;
    check!(
        n == crate::TEST_DSPS,
        "expected {:?}, got {n:?}",
        crate::TEST_DSPS
    );
    Ok(())
}

fn query_name_is_nul_padded() -> Outcome {
    for d in Device::all().map_err(|e| e.to_string())? {
        let raw = d.query().map_err(|e| e.to_string())?.raw_name();
        let len = raw
            .iter()
            .position(|&b| b == 0)
            .ok_or("dsp_name not NUL terminated")?;
        check!(
            raw[len..].iter().all(|&b| b == 0),
            "garbage after the name: {raw:?}"
        );
    }
    Ok(())
}

fn drm_version_names_qda() -> Outcome {
    let name = cdsp()?.driver_name().map_err(|e| e.to_string())?;
    check!(name == "qda", "DRM driver name is {name:?}");
    Ok(())
}

fn unknown_driver_ioctl_is_einval() -> Outcome {
    let d = cdsp()?;
    let mut buf = [0u8; 16];
    // Past the last request (0x0c, INIT_ATTACH_SNS): unknown.
    for nr in [0x3f, 0x20, 0x0d] {
        let req = uapi::drm_iowr(uapi::DRM_COMMAND_BASE + nr, buf.len());
        // SAFETY: the buffer is large enough for the encoded size.
        let r = unsafe { qda::ioctl::ioctl_raw(d.fd(), req, buf.as_mut_ptr().cast()) };
        expect_errno(r, libc::EINVAL, &format!("driver ioctl 0x{nr:02x}"))?;
    }
    Ok(())
}

fn foreign_ioctl_type_is_enotty() -> Outcome {
    let d = cdsp()?;
    let mut buf = [0u8; 20];
    let req = uapi::ioc(2, b'x' as u32, 0x40, buf.len());
    // SAFETY: the buffer is large enough for the encoded size.
    let r = unsafe { qda::ioctl::ioctl_raw(d.fd(), req, buf.as_mut_ptr().cast()) };
    expect_errno(r, libc::ENOTTY, "ioctl type 'x'")
}

fn query_to_bad_pointer_is_efault() -> Outcome {
    let d = cdsp()?;
    // SAFETY: the kernel must reject the bogus pointer, not write to it.
    let r = unsafe {
        qda::ioctl::ioctl_raw(d.fd(), uapi::DRM_IOCTL_QDA_QUERY, 16 as *mut libc::c_void)
    };
    expect_errno(r, libc::EFAULT, "QUERY to address 16")
}

fn query_into_short_buffer_is_efault() -> Outcome {
    let d = cdsp()?;
    let page = 4096usize;
    // SAFETY: anonymous mapping of two pages, the second made inaccessible,
    // so a 20-byte result at 8 bytes before the boundary cannot fit.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            2 * page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        check!(p != libc::MAP_FAILED, "mmap failed");
        libc::mprotect(p.cast::<u8>().add(page).cast(), page, libc::PROT_NONE);
        let arg = p.cast::<u8>().add(page - 8);
        let r = qda::ioctl::ioctl_raw(d.fd(), uapi::DRM_IOCTL_QDA_QUERY, arg.cast());
        libc::munmap(p, 2 * page);
        expect_errno(r, libc::EFAULT, "QUERY across a PROT_NONE page")
    }
}

fn query_with_smaller_size_writes_only_that() -> Outcome {
    let d = cdsp()?;
    let mut buf = [0xaau8; 20];
    let req = uapi::drm_ior(uapi::DRM_COMMAND_BASE, 8);
    // SAFETY: the buffer holds 20 bytes, the request declares 8.
    unsafe { qda::ioctl::ioctl_raw(d.fd(), req, buf.as_mut_ptr().cast()) }
        .map_err(|e| e.to_string())?;
    check!(
        &buf[..4] == b"cdsp" && buf[4..8] == [0; 4],
        "first 8 bytes {:?}",
        &buf[..8]
    );
    check!(
        buf[8..].iter().all(|&b| b == 0xaa),
        "wrote past the declared size: {buf:?}"
    );
    Ok(())
}

fn qda_cannot_unload_while_a_node_is_open() -> Outcome {
    let d = cdsp()?;
    let r = sys::unload_module("qda");
    check!(r.is_err(), "qda unloaded while a file was open");
    check!(d.query().is_ok(), "QUERY failed after the refused unload");
    Ok(())
}

/// The rpmsg device name behind an accel node (its sysfs parent).
pub(crate) fn rpmsg_name(node: &Path) -> Result<String, String> {
    let name = node
        .file_name()
        .ok_or("bad node path")?
        .to_string_lossy()
        .into_owned();
    let link = std::fs::read_link(format!("/sys/class/accel/{name}/device"))
        .map_err(|e| format!("sysfs parent of {name}: {e}"))?;
    Ok(link
        .file_name()
        .ok_or("bad sysfs link")?
        .to_string_lossy()
        .into_owned())
}

pub(crate) fn write_sysfs(path: &str, val: &str) -> Result<(), String> {
    std::fs::write(path, val).map_err(|e| format!("write {val} to {path}: {e}"))
}

fn open_file_fails_cleanly_when_dsp_goes_away() -> Outcome {
    let d = cdsp()?;
    let rpdev = rpmsg_name(d.path())?;
    // Same driver path as the channel disappearing: qda's remove runs while
    // a file is open.
    write_sysfs("/sys/bus/rpmsg/drivers/qda/unbind", &rpdev)?;
    let left = names();
    let r = d.query();
    drop(d);
    write_sysfs("/sys/bus/rpmsg/drivers/qda/bind", &rpdev)?;
    check!(
        left.as_deref() == Ok(&["adsp".to_string(), "gdsp0".into(), "sdsp".into()][..]),
        "nodes while cdsp is gone: {left:?}"
    );
    expect_errno(r, libc::ENODEV, "QUERY on a file of a removed DSP")?;
    let n = names()?;
    check!(n == crate::TEST_DSPS, "after the DSP came back: {n:?}");
    Ok(())
}

fn rmmod_and_insmod_again() -> Outcome {
    for m in MODULES.iter().rev() {
        sys::unload_module(m).map_err(|e| format!("rmmod {m}: {e}"))?;
    }
    check!(
        !Path::new("/sys/module/qda").exists(),
        "/sys/module/qda still present"
    );
    let left = Device::paths().map_err(|e| e.to_string())?;
    check!(left.is_empty(), "nodes left after rmmod: {left:?}");
    for m in MODULES {
        sys::load_module(m).map_err(|e| format!("insmod {m}: {e}"))?;
    }
    let n = names()?;
    check!(n == crate::TEST_DSPS, "after re-insmod: {n:?}");
    Ok(())
}

/// Runs every case and prints the KTAP document.
pub fn run(loaded: bool) {
    let mut s = Suite::new("qda_userspace");
    s.case("modules_load", || {
        check!(loaded, "insmod of qda or qda_dsp_sim failed (see above)");
        Ok(())
    });
    // The board kernel has no debug machinery: the leak check is the test
    // boot's.
    let board = crate::board::active();
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
    s.case("two_accel_nodes", two_accel_nodes);
    s.case("query_reports_adsp_and_cdsp", query_reports_adsp_and_cdsp);
    s.case("query_name_is_nul_padded", query_name_is_nul_padded);
    s.case("drm_version_names_qda", drm_version_names_qda);
    s.case(
        "unknown_driver_ioctl_is_einval",
        unknown_driver_ioctl_is_einval,
    );
    s.case("foreign_ioctl_type_is_enotty", foreign_ioctl_type_is_enotty);
    s.case(
        "query_to_bad_pointer_is_efault",
        query_to_bad_pointer_is_efault,
    );
    s.case(
        "query_into_short_buffer_is_efault",
        query_into_short_buffer_is_efault,
    );
    s.case(
        "query_with_smaller_size_writes_only_that",
        query_with_smaller_size_writes_only_that,
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
        crate::listener::a_skel_loads_from_the_library_path,
    );
    s.case(
        "listener_missing_skel_fails_with_the_dlerror",
        crate::listener::a_missing_skel_fails_with_the_dlerror,
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
        crate::listener::a_dsp_crash_ends_the_listener,
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
        fuzz::random_ioctls_get_clean_errnos,
    );
    s.case("boundary_values_get_clean_errnos", || {
        fuzz::boundary::run(fuzz::boundary::Config::from_env(
            0x0b0d_a1e5_5eed_0001,
            2000,
        ))
    });
    s.case("no_call_left_in_flight", rpc::no_call_left_in_flight);
    s.case("nothing_leaked", memory::nothing_leaked);
    s.case(
        "qda_cannot_unload_while_a_node_is_open",
        qda_cannot_unload_while_a_node_is_open,
    );
    s.case(
        "open_file_fails_cleanly_when_dsp_goes_away",
        open_file_fails_cleanly_when_dsp_goes_away,
    );
    s.case("rmmod_and_insmod_again", rmmod_and_insmod_again);
    if board {
        s.skip("kmemleak_finds_no_leak", "the board kernel has no kmemleak");
    } else {
        s.case("kmemleak_finds_no_leak", kmemleak::nothing_leaked);
    }
    print!("{}", s.render());
}
