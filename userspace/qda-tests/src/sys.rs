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

/// Loads `/lib/modules/<name>.ko` with module parameters `params`; where
/// modules are installed as on a board (`lib/modules/<release>`, the
/// board boot), kmod's `modprobe` loads `name` instead.
pub fn load_module_with(name: &str, params: &str) -> io::Result<()> {
    let path = format!("/lib/modules/{name}.ko");
    if !std::path::Path::new(&path).exists() {
        return modprobe(name, params);
    }
    let f = File::open(path)?;
    let p = CString::new(params).unwrap();
    // SAFETY: valid fd and a NUL-terminated parameter string.
    let r = unsafe { libc::syscall(libc::SYS_finit_module, f.as_raw_fd(), p.as_ptr(), 0) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `modprobe name params...`.
fn modprobe(name: &str, params: &str) -> io::Result<()> {
    let st = std::process::Command::new("/sbin/modprobe")
        .arg(name)
        .args(params.split_whitespace())
        .status()?;
    if !st.success() {
        return Err(io::Error::other(format!("modprobe {name} {params}: {st}")));
    }
    // Where udev runs, the module's nodes are ready (owner, mode) only
    // once udev has handled their events.
    if std::path::Path::new("/run/udev/control").exists() {
        std::process::Command::new("/bin/udevadm")
            .arg("settle")
            .status()?;
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

/// Forks a child that runs `child` with the write end of a new pipe and
/// leaves with `_exit` of what it returned; the child's pid and the read
/// end (the caller's to close).
pub fn fork_piped(child: impl FnOnce(i32) -> i32) -> Result<(i32, i32), String> {
    let mut p = [0i32; 2];
    // SAFETY: a plain pipe into a live array.
    if unsafe { libc::pipe(p.as_mut_ptr()) } != 0 {
        return Err("pipe failed".into());
    }
    // SAFETY: fork; the child only runs `child` and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: the child's copy of the read end.
        unsafe { libc::close(p[0]) };
        let code = child(p[1]);
        // SAFETY: ends the child without running the parent's exit path.
        unsafe { libc::_exit(code) };
    }
    // SAFETY: our copy of the write end.
    unsafe { libc::close(p[1]) };
    if pid < 0 {
        // SAFETY: our read end.
        unsafe { libc::close(p[0]) };
        return Err("fork failed".into());
    }
    Ok((pid, p[0]))
}
