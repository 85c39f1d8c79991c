//! `qda_mode=corpus`: the device-tree corpus (`tests/dt_corpus`).
//!
//! The boot's tree holds the FastRPC nodes of real 7.3 board trees, each
//! SoC's remoteprocs marked with a `qda,corpus-group` (and, for a SoC
//! whose nodes have `qcom,vmids`, a copy without them for fastrpc.ko,
//! `qda,corpus-run = "upstream"`: fastrpc.ko defers such a node while SCM
//! is unavailable, and QEMU has none). For each SoC the simulator is
//! loaded with `corpus_group` set to it, first with every channel bound
//! to qda, then to fastrpc.ko (`upstream_mask`). Per FastRPC node:
//!
//! - it probes: qda makes its accel node, and the topology qda derived is
//!   printed (`qda-corpus:` lines: qda's registration and remote-heap
//!   lines, debugfs `sessions` and `remote_heap`);
//! - which `/dev/fastrpc-<label>[-secure]` nodes each driver makes;
//! - a script through each driver's legacy node: attach, then a null
//!   invoke whose result is checked, the DSP's recordings compared
//!   message by message after the declared divergences
//!   ([`crate::fixtures::divergence`]), with the payload windows (SID and the DMA
//!   address bits above 32, as the DSP sees them);
//! - how many sessions each driver gives (files opened and attached until
//!   one is refused) and the payload windows the DSP saw for them.

use std::{
    collections::BTreeSet,
    fs,
    io::{self, Read},
    os::fd::AsRawFd,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use fastrpc_ko::Legacy;
use qda::{rpc::scalars, Device};

use crate::fixtures::{
    divergence::{self, DIVERGENCES},
    driver::{Driver, UpstreamFile},
    ktap::{check, Outcome},
    sys,
    upstream::{load, unload_sim, SIM},
};

/// Where the boot's tree is.
pub const DT: &str = "/proc/device-tree";
/// fastrpc.ko and what it needs, in load order.
pub const UPSTREAM_MODULES: [&str; 4] = ["qcom_tzmem", "qcom_pas", "qcom-scm", "fastrpc"];
/// Upper bound on the sessions tried per node (fastrpc.ko has at most 14).
const MAX_SESSIONS: usize = 64;
/// How long the nodes of a group may take to appear after insmod.
const SETTLE: Duration = Duration::from_secs(2);
/// The simulator's debugfs folder.
const SIM_DEBUGFS: &str = "/sys/kernel/debug/qda_dsp_sim";

/// A context bank as the DT declares it.
#[derive(Clone, Debug)]
pub struct Cb {
    pub reg: u32,
    pub nsessions: Option<u32>,
    pub iommus: bool,
}

/// A FastRPC node as the DT declares it.
#[derive(Clone, Debug)]
pub struct Node {
    pub label: String,
    /// Its path in the DT (`/corpus-.../glink-edge/fastrpc`).
    pub path: String,
    pub compatible: String,
    pub non_secure: bool,
    pub vmids: usize,
    pub regions: usize,
    pub cbs: Vec<Cb>,
}

/// One group of the corpus: a SoC's nodes for one run.
#[derive(Clone, Debug)]
pub struct Group {
    pub id: u32,
    pub soc: String,
    pub board: String,
    pub upstream: bool,
    pub nodes: Vec<Node>,
}

fn read_str(p: &Path) -> Option<String> {
    let b = fs::read(p).ok()?;
    let b = b.strip_suffix(b"\0").unwrap_or(&b);
    Some(String::from_utf8_lossy(b).into_owned())
}

fn read_u32(p: &Path) -> Option<u32> {
    let b = fs::read(p).ok()?;
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

fn subdirs(p: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `compatible` of DT folder `p` names a FastRPC node.
fn is_fastrpc(p: &Path) -> Option<String> {
    let c = fs::read(p.join("compatible")).ok()?;
    c.split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .find(|s| s == "qcom,fastrpc" || s == "qcom,kaanapali-fastrpc")
}

/// The FastRPC node in DT folder `p`.
pub fn node(p: &Path) -> Option<Node> {
    let compatible = is_fastrpc(p)?;
    let cbs = subdirs(p)
        .iter()
        .filter(|c| read_str(&c.join("compatible")).as_deref() == Some("qcom,fastrpc-compute-cb"))
        .map(|c| Cb {
            reg: read_u32(&c.join("reg")).unwrap_or(u32::MAX),
            nsessions: read_u32(&c.join("qcom,nsessions")),
            iommus: c.join("iommus").exists(),
        })
        .collect();
    let count = |name: &str, unit: u64| fs::metadata(p.join(name)).map_or(0, |m| m.len() / unit);
    Some(Node {
        label: read_str(&p.join("label")).unwrap_or_default(),
        path: p
            .strip_prefix(DT)
            .map(|r| format!("/{}", r.display()))
            .unwrap_or_default(),
        compatible,
        non_secure: p.join("qcom,non-secure-domain").exists(),
        vmids: count("qcom,vmids", 4) as usize,
        regions: count("memory-region", 4) as usize,
        cbs,
    })
}

/// Every group of the boot's tree, by group number.
pub fn groups(root: &Path) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for rproc in subdirs(root) {
        let Some(id) = read_u32(&rproc.join("qda,corpus-group")) else {
            continue;
        };
        let nodes: Vec<Node> = subdirs(&rproc)
            .iter()
            .flat_map(|edge| subdirs(edge))
            .filter_map(|p| node(&p))
            .collect();
        let g = match out.iter_mut().find(|g| g.id == id) {
            Some(g) => g,
            None => {
                out.push(Group {
                    id,
                    soc: read_str(&rproc.join("qda,corpus-soc")).unwrap_or_default(),
                    board: read_str(&rproc.join("qda,corpus-board")).unwrap_or_default(),
                    upstream: read_str(&rproc.join("qda,corpus-run")).as_deref()
                        == Some("upstream"),
                    nodes: Vec::new(),
                });
                out.last_mut().unwrap()
            }
        };
        g.nodes.extend(nodes);
    }
    out.sort_by_key(|g| g.id);
    out
}

/// The legacy nodes of `label` that exist.
fn dev_nodes(label: &str) -> Vec<String> {
    [false, true]
        .into_iter()
        .map(|secure| Legacy::node(label, secure))
        .filter(|p| Path::new(p).exists())
        .collect()
}

/// qda's accel node of the DT node at `path`, found through sysfs.
fn accel_of(path: &str) -> Option<PathBuf> {
    let mut paths = Device::paths().ok()?;
    paths.sort();
    paths.into_iter().find(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let link = format!("/sys/class/accel/{name}/device/of_node");
        fs::canonicalize(link).is_ok_and(|t| {
            t.to_string_lossy()
                .ends_with(&format!("devicetree/base{path}"))
        })
    })
}

/// The kernel log from here on (`/dev/kmsg`, read without waiting).
struct Kmsg(fs::File);

impl Kmsg {
    fn open() -> io::Result<Self> {
        let f = fs::OpenOptions::new()
            .read(true)
            .custom_flags_nonblock()
            .open("/dev/kmsg")?;
        // SAFETY: plain lseek on an fd we own.
        unsafe { libc::lseek(f.as_raw_fd(), 0, libc::SEEK_END) };
        Ok(Self(f))
    }

    /// The messages logged since `open` (or the last call).
    fn lines(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 8192];
        loop {
            match self.0.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let rec = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let text = rec.split_once(';').map_or(rec.as_str(), |(_, t)| t);
                    out.push(text.lines().next().unwrap_or_default().to_string());
                }
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => continue,
                Err(_) => break,
            }
        }
        out
    }
}

/// `OpenOptions` with `O_NONBLOCK`.
trait NonBlock {
    fn custom_flags_nonblock(&mut self) -> &mut Self;
}

impl NonBlock for fs::OpenOptions {
    fn custom_flags_nonblock(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.custom_flags(libc::O_NONBLOCK)
    }
}

/// What one driver made of one node.
#[derive(Debug, Default)]
pub struct Seen {
    /// The legacy nodes it made.
    pub nodes: Vec<String>,
    /// The script's DSP trace (attach, null invoke) and its failure.
    trace: Vec<String>,
    windows: Vec<String>,
    error: Option<String>,
    /// Sessions given before one was refused, and the refusal.
    sessions: usize,
    refusal: String,
    session_windows: BTreeSet<String>,
    /// How qda lets the DSP reach the remote heap (debugfs `remote_heap`:
    /// `identity-mapped`, `scm-assigned`, `direct`), if it has one.
    heap_access: Option<String>,
}

/// The declared probe divergence, if it explains `q` and `u` differing on
/// node `n` as in the board's tree: fastrpc.ko waits for SCM whenever a
/// node has `qcom,vmids` (QEMU has no SCM, so it defers for ever); qda
/// needs SCM only to assign a remote heap, and does not when the
/// remoteproc has its own IOMMU domain (the heap is identity-mapped
/// there) or there is no heap. Then qda probes where fastrpc.ko defers.
pub fn probe_divergence(n: &Node, q: &Seen, u: &Seen) -> Option<String> {
    let deferred_upstream = n.vmids > 0 && u.nodes.is_empty() && !q.nodes.is_empty();
    let no_scm_needed = q.heap_access.as_deref() != Some("scm-assigned");
    (deferred_upstream && no_scm_needed).then(|| {
        format!(
            "declared: fastrpc.ko defers on qcom,vmids without SCM; qda needs SCM only to assign a remote heap (here: {})",
            q.heap_access.as_deref().unwrap_or("no remote heap")
        )
    })
}

fn trace_path(label: &str) -> String {
    format!("{SIM_DEBUGFS}/trace-{label}")
}

fn clear_trace(label: &str) -> io::Result<()> {
    fs::write(trace_path(label), "1\n")
}

fn read_lines(p: &str) -> Vec<String> {
    fs::read_to_string(p)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The payload windows (`wN 0x…` lines of `addrs-<label>`).
fn windows(label: &str) -> Vec<String> {
    read_lines(&format!("{SIM_DEBUGFS}/addrs-{label}"))
        .into_iter()
        .filter_map(|l| {
            l.split_once(' ')
                .filter(|(t, _)| t.starts_with('w'))
                .map(|(_, v)| v.to_string())
        })
        .collect()
}

/// The legacy node the script uses: the non-secure one if there is one.
fn script_node(nodes: &[String]) -> Option<(bool, &String)> {
    nodes
        .iter()
        .find(|n| !n.ends_with("-secure"))
        .map(|n| (false, n))
        .or_else(|| nodes.first().map(|n| (true, n)))
}

/// Attach and a null invoke through one file of `label`'s legacy node.
fn script(label: &str, secure: bool, restarts: bool) -> Result<(), String> {
    let f = UpstreamFile::new(
        Legacy::open_node(label, secure).map_err(|e| format!("open: {e}"))?,
        restarts,
    );
    f.attach().map_err(|e| format!("attach: {e}"))?;
    let h = f
        .open_module("null")
        .map_err(|e| format!("open null: {e}"))?;
    let r = f
        .invoke(h, scalars(2, 0, 0), &mut [])
        .map_err(|e| format!("invoke null: {e}"))?;
    check!(r == 0, "null returned {r}");
    f.close_module(h).map_err(|e| format!("close null: {e}"))
}

/// One process that opens `label`'s legacy node and attaches, then holds
/// its session until killed: its pid, and "ok" or the refusal.
fn holder(label: &str, secure: bool) -> Result<(i32, String), String> {
    let (pid, fd) = sys::fork_piped(|w| {
        let r = Legacy::open_node(label, secure)
            .map_err(|e| format!("open: {e}"))
            .and_then(|f| f.attach().map(|()| f).map_err(|e| format!("attach: {e}")));
        let msg = r.as_ref().map_or_else(|e| e.clone(), |_| "ok".into());
        // SAFETY: writes our bytes to the pipe's write end, then closes it.
        unsafe {
            libc::write(w, msg.as_ptr().cast(), msg.len());
            libc::close(w);
        }
        if r.is_ok() {
            loop {
                // SAFETY: waits for the parent's SIGKILL.
                unsafe { libc::pause() };
            }
        }
        1
    })?;
    // SAFETY: `fd` is the read end fork_piped gave us, now ours.
    let mut f = unsafe { <fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let mut msg = String::new();
    let _ = f.read_to_string(&mut msg);
    Ok((pid, msg))
}

/// Ends the holders (their files close, their sessions go back).
fn end_holders(pids: &[i32]) {
    for &pid in pids {
        // SAFETY: plain kill and wait of our own children.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
}

/// Processes that each open `label`'s legacy node and attach, started
/// until one is refused (a session is a process's: qda gives one process
/// one session however many files it opens): how many, the refusal, and
/// the windows the DSP saw.
fn sessions(label: &str, secure: bool, seen: &mut Seen) {
    let _ = clear_trace(label);
    let mut pids = Vec::new();
    seen.refusal = "none".into();
    while pids.len() < MAX_SESSIONS {
        match holder(label, secure) {
            Ok((pid, msg)) if msg == "ok" => pids.push(pid),
            Ok((pid, msg)) => {
                end_holders(&[pid]);
                seen.refusal = msg;
                break;
            }
            Err(e) => {
                seen.refusal = e;
                break;
            }
        }
    }
    seen.sessions = pids.len();
    seen.session_windows = windows(label).into_iter().collect();
    end_holders(&pids);
}

/// Runs the per-node work of one driver on the loaded simulator.
fn observe(n: &Node, upstream: bool, full: bool) -> Seen {
    let mut seen = Seen {
        nodes: dev_nodes(&n.label),
        ..Default::default()
    };
    if !full {
        return seen;
    }
    let Some((secure, _)) = script_node(&seen.nodes) else {
        seen.error = Some("no legacy node".into());
        return seen;
    };
    seen.error = match clear_trace(&n.label) {
        Err(e) => Some(format!("clearing the trace: {e}")),
        Ok(()) => script(&n.label, secure, upstream).err(),
    };
    seen.trace = read_lines(&trace_path(&n.label));
    seen.windows = windows(&n.label);
    sessions(&n.label, secure, &mut seen);
    seen
}

/// Prints what qda derived for `n` (its log lines and debugfs files).
fn print_topology(g: &Group, n: &Node, log: &[String]) {
    let run = if g.upstream { " (copy)" } else { "" };
    let tag = format!("qda-corpus: {}{run} {}", g.soc, n.label);
    let dt = format!(
        "{} {}, {} CBs ({}), {}, {} vmids, {} memory regions",
        n.compatible,
        n.path,
        n.cbs.len(),
        n.cbs
            .iter()
            .map(|c| {
                let s = c.nsessions.map_or(String::new(), |s| format!("x{s}"));
                let i = if c.iommus { "" } else { " no-iommus" };
                format!("{}{s}{i}", c.reg)
            })
            .collect::<Vec<_>>()
            .join(" "),
        if n.non_secure { "non-secure" } else { "secure" },
        n.vmids,
        n.regions
    );
    println!("{tag} dt: {dt}");
    let me = format!("{} DSP registered", n.label);
    let heap = format!("{}: remote heap", n.label);
    for l in log.iter().filter(|l| l.contains(&me) || l.contains(&heap)) {
        println!("{tag} log: {l}");
    }
    let dir = format!("/sys/kernel/debug/qda/{}", n.label);
    for f in ["sessions", "remote_heap"] {
        for l in read_lines(&format!("{dir}/{f}")) {
            println!("{tag} {f}: {l}");
        }
    }
}

/// The third field of qda's debugfs `remote_heap` of `label`.
fn heap_access(label: &str) -> Option<String> {
    let text = fs::read_to_string(format!("/sys/kernel/debug/qda/{label}/remote_heap")).ok()?;
    text.split_whitespace().nth(2).map(str::to_string)
}

/// The verdict on one node from both drivers' observations.
pub fn verdict(probed: Result<(), String>, q: &Seen, u: &Seen) -> Outcome {
    let mut errs = Vec::new();
    if let Err(e) = probed {
        errs.push(e);
    }
    if q.nodes != u.nodes {
        errs.push(format!(
            "legacy nodes differ: qda {:?}, fastrpc.ko {:?}",
            q.nodes, u.nodes
        ));
    }
    for (side, s) in [("qda", q), ("fastrpc.ko", u)] {
        if let Some(e) = &s.error {
            errs.push(format!("{side}: {e}"));
        }
    }
    let mut used = vec![false; DIVERGENCES.len()];
    if let Err(e) = divergence::compare(&q.trace, &u.trace, DIVERGENCES, &mut used) {
        errs.push(e);
    }
    if q.windows != u.windows {
        errs.push(format!(
            "payload windows differ: qda {:?}, fastrpc.ko {:?}",
            q.windows, u.windows
        ));
    }
    if (q.sessions, &q.session_windows) != (u.sessions, &u.session_windows) {
        errs.push(format!(
            "sessions differ: qda {} (then {}, windows {:?}), fastrpc.ko {} (then {}, windows {:?})",
            q.sessions, q.refusal, q.session_windows, u.sessions, u.refusal, u.session_windows
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n"))
    }
}

/// Loads the simulator with group `g` bound to fastrpc.ko (`upstream`)
/// or to qda, and waits (at most `SETTLE`) until each of `nodes` has a
/// legacy node: probes run in insmod, a deferred one may come later.
fn load_group(g: &Group, upstream: bool) -> Result<(), String> {
    unload_sim()?;
    let steer = if upstream {
        "upstream_mask=4294967295"
    } else {
        "pin_drivers=1"
    };
    load(SIM, &format!("corpus_group={} {steer}", g.id))?;
    let end = Instant::now() + SETTLE;
    while Instant::now() < end && g.nodes.iter().any(|n| dev_nodes(&n.label).is_empty()) {
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// One driver's run of group `g`: per node, whether it probed and what
/// it did (`full`: the script and the sessions too; else only the nodes).
pub fn side(g: &Group, upstream: bool, full: bool) -> Vec<(Result<(), String>, Seen)> {
    let mut kmsg = Kmsg::open().ok();
    let run = load_group(g, upstream);
    // Let the probes' messages reach the log.
    std::thread::sleep(Duration::from_millis(100));
    let log = kmsg.as_mut().map(Kmsg::lines).unwrap_or_default();
    let driver = if upstream { "fastrpc.ko" } else { "qda" };
    g.nodes
        .iter()
        .map(|n| {
            if let Err(e) = &run {
                let seen = Seen {
                    error: Some(e.clone()),
                    ..Default::default()
                };
                return (Err(e.clone()), seen);
            }
            let probed = if upstream {
                Ok(())
            } else {
                print_topology(g, n, &log);
                accel_of(&n.path)
                    .map(|_| ())
                    .ok_or_else(|| format!("qda made no accel node for {}", n.path))
            };
            let mut seen = observe(n, upstream, full);
            if !upstream {
                seen.heap_access = heap_access(&n.label);
            }
            println!(
                "qda-corpus: {} {} {driver}: nodes {:?}{}",
                g.soc,
                n.label,
                seen.nodes,
                if full {
                    format!(", {} sessions (then {})", seen.sessions, seen.refusal)
                } else {
                    String::new()
                }
            );
            (probed, seen)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(trace: &[&str], sessions: usize) -> Seen {
        Seen {
            nodes: vec!["/dev/fastrpc-cdsp".into()],
            trace: trace.iter().map(|s| s.to_string()).collect(),
            sessions,
            ..Default::default()
        }
    }

    #[test]
    fn equal_observations_pass() {
        let a = seen(&["c0 t0 x0 pd0 h1 sc01010000 sz8"], 3);
        assert_eq!(verdict(Ok(()), &a, &a), Ok(()));
    }

    #[test]
    fn each_difference_fails_the_node() {
        let a = seen(&["c0 t0 x0 pd0 h1 sc01010000 sz8"], 3);
        let fewer = seen(&["c0 t0 x0 pd0 h1 sc01010000 sz8"], 2);
        assert!(verdict(Ok(()), &a, &fewer)
            .unwrap_err()
            .contains("sessions differ"));
        let other = seen(&["c0 t0 x0 pd0 h1 sc01010000 sz10"], 3);
        assert!(verdict(Ok(()), &a, &other).is_err());
        let mut nodes = seen(&["c0 t0 x0 pd0 h1 sc01010000 sz8"], 3);
        nodes.nodes.push("/dev/fastrpc-cdsp-secure".into());
        assert!(verdict(Ok(()), &a, &nodes)
            .unwrap_err()
            .contains("legacy nodes"));
        let mut w = seen(&["c0 t0 x0 pd0 h1 sc01010000 sz8"], 3);
        w.windows = vec!["0x3".into()];
        assert!(verdict(Ok(()), &a, &w).unwrap_err().contains("windows"));
        assert!(verdict(Err("no probe".into()), &a, &a).is_err());
    }

    #[test]
    fn groups_are_read_from_a_tree() {
        let root = std::env::temp_dir().join(format!("qda-corpus-{}", std::process::id()));
        let rp = root.join("corpus-x-remoteproc-1");
        let fr = rp.join("glink-edge/fastrpc");
        let cb = fr.join("compute-cb@3");
        fs::create_dir_all(&cb).unwrap();
        fs::write(rp.join("qda,corpus-group"), 7u32.to_be_bytes()).unwrap();
        fs::write(rp.join("qda,corpus-soc"), b"x\0").unwrap();
        fs::write(rp.join("qda,corpus-run"), b"qda\0").unwrap();
        fs::write(fr.join("compatible"), b"qcom,fastrpc\0").unwrap();
        fs::write(fr.join("label"), b"cdsp\0").unwrap();
        fs::write(fr.join("qcom,vmids"), [0u8; 8]).unwrap();
        fs::write(cb.join("compatible"), b"qcom,fastrpc-compute-cb\0").unwrap();
        fs::write(cb.join("reg"), 3u32.to_be_bytes()).unwrap();
        let g = groups(&root);
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!((g[0].id, g[0].soc.as_str(), g[0].upstream), (7, "x", false));
        let n = &g[0].nodes[0];
        assert_eq!((n.label.as_str(), n.vmids, n.cbs.len()), ("cdsp", 2, 1));
        assert_eq!((n.cbs[0].reg, n.cbs[0].iommus), (3, false));
    }
}
