//! Cases of `qda_userspace` on the accel nodes themselves: how many, what
//! QUERY and DRM_IOCTL_VERSION answer, bad requests, and unloading or
//! unbinding qda under open files.

use std::path::Path;

use qda::{uapi, Device};

use crate::fixtures::{
    errno::expect_errno,
    ktap::{check, Outcome},
    sys::{self, rpmsg_name, write_sysfs},
    MODULES, TEST_DSPS,
};

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

pub fn two_accel_nodes() -> Outcome {
    let paths = Device::paths().map_err(|e| e.to_string())?;
    let want = TEST_DSPS.len();
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

pub fn query_reports_adsp_and_cdsp() -> Outcome {
    let n = names()?;
    check!(n == TEST_DSPS, "expected {:?}, got {n:?}", TEST_DSPS);
    Ok(())
}

pub fn query_name_is_nul_padded() -> Outcome {
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

pub fn drm_version_names_qda() -> Outcome {
    let name = cdsp()?.driver_name().map_err(|e| e.to_string())?;
    check!(name == "qda", "DRM driver name is {name:?}");
    Ok(())
}

pub fn unknown_driver_ioctl_is_einval() -> Outcome {
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

pub fn foreign_ioctl_type_is_enotty() -> Outcome {
    let d = cdsp()?;
    let mut buf = [0u8; 20];
    let req = uapi::ioc(2, b'x' as u32, 0x40, buf.len());
    // SAFETY: the buffer is large enough for the encoded size.
    let r = unsafe { qda::ioctl::ioctl_raw(d.fd(), req, buf.as_mut_ptr().cast()) };
    expect_errno(r, libc::ENOTTY, "ioctl type 'x'")
}

pub fn query_to_bad_pointer_is_efault() -> Outcome {
    let d = cdsp()?;
    // SAFETY: the kernel must reject the bogus pointer, not write to it.
    let r = unsafe {
        qda::ioctl::ioctl_raw(d.fd(), uapi::DRM_IOCTL_QDA_QUERY, 16 as *mut libc::c_void)
    };
    expect_errno(r, libc::EFAULT, "QUERY to address 16")
}

pub fn query_into_short_buffer_is_efault() -> Outcome {
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

pub fn query_with_smaller_size_writes_only_that() -> Outcome {
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

pub fn qda_cannot_unload_while_a_node_is_open() -> Outcome {
    let d = cdsp()?;
    let r = sys::unload_module("qda");
    check!(r.is_err(), "qda unloaded while a file was open");
    check!(d.query().is_ok(), "QUERY failed after the refused unload");
    Ok(())
}

pub fn open_file_fails_cleanly_when_dsp_goes_away() -> Outcome {
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
    check!(n == TEST_DSPS, "after the DSP came back: {n:?}");
    Ok(())
}

pub fn rmmod_and_insmod_again() -> Outcome {
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
    check!(n == TEST_DSPS, "after re-insmod: {n:?}");
    Ok(())
}
