//! Thin wrappers over the system calls `/init` needs.

use std::{ffi::CString, fs::File, io, os::fd::AsRawFd};

fn mount(src: &str, target: &str, fstype: &str) {
    let _ = std::fs::create_dir_all(target);
    let (s, t, f) = (
        CString::new(src).unwrap(),
        CString::new(target).unwrap(),
        CString::new(fstype).unwrap(),
    );
    // SAFETY: valid NUL-terminated strings; no data argument.
    let r = unsafe { libc::mount(s.as_ptr(), t.as_ptr(), f.as_ptr(), 0, std::ptr::null()) };
    if r != 0 {
        println!(
            "qda-init: mount {fstype} on {target}: {}",
            io::Error::last_os_error()
        );
    }
}

/// Mounts proc, sysfs, devtmpfs and debugfs.
pub fn mount_all() {
    mount("proc", "/proc", "proc");
    mount("sysfs", "/sys", "sysfs");
    mount("devtmpfs", "/dev", "devtmpfs");
    mount("debugfs", "/sys/kernel/debug", "debugfs");
}

/// Loads `/lib/modules/<name>.ko`.
pub fn load_module(name: &str) -> io::Result<()> {
    load_module_with(name, "")
}

/// Loads `/lib/modules/<name>.ko` with module parameters `params`.
pub fn load_module_with(name: &str, params: &str) -> io::Result<()> {
    let f = File::open(format!("/lib/modules/{name}.ko"))?;
    let p = CString::new(params).unwrap();
    // SAFETY: valid fd and a NUL-terminated parameter string.
    let r = unsafe { libc::syscall(libc::SYS_finit_module, f.as_raw_fd(), p.as_ptr(), 0) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Unloads module `name`.
pub fn unload_module(name: &str) -> io::Result<()> {
    let n = CString::new(name).unwrap();
    // SAFETY: valid NUL-terminated name.
    let r = unsafe { libc::syscall(libc::SYS_delete_module, n.as_ptr(), libc::O_NONBLOCK) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Flushes and powers the machine off.
pub fn power_off() -> ! {
    // SAFETY: plain system calls.
    unsafe {
        libc::sync();
        libc::reboot(libc::RB_POWER_OFF);
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
