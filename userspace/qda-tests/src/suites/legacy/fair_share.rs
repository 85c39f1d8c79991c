//! One user cannot deny another a session or a file: children of this
//! program run as different uids and report what they got.
//!
//! Child modes (`qda_mode`): `hold-session` opens the cdsp node, computes
//! a sum in an unsigned PD and holds the file until its stdin closes;
//! `many-files` opens cdsp files until one is refused, then holds them;
//! `calls` opens the calculator and makes one call per line of stdin.

use std::{
    io::{BufRead, BufReader, Read, Write},
    os::unix::process::CommandExt,
    process::{Child, ChildStdout, Command, Stdio},
};

use fastrpc_ko::FASTRPC_MODE_UNSIGNED_MODULE;
use qda::Device;

use super::nodes;
use crate::fixtures::{
    debugfs, faults,
    ktap::{check, Outcome},
    wait::eventually,
};

/// Two unprivileged users.
const USER_A: u32 = 1000;
const USER_B: u32 = 1002;

/// A stand-in shell image.
fn shell() -> Vec<u8> {
    (0..16 * 1024).map(|i| (i % 251) as u8).collect()
}

/// The cdsp node: the parent names it in `qda_node` (opening every node
/// to find it would take a session of each DSP).
fn cdsp() -> std::io::Result<Device> {
    match std::env::var("qda_node") {
        Ok(p) => Device::open(p),
        Err(_) => Device::by_name("cdsp"),
    }
}

/// A file of cdsp with a user PD; its sum of 1..=10 (or the errno).
fn open_and_sum() -> Result<(Device, i64), String> {
    let errno = |e: std::io::Error| e.raw_os_error().unwrap_or(0).to_string();
    let d = cdsp().map_err(|e| format!("open: {}", errno(e)))?;
    d.create(&shell(), FASTRPC_MODE_UNSIGNED_MODULE)
        .map_err(|e| format!("create: {}", errno(e)))?;
    let sum = d
        .open_module("calculator")
        .and_then(|h| d.calculator_sum(h, &(1..=10).collect::<Vec<_>>()))
        .map_err(|e| format!("sum: {}", errno(e)))?;
    Ok((d, sum))
}

/// Waits until the parent closes stdin.
fn hold() {
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// `qda_mode=hold-session`.
pub fn hold_session() {
    match open_and_sum() {
        Ok((_d, sum)) => {
            println!("held {sum}");
            hold();
        }
        Err(e) => println!("{e}"),
    }
}

/// `qda_mode=many-files`.
pub fn many_files() {
    let mut files = Vec::new();
    let err = loop {
        match cdsp() {
            Ok(d) => files.push(d),
            Err(e) => break e.raw_os_error().unwrap_or(0),
        }
        if files.len() > 64 {
            break 0;
        }
    };
    println!("files {} errno {err}", files.len());
    hold();
}

/// `qda_mode=calls`: `ready`, then per line of stdin one sum of `[1]`:
/// `ok <sum>` or `errno <n>`.
pub fn calls() {
    let Ok(d) = cdsp() else {
        return println!("open failed");
    };
    let h = d
        .create(&shell(), FASTRPC_MODE_UNSIGNED_MODULE)
        .and_then(|()| d.open_module("calculator"));
    let Ok(h) = h else {
        return println!("no calculator");
    };
    println!("ready");
    for _ in std::io::stdin().lines() {
        match d.calculator_sum(h, &[1]) {
            Ok(s) => println!("ok {s}"),
            Err(e) => println!("errno {}", e.raw_os_error().unwrap_or(0)),
        }
    }
}

/// A child in `mode` as `uid`, and its stdout.
struct Held {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Held {
    fn spawn(mode: &str, uid: u32) -> Result<Self, String> {
        let node = Device::by_name("cdsp").map_err(|e| format!("cdsp: {e}"))?;
        let mut child = Command::new("/init")
            .env("qda_mode", mode)
            .env("qda_node", node.path())
            .uid(uid)
            .gid(uid)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(Self { child, out })
    }

    /// Asks a `calls` child for one call; its answer.
    fn call(&mut self) -> String {
        if let Some(i) = self.child.stdin.as_mut() {
            let _ = i.write_all(b"call\n");
        }
        self.line()
    }

    /// The child's next line.
    fn line(&mut self) -> String {
        let mut l = String::new();
        let _ = self.out.read_line(&mut l);
        let l = l.trim().to_string();
        println!("    # child {}: {l}", self.child.id());
        l
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

pub fn one_user_cannot_take_every_session() -> Outcome {
    nodes::open_up_nodes()?;
    // cdsp has 4 session slots in the test DT: a user gets 2.
    let mut a: Vec<Held> = (0..3)
        .map(|_| Held::spawn("hold-session", USER_A))
        .collect::<Result<_, _>>()?;
    let got: Vec<String> = a.iter_mut().map(Held::line).collect();
    let held = got.iter().filter(|l| *l == "held 55").count();
    check!(
        held == 2,
        "user A's processes got {got:?}, want two sessions"
    );
    check!(
        got.iter().any(|l| l == "open: 16"),
        "user A's third process: {got:?}, want EBUSY"
    );
    let mut b = Held::spawn("hold-session", USER_B)?;
    let l = b.line();
    check!(
        l == "held 55",
        "user B got {l:?} while user A holds its share"
    );
    // Root (a daemon) is not limited by any user's share.
    let (_d, sum) = open_and_sum()?;
    check!(sum == 55, "root's sum {sum}");
    Ok(())
}

pub fn one_user_cannot_take_every_client_id() -> Outcome {
    nodes::open_up_nodes()?;
    let mut a = Held::spawn("many-files", USER_A)?;
    let l = a.line();
    check!(
        l == "files 32 errno 24",
        "user A opened: {l:?}, want 32 files then EMFILE"
    );
    let mut b = Held::spawn("hold-session", USER_B)?;
    let l = b.line();
    check!(
        l == "held 55",
        "user B got {l:?} while user A holds 32 files"
    );
    Ok(())
}

/// User A's calls, orphaned by a DSP that holds their answers, stop at
/// A's share of the orphan limit (`EAGAIN`), while user B still computes.
pub fn one_user_cannot_orphan_every_call() -> Outcome {
    nodes::open_up_nodes()?;
    let share = debugfs::calls("cdsp", "orphan_limit")? / 2;
    let mut a = Held::spawn("calls", USER_A)?;
    let l = a.line();
    check!(l == "ready", "user A: {l:?}");
    faults::set_timeout("cdsp", 20)?;
    let r = orphan_share(&mut a, share);
    faults::set_timeout("cdsp", 0)?;
    let b = r.and_then(|()| {
        let mut b = Held::spawn("hold-session", USER_B)?;
        Ok(b.line())
    });
    faults::knob("cdsp", "release")?;
    let l = b?;
    check!(
        l == "held 55",
        "user B got {l:?} while user A holds its orphans"
    );
    check!(
        eventually(|| debugfs::calls("cdsp", "orphans") == Ok(0)),
        "orphans left after the answers came"
    );
    Ok(())
}

/// `share` calls of `a` orphaned (each answer held), then one refused.
fn orphan_share(a: &mut Held, share: u64) -> Outcome {
    let base = faults::held("cdsp")?;
    for i in 0..share {
        faults::knob("cdsp", "drop")?;
        let l = a.call();
        check!(l == "errno 110", "user A's call {i}: {l:?}, want ETIMEDOUT");
        let want = base + i as u32 + 1;
        check!(
            eventually(|| faults::held("cdsp") == Ok(want)),
            "call {i}: the simulator holds {:?} answers",
            faults::held("cdsp")
        );
    }
    let l = a.call();
    check!(l == "errno 11", "user A past its share: {l:?}, want EAGAIN");
    Ok(())
}
