//! `qda_mode=board`: qda on the board flavour of the kernel (GCC,
//! `CONFIG_DRM=m`), installed as an integrator installs it
//! (scripts/board.sh).
//!
//! Nothing is loaded with `insmod`: udev (Debian's `systemd-udevd` with its
//! own `80-drivers.rules`) loads modules by the modalias of each new
//! device, kmod's `modprobe` loads them by name or alias, and the shipped
//! `packaging/` files decide which driver wins and who may open what. The
//! simulated DSP stands in for the remoteproc that brings up a board's
//! FastRPC channels: loading it adds the rpmsg devices udev reacts to.

use std::{
    fs,
    os::unix::{
        fs::{
            FileTypeExt,
            MetadataExt, //
        },
        process::CommandExt,
    },
    path::Path,
    process::Command,
    time::Duration,
};

use crate::fixtures::{ktap, library, sys};

const UDEVD: &str = "/lib/systemd/systemd-udevd";
const UDEVADM: &str = "/bin/udevadm";
const MODPROBE: &str = "/sbin/modprobe";
/// The group the shipped sysusers.d file creates and the rules use.
pub const GROUP: &str = "fastrpc";
/// The suites' app user.
const APP_UID: u32 = 1000;
/// Where scripts/board-initramfs.sh puts the tree dkms installed into.
const DKMS_ROOT: &str = "/dkms";

/// Runs `prog args`, its output echoed; `Err` unless it exits 0.
fn sh(prog: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(prog)
        .args(args)
        .output()
        .map_err(|e| format!("{prog}: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!("qda-board: $ {prog} {} -> {}", args.join(" "), out.status);
    for l in text.lines() {
        println!("qda-board:   {l}");
    }
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "{prog} {}: {}: {}",
            args.join(" "),
            out.status,
            text.trim()
        ))
    }
}

/// Waits until udev has handled every event so far (event driven:
/// `udevadm settle` returns when its queue is empty).
fn settle() -> Result<(), String> {
    sh(UDEVADM, &["settle"]).map(|_| ())
}

/// Starts udevd and replays the boot's devices to it, as an init system
/// does; then adds the simulated DSP's channels.
pub fn bring_up() -> Result<(), String> {
    sys_mount_run();
    sh(UDEVD, &["--daemon"])?;
    sh(UDEVADM, &["trigger", "--action=add"])?;
    settle()?;
    sh(MODPROBE, &["qda_dsp_sim"])?;
    settle()
}

fn sys_mount_run() {
    let _ = Command::new("/bin/busybox")
        .args(["mount", "-t", "tmpfs", "tmpfs", "/run"])
        .status();
}

/// Names of the loaded modules (`/proc/modules`).
fn loaded() -> Vec<String> {
    fs::read_to_string("/proc/modules")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// The rpmsg devices of the simulated DSP: (name, bound driver).
fn channels() -> Vec<(String, Option<String>)> {
    let Ok(rd) = fs::read_dir("/sys/bus/rpmsg/devices") else {
        return Vec::new();
    };
    let mut v: Vec<_> = rd
        .flatten()
        .map(|e| {
            let drv = fs::read_link(e.path().join("driver"))
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
            (e.file_name().to_string_lossy().into_owned(), drv)
        })
        .collect();
    v.sort();
    v
}

/// Every FastRPC channel is bound to qda, which udev loaded; fastrpc.ko
/// (installed too: same aliases) is not loaded; drm is a module.
fn qda_serves_every_channel() -> ktap::Outcome {
    let mods = loaded();
    println!("qda-board: loaded modules: {}", mods.join(" "));
    let ch = channels();
    if ch.is_empty() {
        return Err("no rpmsg channels".into());
    }
    for (name, drv) in &ch {
        if drv.as_deref() != Some("qda") {
            return Err(format!("channel {name} is bound to {drv:?}, want qda"));
        }
    }
    for (m, want) in [("qda", true), ("drm", true), ("fastrpc", false)] {
        if mods.iter().any(|x| x == m) != want {
            return Err(format!("module {m} loaded: {}, want {want}", !want));
        }
    }
    Ok(())
}

pub fn udev_loads_qda_by_its_alias() -> ktap::Outcome {
    if !Path::new("/sys/module/qda").exists() {
        return Err("qda is not loaded after udev handled the channels".into());
    }
    qda_serves_every_channel()
}

/// `modprobe -b <modalias>` (the blacklist applied, as udev applies it)
/// loads qda again for a channel and nothing else.
pub fn modprobe_by_alias_loads_qda() -> ktap::Outcome {
    let ch = channels();
    let (name, _) = ch.first().ok_or("no rpmsg channels")?;
    let alias = fs::read_to_string(format!("/sys/bus/rpmsg/devices/{name}/modalias"))
        .map_err(|e| format!("modalias of {name}: {e}"))?;
    let alias = alias.trim();
    sh(MODPROBE, &["-r", "qda"])?;
    settle()?;
    if Path::new("/sys/module/qda").exists() {
        return Err("qda still loaded after modprobe -r".into());
    }
    sh(MODPROBE, &["-b", alias])?;
    settle()?;
    qda_serves_every_channel()
}

/// The gid of group `name` in /etc/group.
pub fn gid_of(name: &str) -> Option<u32> {
    fs::read_to_string("/etc/group")
        .ok()?
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name)).then(|| f.get(2)?.parse().ok())?
        })
}

/// A device node's (mode bits, uid, gid).
type Owner = (u32, u32, u32);

/// The owner and mode of device node `path`.
pub fn node(path: &str) -> Result<Owner, String> {
    let m = fs::metadata(path).map_err(|e| format!("{path}: {e}"))?;
    if !m.file_type().is_char_device() {
        return Err(format!("{path} is not a character device"));
    }
    Ok((m.mode() & 0o7777, m.uid(), m.gid()))
}

/// The nodes qda registered, with the owner and mode the shipped rules
/// give them.
fn expected_nodes(fastrpc: u32) -> Result<Vec<(String, Owner)>, String> {
    let mut want = Vec::new();
    for e in fs::read_dir("/dev/accel").map_err(|e| format!("/dev/accel: {e}"))? {
        let p = e.map_err(|e| e.to_string())?.path();
        want.push((p.display().to_string(), (0o660, 0, fastrpc)));
    }
    for e in fs::read_dir("/dev").map_err(|e| e.to_string())?.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if let Some(rest) = n.strip_prefix("fastrpc-") {
            let secure = rest.ends_with("-secure");
            let m = if secure {
                (0o600, 0, 0)
            } else {
                (0o660, 0, fastrpc)
            };
            want.push((format!("/dev/{n}"), m));
        }
    }
    want.push(("/dev/dma_heap/system".into(), (0o660, 0, fastrpc)));
    want.sort();
    Ok(want)
}

pub fn shipped_rules_set_owners_and_modes() -> ktap::Outcome {
    let g = gid_of(GROUP).ok_or(format!("no group {GROUP} in /etc/group"))?;
    let want = expected_nodes(g)?;
    if !want.iter().any(|(p, _)| p.ends_with("-secure")) || want.len() < 4 {
        return Err(format!("too few nodes to check: {want:?}"));
    }
    for (path, w) in &want {
        let got = node(path)?;
        println!(
            "qda-board: {path}: mode {:o} uid {} gid {}",
            got.0, got.1, got.2
        );
        if got != *w {
            return Err(format!(
                "{path}: mode {:o} uid {} gid {}, want mode {:o} uid {} gid {}",
                got.0, got.1, got.2, w.0, w.1, w.2
            ));
        }
    }
    Ok(())
}

/// `fastrpc_test` (the library's accel build) as the app user with
/// supplementary groups `groups`; the calculator example's verdict.
pub fn calculator_as_app(case: &str, groups: Vec<u32>, log: &library::Syslog) -> library::Verdict {
    let mut cmd = library::examples_cmd(3);
    cmd.env("HOME", "/tmp");
    // SAFETY: between fork and exec only async-signal-safe calls:
    // setgroups, setgid and setuid, in the order that drops privilege.
    unsafe {
        cmd.pre_exec(move || {
            let r = libc::setgroups(groups.len(), groups.as_ptr());
            if r != 0 || libc::setgid(APP_UID) != 0 || libc::setuid(APP_UID) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    match library::run(case, cmd, Duration::from_secs(150), log) {
        Ok(r) => library::example_verdict(&r, "calculator"),
        Err(e) => library::Verdict::Fail(e),
    }
}

/// qda as Debian's dkms built it loads with modprobe and serves the
/// channels: `sum` computed on the cdsp.
pub fn dkms_module_loads_and_computes() -> ktap::Outcome {
    let rel = fs::read_to_string("/proc/sys/kernel/osrelease").map_err(|e| e.to_string())?;
    let ko = format!("{DKMS_ROOT}/lib/modules/{}/updates/dkms/qda.ko", rel.trim());
    if !Path::new(&ko).exists() {
        return Err(format!("no {ko} in the initramfs"));
    }
    // Unload without taking drm and rpmsg_core along (modprobe -r would).
    for m in ["qda_dsp_sim", "qda"] {
        sys::unload_module(m).map_err(|e| format!("unloading {m}: {e}"))?;
    }
    sh(MODPROBE, &["-d", DKMS_ROOT, "qda"])?;
    sh(MODPROBE, &["qda_dsp_sim"])?;
    settle()?;
    qda_serves_every_channel()?;
    let out = sh("/bin/qdactl", &["calc", "cdsp", "sum", "1", "2", "3", "4"])?;
    if !out.lines().any(|l| l.trim() == "sum = 10") {
        return Err(format!("qdactl calc printed {out:?}, want sum = 10"));
    }
    Ok(())
}
