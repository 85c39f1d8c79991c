//! The `qda_library` KTAP suite: Qualcomm's FastRPC library (QDA backend)
//! and the Hexagon SDK examples it ships, run unmodified against qda.
//!
//! The programs are dynamically linked arm64 binaries that
//! `scripts/guest-library.sh` puts into the initramfs. Each runs as a child
//! under a time limit (killed and failed when it expires); its stdout and
//! stderr, and whatever the library logs to syslog (a `/dev/log` socket
//! served here), are copied to the console with a `qda-lib[<case>]` prefix.
//! A case passes only when the computed values are right, not on a status
//! line alone. Without the library in the initramfs every case is a skip.

use std::{
    io::{BufRead, BufReader, Read},
    os::unix::net::UnixDatagram,
    path::Path,
    process::{Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::{Duration, Instant},
};

/// The examples' runner from the library's test directory.
const FASTRPC_TEST: &str = "/usr/bin/fastrpc_test";
/// tests/library/qda_libtest.c.
pub(crate) const LIBTEST: &str = "/usr/libexec/qda/qda_libtest";
/// Makes the runner's stdout line-buffered (output survives a kill).
const LINEBUF: &str = "/usr/libexec/qda/linebuf.so";
/// The library the examples' stubs link.
const CDSPRPC: &str = "/usr/lib/libcdsprpc.so.1";
/// Where the DSP side of the examples (the v68 skels) is installed.
const SKELS: &str = "/usr/share/fastrpc_test/v68";
/// The simulator's fault knob of cdsp.
const CDSP_KNOB: &str = "/sys/kernel/debug/qda_dsp_sim/cdsp";
/// The Hexagon SDK examples, by stub library.
const EXAMPLES: [&str; 3] = ["calculator", "hap_example", "multithreading"];
/// The array the calculator example's `run_test` sums: 0..CALC_N.
const CALC_N: i64 = 1000;

/// Outcome of one case.
pub(crate) enum Verdict {
    Pass,
    Fail(String),
    Skip(String),
}

/// What a child printed and how it ended.
pub(crate) struct Run {
    pub lines: Vec<String>,
    pub syslog: Vec<String>,
    /// Exit code; `None` when killed by a signal or by the time limit.
    pub code: Option<i32>,
    pub timed_out: bool,
}

/// Prints where each thread of process `pid` is (state and kernel
/// stack), to tell a hang in the kernel from one in userspace.
fn dump_tasks(case: &str, pid: u32) {
    dump_channels(case);
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for t in tasks.flatten() {
        let dir = t.path();
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        let state = stat.rsplit_once(") ").map_or("?", |(_, r)| &r[..1]);
        let stack = std::fs::read_to_string(dir.join("stack")).unwrap_or_default();
        let top: Vec<&str> = stack.lines().take(8).collect();
        println!(
            "qda-lib[{case}]: task {} state {state}: {}",
            t.file_name().to_string_lossy(),
            top.join(" <- ")
        );
    }
}

/// qda's view of each channel's calls and the last requests the simulated
/// DSP received, to tell an unanswered call from a dropped answer.
fn dump_channels(case: &str) {
    for dsp in ["adsp", "cdsp"] {
        let calls = std::fs::read_to_string(format!("/sys/kernel/debug/qda/{dsp}/calls"));
        let calls = calls.unwrap_or_default().replace('\n', ", ");
        println!("qda-lib[{case}]: qda {dsp} calls: {calls}");
        let trace = std::fs::read_to_string(format!("/sys/kernel/debug/qda_dsp_sim/trace-{dsp}"));
        let trace = trace.unwrap_or_default();
        let lines: Vec<&str> = trace.lines().collect();
        for l in &lines[lines.len().saturating_sub(12)..] {
            println!("qda-lib[{case}]: sim {dsp} received: {l}");
        }
    }
}

/// Messages received on `/dev/log` since the last drain.
pub(crate) type Syslog = Arc<Mutex<Vec<String>>>;

/// Serves `/dev/log` so that the library's log lines are not lost.
pub(crate) fn serve_syslog() -> Syslog {
    let log: Syslog = Arc::default();
    let _ = std::fs::remove_file("/dev/log");
    match UnixDatagram::bind("/dev/log") {
        Ok(sock) => {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = sock.recv(&mut buf) {
                    let msg = String::from_utf8_lossy(&buf[..n]);
                    // Drop the "<priority>" glibc puts first.
                    let msg = msg.split_once('>').map_or(&*msg, |(_, m)| m);
                    log.lock().unwrap().push(msg.trim_end().to_string());
                }
            });
        }
        Err(e) => println!("qda-lib: cannot serve /dev/log ({e}); library logs are lost"),
    }
    log
}

/// Copies `r` line by line into `tx`, tagged `tag`.
pub(crate) fn forward(r: impl Read + Send + 'static, tag: &'static str, tx: mpsc::Sender<String>) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(format!("{tag}{line}")).is_err() {
                break;
            }
        }
    });
}

/// The environment of the accel build's programs: its libraries, and the
/// examples' skels as the DSP library path.
pub(crate) fn accel_env(cmd: &mut Command) -> &mut Command {
    cmd.env("LD_LIBRARY_PATH", "/usr/lib:/lib")
        .env("DSP_LIBRARY_PATH", SKELS)
        .env("ADSP_LIBRARY_PATH", SKELS)
}

/// Runs `cmd` (its environment set by the caller) for at most `limit`,
/// echoing its output as `qda-lib[case]`.
pub(crate) fn run(
    case: &str,
    mut cmd: Command,
    limit: Duration,
    log: &Syslog,
) -> Result<Run, String> {
    log.lock().unwrap().clear();
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    println!("qda-lib[{case}]: $ {cmd:?}");
    let mut child = cmd.spawn().map_err(|e| format!("spawning {cmd:?}: {e}"))?;
    let (tx, rx) = mpsc::channel();
    forward(child.stdout.take().unwrap(), "", tx.clone());
    forward(child.stderr.take().unwrap(), "stderr: ", tx);
    let deadline = Instant::now() + limit;
    let mut lines = Vec::new();
    let mut timed_out = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => {
                println!("qda-lib[{case}]: {l}");
                lines.push(l);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                println!("qda-lib[{case}]: time limit of {limit:?} reached; killing it");
                dump_tasks(case, child.id());
                let _ = child.kill();
                timed_out = true;
                break;
            }
        }
    }
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    // Output that raced with the kill.
    while let Ok(l) = rx.try_recv() {
        println!("qda-lib[{case}]: {l}");
        lines.push(l);
    }
    let syslog = std::mem::take(&mut *log.lock().unwrap());
    echo_syslog(case, &syslog);
    println!("qda-lib[{case}]: {status}");
    Ok(Run {
        lines,
        syslog,
        code: status.code(),
        timed_out,
    })
}

/// Echoes the library's log of one run; the middle of a very long one
/// (a retry loop) is elided.
pub(crate) fn echo_syslog(case: &str, syslog: &[String]) {
    const HEAD: usize = 200;
    const TAIL: usize = 100;
    for (i, l) in syslog.iter().enumerate() {
        if i < HEAD || i + TAIL >= syslog.len() {
            println!("qda-lib[{case}] syslog: {l}");
        } else if i == HEAD {
            let n = syslog.len() - HEAD - TAIL;
            println!("qda-lib[{case}] syslog: ... {n} lines elided ...");
        }
    }
}

/// One example's share of the runner's output: the lines after the
/// previous example's verdict, up to its own `[PASS|FAIL|SKIP] lib<x>.so`.
pub(crate) fn example_output<'a>(run: &'a Run, example: &str) -> Option<(&'a str, Vec<&'a str>)> {
    let mut seg = Vec::new();
    for l in &run.lines {
        for v in ["PASS", "FAIL", "SKIP"] {
            if let Some(rest) = l.strip_prefix(&format!("[{v}] ")) {
                if rest.starts_with(&format!("lib{example}.so")) {
                    return Some((v, seg));
                }
                seg.clear();
            }
        }
        seg.push(l.as_str());
    }
    None
}

/// The value printed after `prefix` on one of `lines`.
fn value_after(lines: &[&str], prefix: &str) -> Option<i64> {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .and_then(|v| v.trim().parse().ok())
}

/// Checks what the example computed (where the apps side can see it).
fn check_example(example: &str, lines: &[&str]) -> Result<(), String> {
    let has = |s: &str| lines.iter().any(|l| l.contains(s));
    match example {
        "calculator" => {
            let (sum, max) = (CALC_N * (CALC_N - 1) / 2, CALC_N - 1);
            match value_after(lines, "Sum =") {
                Some(v) if v == sum => {}
                v => return Err(format!("calculator_sum gave {v:?}, want {sum}")),
            }
            match value_after(lines, "Max value =") {
                Some(v) if v == max => Ok(()),
                v => Err(format!("calculator_max gave {v:?}, want {max}")),
            }
        }
        // The skel checks its own results on the DSP and the stub prints
        // the verdict; nothing numeric reaches the apps side.
        "multithreading" if has("Test PASSED") => Ok(()),
        _ => Err(format!("{example}: no success line from the example")),
    }
}

/// The call of the HAP example that the library cannot make through the
/// QDA backend: a method whose only argument is a DMA handle. The
/// backend's `ioctl_invoke` (src/fastrpc_ioctl_drm.c) copies only the
/// buffer arguments (`in + out` of the scalars), so such a call reaches
/// the kernel with no argument array and fails with EFAULT (0xe).
const HAP_DMAHANDLE: &str = "returned from hap_example_mem_dmahandle";

/// The HAP example's parts (`Demonstrating ...` sections): every one must
/// print its PASSED line, except a part whose only failure is the
/// library's DMA-handle call; returns whether that call failed so.
fn hap_parts(lines: &[&str]) -> Result<bool, String> {
    let mut parts: Vec<Vec<&str>> = Vec::new();
    for l in lines {
        if l.trim_start().starts_with("Demonstrating ") {
            parts.push(Vec::new());
        }
        if let Some(p) = parts.last_mut() {
            p.push(l);
        }
    }
    if parts.len() < 3 {
        return Err(format!(
            "{} parts of the HAP example ran, want 3",
            parts.len()
        ));
    }
    let mut dmahandle = false;
    for p in &parts {
        let has = |s: &str| p.iter().any(|l| l.contains(s));
        let errors: Vec<&&str> = p.iter().filter(|l| l.contains("Error Code")).collect();
        match (has("hap_example function PASSED"), errors.as_slice()) {
            (true, []) => {}
            (false, [e]) if e.contains(HAP_DMAHANDLE) && e.contains("0xe ") => dmahandle = true,
            _ => return Err(format!("part {:?} failed", p[0].trim())),
        }
    }
    Ok(dmahandle)
}

/// The HAP example's verdicts: its parts, and its DMA-handle call.
fn hap_verdicts(r: &Run) -> [Verdict; 2] {
    let Some((_, lines)) = example_output(r, "hap_example") else {
        let v = || Verdict::Fail("fastrpc_test did not report libhap_example.so".into());
        return [v(), v()];
    };
    match hap_parts(&lines) {
        Ok(false) => [Verdict::Pass, Verdict::Pass],
        Ok(true) => [
            Verdict::Pass,
            Verdict::Skip(
                "library defect: the QDA backend passes no handle arguments \
                 (src/fastrpc_ioctl_drm.c ioctl_invoke), so the call gets EFAULT"
                    .into(),
            ),
        ],
        Err(e) => {
            let f = || Verdict::Fail(format!("{e}{}", first_error(r)));
            [f(), f()]
        }
    }
}

/// `fastrpc_test` on one DSP; one verdict per example.
fn examples_on(dsp: &str, domain: u32, log: &Syslog) -> Vec<(String, Verdict)> {
    let case = format!("fastrpc_test_{dsp}");
    let run = run(&case, examples_cmd(domain), Duration::from_secs(150), log);
    let mut v: Vec<(String, Verdict)> = EXAMPLES
        .iter()
        .map(|ex| {
            let name = format!("{ex}_on_{dsp}");
            let v = match &run {
                Err(e) => Verdict::Fail(e.clone()),
                Ok(r) if *ex == "hap_example" => {
                    let [parts, _] = hap_verdicts(r);
                    parts
                }
                Ok(r) => example_verdict(r, ex),
            };
            (name, v)
        })
        .collect();
    let dma = match &run {
        Err(e) => Verdict::Fail(e.clone()),
        Ok(r) => {
            let [_, dma] = hap_verdicts(r);
            dma
        }
    };
    v.push((format!("hap_example_dma_handle_on_{dsp}"), dma));
    v
}

/// A verdict as a KTAP case outcome (a skip counts as a failure here).
pub(crate) fn verdict_outcome(v: Verdict) -> crate::ktap::Outcome {
    match v {
        Verdict::Pass => Ok(()),
        Verdict::Fail(e) => Err(e),
        Verdict::Skip(why) => Err(format!("not run: {why}")),
    }
}

/// `fastrpc_test` running the examples in an unsigned PD of `domain`.
pub(crate) fn examples_cmd(domain: u32) -> Command {
    let mut cmd = Command::new(FASTRPC_TEST);
    accel_env(&mut cmd);
    let d = domain.to_string();
    // The library is preloaded so that it stays mapped while
    // `fastrpc_test` dlcloses one example and opens the next: its device
    // discovery starts an inotify thread (1 s poll) that nothing ever
    // stops (`fastrpc_discovery_deinit` has no caller), which otherwise
    // wakes up in the unloaded library and crashes the test (SIGSEGV).
    cmd.args(["-d", &d, "-U", "1", "-t", "linux", "-a", "v68"])
        .env("LD_PRELOAD", format!("{LINEBUF} {CDSPRPC}"));
    cmd
}

/// Whether the FastRPC library is in the initramfs.
pub(crate) fn present() -> bool {
    Path::new(FASTRPC_TEST).exists()
}

/// The verdict of example `ex` in a `fastrpc_test` run: its `[PASS]` line
/// and the values it computed.
pub(crate) fn example_verdict(r: &Run, ex: &str) -> Verdict {
    let Some((v, lines)) = example_output(r, ex) else {
        return Verdict::Fail(if r.timed_out {
            format!("fastrpc_test was killed before reporting lib{ex}.so")
        } else {
            format!("fastrpc_test (exit {:?}) did not report lib{ex}.so", r.code)
        });
    };
    let last = |n: usize| lines[lines.len().saturating_sub(n)..].join(" | ");
    match (v, check_example(ex, &lines)) {
        ("PASS", Ok(())) => Verdict::Pass,
        ("PASS", Err(e)) => Verdict::Fail(format!("[PASS] printed but {e}")),
        (v, _) => Verdict::Fail(format!(
            "[{v}] lib{ex}.so; last lines: {}{}",
            last(3),
            first_error(r)
        )),
    }
}

/// The first error the library logged during `r`, as a message suffix.
pub(crate) fn first_error(r: &Run) -> String {
    first_error_in(&r.syslog)
}

/// The first error in a library log, as a message suffix.
pub(crate) fn first_error_in(syslog: &[String]) -> String {
    syslog
        .iter()
        .find(|l| l.contains("Error") || l.contains("failed"))
        .map(|l| format!("\nfirst library error: {l}"))
        .unwrap_or_default()
}

/// A qda_libtest scenario: exit 0 and its PASS line.
fn libtest(case: &str, args: &[&str], log: &Syslog) -> (Verdict, Option<Run>) {
    let mut cmd = Command::new(LIBTEST);
    accel_env(&mut cmd).args(args);
    match run(case, cmd, Duration::from_secs(90), log) {
        Err(e) => (Verdict::Fail(e), None),
        Ok(r) => {
            let pass = format!("qda_libtest: PASS {}", args[0]);
            let v = if r.code == Some(0) && r.lines.contains(&pass) {
                Verdict::Pass
            } else {
                let fails: Vec<_> = r.lines.iter().filter(|l| l.contains("FAIL")).collect();
                Verdict::Fail(format!("exit {:?}; {fails:?}{}", r.code, first_error(&r)))
            };
            (v, Some(r))
        }
    }
}

/// The subsystem-restart case also needs the library's device monitor to
/// have seen the node go and come back.
fn ssr(log: &Syslog) -> Verdict {
    let (v, r) = libtest("subsystem_restart", &["ssr", CDSP_KNOB], log);
    let Some(r) = r else { return v };
    let seen = |mask: &str| {
        r.syslog
            .iter()
            .any(|l| l.contains("Device change detected: accel") && l.contains(mask))
    };
    match v {
        Verdict::Pass if !seen("(mask 0x200)") => {
            Verdict::Fail("the library did not log the node's removal (IN_DELETE)".into())
        }
        // The new node's IN_CREATE is not required: the library's monitor
        // thread reads its inotify queue once a second, and on a fast
        // kernel (the board boot) the program has opened the new node,
        // computed and exited before that thread's next read. The new
        // session's results (checked by qda_libtest) show the restart.
        v => v,
    }
}

/// Kernel objects the library's processes left behind (they have all
/// exited, so qda must have freed everything they used).
pub(crate) fn leaks(kmemleak: bool) -> Verdict {
    if !kmemleak {
        return Verdict::Skip("kmemleak is not running".into());
    }
    match crate::kmemleak::nothing_leaked() {
        Ok(()) => Verdict::Pass,
        Err(e) => Verdict::Fail(e),
    }
}

/// Runs the suite and prints it as KTAP.
pub fn run_suite() {
    let names = [
        "calculator_on_cdsp",
        "hap_example_on_cdsp",
        "multithreading_on_cdsp",
        "hap_example_dma_handle_on_cdsp",
        "calculator_on_adsp",
        "hap_example_on_adsp",
        "multithreading_on_adsp",
        "hap_example_dma_handle_on_adsp",
        "two_sessions_in_one_process",
        "subsystem_restart",
        "kmemleak_finds_no_leak",
    ];
    let cases: Vec<(String, Verdict)> = if !Path::new(FASTRPC_TEST).exists() {
        let why =
            "the FastRPC library is not in the initramfs (no tarball: set QDA_FASTRPC_TARBALL)";
        names
            .iter()
            .map(|n| (n.to_string(), Verdict::Skip(why.into())))
            .collect()
    } else {
        // Leaks found before this suite are the userspace suite's.
        let kmemleak = crate::kmemleak::enabled()
            && std::fs::write("/sys/kernel/debug/kmemleak", "clear").is_ok();
        let log = serve_syslog();
        let mut c = examples_on("cdsp", 3, &log);
        c.extend(examples_on("adsp", 0, &log));
        let (v, _) = libtest("two_sessions_in_one_process", &["multisession"], &log);
        c.push(("two_sessions_in_one_process".into(), v));
        c.push(("subsystem_restart".into(), ssr(&log)));
        c.push(("kmemleak_finds_no_leak".into(), leaks(kmemleak)));
        c
    };
    print!("{}", render("qda_library", &cases));
}

/// Suite `suite` as one KTAP document.
pub(crate) fn render(suite: &str, cases: &[(String, Verdict)]) -> String {
    let mut s = String::from("KTAP version 1\n1..1\n    KTAP version 1\n");
    s.push_str(&format!("    # Subtest: {suite}\n    1..{}\n", cases.len()));
    let mut ok_all = true;
    for (i, (n, v)) in cases.iter().enumerate() {
        let i = i + 1;
        match v {
            Verdict::Pass => s.push_str(&format!("    ok {i} {n}\n")),
            Verdict::Skip(why) => s.push_str(&format!("    ok {i} {n} # SKIP {why}\n")),
            Verdict::Fail(e) => {
                ok_all = false;
                for line in e.lines() {
                    s.push_str(&format!("    # {n}: {line}\n"));
                }
                s.push_str(&format!("    not ok {i} {n}\n"));
            }
        }
    }
    let top = if ok_all { "ok" } else { "not ok" };
    s.push_str(&format!("{top} 1 {suite}\n"));
    s
}
