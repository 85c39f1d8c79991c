//! The boundary-value fuzzer: children (this program in
//! `qda_mode=fuzz_child`, as root and as uid 1000) issue seeded requests
//! from the value dictionaries on every ioctl and on mmap of one node
//! (accel or legacy, adsp or cdsp), half of them with the simulated DSP's
//! fault knobs re-armed throughout (error codes, hostile metadata and
//! garbage messages, duplicate and stale replies, late and dropped
//! replies). Every call must end with an errno its request allows, no
//! child may die, nothing may be left allocated, held or in flight
//! afterwards, and the calculator must still add up right after each
//! child. The console is checked for kernel reports by check.sh.

use std::{
    fs,
    os::{fd::OwnedFd, unix::fs::PermissionsExt, unix::process::CommandExt},
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread,
    time::Duration,
};

use fastrpc_ko::{Legacy, FASTRPC_MODE_UNSIGNED_MODULE};
use qda::{uapi, Device};

use super::{accel, dict::Rng, env::Env, legacy};
use crate::fixtures::{
    debugfs::calls,
    ktap::{check, Outcome},
    sessions,
    wait::eventually,
};

/// The nodes fuzzed, each as root and as an unprivileged user.
const TARGETS: [&str; 4] = ["accel:cdsp", "legacy:cdsp", "accel:adsp", "legacy:adsp"];
/// The uid and gid of the unprivileged children.
const APP_UID: u32 = 1000;

/// Seed and iterations of a run.
#[derive(Clone, Copy)]
pub struct Config {
    pub seed: u64,
    pub iterations: usize,
}

impl Config {
    /// `qda_fuzz_seed` and `qda_fuzz_iterations` of the kernel command
    /// line (passed to /init in its environment), else the defaults.
    pub fn from_env(seed: u64, iterations: usize) -> Self {
        let num = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| match v.strip_prefix("0x") {
                    Some(h) => u64::from_str_radix(h, 16).ok(),
                    None => v.parse().ok(),
                })
        };
        Self {
            seed: num("qda_fuzz_seed").unwrap_or(seed),
            iterations: num("qda_fuzz_iterations").map_or(iterations, |n| n as usize),
        }
    }
}

/// A stand-in shell image.
fn shell() -> Vec<u8> {
    (0..16 * 1024).map(|i| (i % 251) as u8).collect()
}

/// The other DSP's name.
fn other(dsp: &str) -> &'static str {
    if dsp == "cdsp" {
        "adsp"
    } else {
        "cdsp"
    }
}

fn gem_create(fd: std::os::fd::BorrowedFd<'_>, size: u64) -> Option<u32> {
    let mut a = uapi::GemCreate {
        size,
        handle: 0,
        pad: 0,
    };
    qda::ioctl::ioctl(fd, uapi::req::GEM_CREATE, &mut a).ok()?;
    Some(a.handle)
}

fn export(fd: std::os::fd::BorrowedFd<'_>, handle: u32) -> Option<OwnedFd> {
    let mut a = uapi::PrimeHandle {
        handle,
        flags: (libc::O_RDWR | libc::O_CLOEXEC) as u32,
        fd: -1,
    };
    qda::ioctl::ioctl(fd, uapi::req::PRIME_HANDLE_TO_FD, &mut a).ok()?;
    use std::os::fd::FromRawFd;
    // SAFETY: the kernel returned a new fd that we now own.
    Some(unsafe { OwnedFd::from_raw_fd(a.fd) })
}

/// Buffers of another qda device and another file of the same one.
fn foreign_buffers(e: &mut Env, dsp: &str) {
    if let Ok(o) = Device::by_name(other(dsp)) {
        if let Some(b) = gem_create(o.fd(), 2 * 4096).and_then(|h| export(o.fd(), h)) {
            e.map_dmabuf(&b);
            e.keep(b, "dma-buf of the other qda device");
        }
        e.keep_device(o);
    }
    if let Ok(s) = Device::by_name(dsp) {
        for _ in 0..3 {
            if let Some(h) = gem_create(s.fd(), 4096) {
                e.foreign_handles.push(h);
                if let Some(o) =
                    super::env::mmap_offset(std::os::fd::AsRawFd::as_raw_fd(&s.fd()), h)
                {
                    e.offsets.push(o);
                }
            }
        }
        e.keep_device(s);
    }
}

/// The child's own buffer and DSP process, chosen by the seed.
fn accel_setup(e: &mut Env, d: Device) {
    use std::os::fd::AsRawFd;
    if let Some(h) = gem_create(d.fd(), 2 * 4096) {
        e.handles.push(h);
        if let Some(o) = super::env::mmap_offset(d.fd().as_raw_fd(), h) {
            e.offsets.push(o);
            if let Some(a) = e.map_shared(d.fd().as_raw_fd(), o, 2 * 4096) {
                e.bufs.push((h as i32, a, 2 * 4096));
            }
        }
        if let Some(b) = export(d.fd(), h) {
            e.keep(b, "own export");
        }
    }
    // No DSP process, attached (root only), or a user PD; then the
    // calculator, for calls that reach the DSP.
    let started = match e.rng.below(4) {
        0 => false,
        1 => d.attach().is_ok(),
        _ => d.create(&shell(), FASTRPC_MODE_UNSIGNED_MODULE).is_ok(),
    };
    if started {
        e.calc = d.open_module("calculator").ok();
    }
    e.keep_device(d);
}

fn legacy_setup(e: &mut Env, l: &Legacy) {
    if let Ok(b) = l.alloc_dma_buf(2 * 4096) {
        e.map_shared(std::os::fd::AsRawFd::as_raw_fd(&b), 0, 2 * 4096);
        e.keep(b, "legacy dma-buf");
    }
    match e.rng.below(3) {
        0 => {}
        1 => {
            let _ = l.attach();
        }
        _ => {
            if l.create(None, &shell(), FASTRPC_MODE_UNSIGNED_MODULE)
                .is_ok()
            {
                e.calc =
                    qda::rpc::open_module_with(|h, sc, a| l.invoke(h, sc, a), "calculator").ok();
            }
        }
    }
}

/// `qda_mode=fuzz_child`: fuzzes `qda_fuzz_target` for
/// `qda_fuzz_iterations` with `qda_fuzz_seed`; prints `FAIL` lines and a
/// summary.
pub fn child() {
    let cfg = Config::from_env(1, 100);
    let target = std::env::var("qda_fuzz_target").unwrap_or_default();
    let (kind, dsp) = target.split_once(':').unwrap_or(("accel", "cdsp"));
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    // Valid static PD names only where no remote heap would be handed
    // over by the first create (the static PD suite owns that).
    let heap_names = dsp != "adsp" || !root;
    let r = (|| -> Result<Env, String> {
        let legacy_file;
        let fd = if kind == "accel" {
            let d = Device::by_name(dsp).map_err(|e| format!("open: {e}"))?;
            let fd = d.fd().try_clone_to_owned().map_err(|e| e.to_string())?;
            let mut e = Env::new(cfg.seed, &target, fd)?;
            foreign_buffers(&mut e, dsp);
            accel_setup(&mut e, d);
            return Ok(e);
        } else {
            let l = Legacy::open(dsp).map_err(|e| format!("open: {e}"))?;
            let fd = l.fd().try_clone_to_owned().map_err(|e| e.to_string())?;
            legacy_file = Some(l);
            fd
        };
        let mut e = Env::new(cfg.seed, &target, fd)?;
        foreign_buffers(&mut e, dsp);
        if let Some(l) = legacy_file.as_ref() {
            legacy_setup(&mut e, l);
        }
        Ok(e)
    })();
    let mut e = match r {
        Ok(e) => e,
        Err(err) => {
            println!("FAIL {target}: setup: {err}");
            return;
        }
    };
    for i in 0..cfg.iterations {
        e.iter = i;
        if kind == "accel" {
            accel::step(&mut e, heap_names);
        } else {
            legacy::step(&mut e, heap_names);
        }
    }
    e.iter = cfg.iterations;
    for f in &e.failures {
        println!("{f}");
    }
    println!("{}", e.summary());
}

/// The fault knobs re-armed on `dsp` while a child runs.
struct Faults {
    dsp: &'static str,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

const KNOBS: &[&str] = &[
    "error -5",
    "error -22",
    "error -2",
    "error -14",
    "error -12",
    "error -2147482604",
    "hostile",
    "hostile",
    "duplicate",
    "stale",
    "delay 20",
    "drop",
];

fn knob(dsp: &str, cmd: &str) -> Result<(), String> {
    let p = format!("/sys/kernel/debug/qda_dsp_sim/{dsp}");
    fs::write(&p, cmd).map_err(|e| format!("{p} <- {cmd}: {e}"))
}

fn set_timeout(dsp: &str, ms: u32) -> Result<(), String> {
    let p = format!("/sys/kernel/debug/qda/{dsp}/invoke_timeout_ms");
    fs::write(&p, ms.to_string()).map_err(|e| format!("{p}: {e}"))
}

impl Faults {
    fn start(dsp: &'static str, seed: u64) -> Result<Self, String> {
        // Dropped replies end in a timeout (and an orphan).
        set_timeout(dsp, 100)?;
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = thread::spawn(move || {
            let mut rng = Rng(seed | 1);
            while !s.load(Ordering::Relaxed) {
                let _ = knob(dsp, rng.pick(KNOBS));
                thread::sleep(Duration::from_millis(5));
            }
        });
        Ok(Self {
            dsp,
            stop,
            thread: Some(thread),
        })
    }

    /// Stops re-arming; the last armed fault becomes harmless and held
    /// replies are sent.
    fn stop(mut self) -> Outcome {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        knob(self.dsp, "delay 0")?;
        knob(self.dsp, "release")?;
        set_timeout(self.dsp, 0)
    }
}

/// Runs one child as `uid` and returns its output lines.
fn run_child(target: &str, uid: u32, seed: u64, cfg: Config) -> Result<Vec<String>, String> {
    let mut cmd = Command::new("/init");
    cmd.env("qda_mode", "fuzz_child")
        .env("qda_fuzz_target", target)
        .env("qda_fuzz_seed", format!("{seed:#x}"))
        .env("qda_fuzz_iterations", cfg.iterations.to_string())
        .stdout(Stdio::piped());
    if uid != 0 {
        cmd.uid(uid).gid(uid);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("running the child: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    check!(
        out.status.success(),
        "child {target} uid {uid} seed {seed:#x} ended with {}: {lines:?}",
        out.status
    );
    Ok(lines)
}

/// What must be the same before and after the run.
#[derive(Debug, PartialEq)]
struct Snapshot {
    memory: Vec<String>,
    sessions: Vec<(u32, i32, usize)>,
    calls: Vec<(&'static str, u64)>,
}

impl Snapshot {
    fn take() -> Result<Self, String> {
        let mut s = Snapshot {
            memory: Vec::new(),
            sessions: Vec::new(),
            calls: Vec::new(),
        };
        for dsp in ["adsp", "cdsp"] {
            let path = format!("/sys/kernel/debug/qda/{dsp}/memory");
            let text = fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            s.memory.extend(text.lines().map(|l| format!("{dsp} {l}")));
            for slot in sessions::slots(dsp)? {
                if slot.owner != -1 {
                    s.sessions.push((slot.sid, slot.owner, slot.files));
                }
            }
            for key in ["in_flight", "orphans", "unreaped"] {
                s.calls.push((key, calls(dsp, key)?));
            }
        }
        Ok(s)
    }
}

/// The calculator still adds up on `dsp`, through both node kinds.
fn sums_right(dsp: &str) -> Outcome {
    let v: Vec<i32> = (1..=10).collect();
    let d = Device::by_name(dsp).map_err(|e| format!("open {dsp}: {e}"))?;
    d.attach().map_err(|e| format!("{dsp} attach: {e}"))?;
    let h = d
        .open_module("calculator")
        .map_err(|e| format!("{dsp} open calculator: {e}"))?;
    let s = d
        .calculator_sum(h, &v)
        .map_err(|e| format!("{dsp} sum: {e}"))?;
    check!(s == 55, "{dsp}: sum(1..=10) = {s} after fuzzing");
    let l = Legacy::open(dsp).map_err(|e| format!("open legacy {dsp}: {e}"))?;
    l.attach()
        .map_err(|e| format!("legacy {dsp} attach: {e}"))?;
    let h = qda::rpc::open_module_with(|h, sc, a| l.invoke(h, sc, a), "calculator")
        .map_err(|e| format!("legacy {dsp} open calculator: {e}"))?;
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    let prim = (v.len() as u32).to_le_bytes();
    let mut out = [0u8; 8];
    let mut args = [
        qda::rpc::Arg::input(&prim),
        qda::rpc::Arg::input(&bytes),
        qda::rpc::Arg::output(&mut out),
    ];
    let r = l
        .invoke(h, qda::rpc::scalars(2, 2, 1), &mut args)
        .map_err(|e| format!("legacy {dsp} sum: {e}"))?;
    let s = i64::from_le_bytes(out);
    check!(
        r == 0 && s == 55,
        "legacy {dsp}: sum = {s} (remote {r}) after fuzzing"
    );
    Ok(())
}

/// Makes the nodes usable by uid 1000 (as the documented udev rule
/// does); returns the previous modes.
fn open_up() -> Result<Vec<(String, u32)>, String> {
    let mut nodes: Vec<String> = Device::paths()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    nodes.push(Legacy::node("adsp", false));
    nodes.push(Legacy::node("cdsp", false));
    let mut old = Vec::new();
    for n in nodes {
        let m = fs::metadata(&n).map_err(|e| format!("{n}: {e}"))?;
        old.push((n.clone(), m.permissions().mode()));
        fs::set_permissions(&n, fs::Permissions::from_mode(0o666))
            .map_err(|e| format!("chmod {n}: {e}"))?;
    }
    Ok(old)
}

/// One child on `target` as `uid`, with faults or not; its failures.
fn one(
    target: &'static str,
    uid: u32,
    seed: u64,
    faults: bool,
    cfg: Config,
) -> Result<Vec<String>, String> {
    let dsp = target.split_once(':').map_or("cdsp", |t| t.1);
    println!(
        "    # fuzz: {target} uid={uid} seed={seed:#x} iterations={} faults={faults}",
        cfg.iterations
    );
    let f = faults.then(|| Faults::start(dsp, seed)).transpose()?;
    let lines = run_child(target, uid, seed, cfg);
    if let Some(f) = f {
        f.stop()?;
    }
    let lines = lines?;
    for l in lines.iter().filter(|l| !l.starts_with("FAIL")) {
        println!("    # {l}");
    }
    let fails: Vec<String> = lines
        .into_iter()
        .filter(|l| l.starts_with("FAIL"))
        .collect();
    for l in &fails {
        println!("    # {l}");
    }
    // The sums also reap the orphans of dropped replies (the next call
    // on the channel does).
    sums_right(dsp)?;
    check!(
        eventually(|| calls(dsp, "in_flight") == Ok(0)),
        "{target}: calls left in flight: {:?}",
        calls(dsp, "in_flight")
    );
    Ok(fails)
}

/// The whole run: every target as root and as uid 1000, faults on for
/// half of them.
pub fn run(cfg: Config) -> Outcome {
    println!(
        "    # qda-fuzz: seed={:#x} iterations={} per child",
        cfg.seed, cfg.iterations
    );
    let before = Snapshot::take()?;
    let modes = open_up()?;
    let mut fails = Vec::new();
    let mut r = Ok(());
    'all: for (n, target) in TARGETS.iter().enumerate() {
        for (k, uid) in [0, APP_UID].into_iter().enumerate() {
            let i = (2 * n + k) as u64;
            let seed = cfg.seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            match one(target, uid, seed, (n + k) % 2 == 1, cfg) {
                Ok(f) => fails.extend(f),
                Err(e) => {
                    r = Err(e);
                    break 'all;
                }
            }
        }
    }
    for (n, m) in modes {
        let _ = fs::set_permissions(&n, fs::Permissions::from_mode(m));
    }
    r?;
    check!(
        fails.is_empty(),
        "{} calls got errnos they do not allow: {}",
        fails.len(),
        fails[0]
    );
    let mut after = Snapshot::take()?;
    if after != before {
        eventually(|| {
            after = Snapshot::take().unwrap_or(Snapshot {
                memory: vec![],
                sessions: vec![],
                calls: vec![],
            });
            after == before
        });
    }
    check!(
        after == before,
        "left behind: before {before:?}, after {after:?}"
    );
    Ok(())
}
