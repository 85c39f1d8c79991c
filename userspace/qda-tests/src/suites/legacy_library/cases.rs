//! The `qda_legacy_library` KTAP suite: Qualcomm's FastRPC library built a
//! second time with its legacy backend (configured without
//! `--enable-accel-driver`), which speaks the UAPI of
//! `include/uapi/misc/fastrpc.h` on `/dev/fastrpc-<dsp>[-secure]`.
//!
//! `scripts/guest-library.sh` installs that build under [`PREFIX`]. Its
//! libraries have the sonames of the accel build's (in `/usr/lib`), so its
//! programs run with `LD_LIBRARY_PATH` on the legacy tree, and
//! `fastrpc_test`, whose example directories are compiled in
//! (`/usr/lib/fastrpc_test`, `/usr/share/fastrpc_test`: the accel build's
//! copies of the same prebuilt files), also preloads the legacy
//! `libcdsprpc.so.1` so that the examples' stubs bind to it.
//!
//! Cases: the calculator example of `fastrpc_test` on cdsp and adsp (its
//! sum and maximum checked), and two per daemon the library builds: it
//! attaches (the simulated DSP shows the attach in the PD's context, or
//! the audio PD, and the daemon still runs afterwards; then it is killed)
//! and it registers its default listener (`src/adsp_default_listener.c`:
//! `adsp_default_listener` register, or `adsp_default_listener1` register
//! on the domain path of `adsprpcd sensorspd adsp`): the simulator's
//! `listeners-<dsp>` shows the daemon's PD with its default listener
//! registered (the register call answered 0) and its listener's `next2`
//! held, and the daemon's log shows no restart. While registered, the
//! audio PD daemon serves the audio PD's heap requests (`alloc` beyond the
//! remote heap: an `apps_mem` map, `free`: its unmap) and the sensors
//! daemon a file read through `apps_std` (length and hash checked). A
//! case whose node is missing is a skip, so the suite passes or skips on a
//! kernel without the nodes. `qdactl compare` boots with the library
//! (`QDA_GUEST_LIBRARY=1`) run it against fastrpc.ko's `/dev/fastrpc-cdsp`.

use std::{
    io::Read,
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc::{self, Receiver},
    time::Duration,
};

use crate::fixtures::{
    ktap::{check, Outcome},
    library::{self, example_verdict, Syslog, Verdict},
    sensors_pd, sessions, sim_static, static_pd,
    wait::eventually,
};

/// Where the legacy build's install tree is.
pub const PREFIX: &str = "/opt/fastrpc-legacy";
const FASTRPC_TEST: &str = "/opt/fastrpc-legacy/usr/bin/fastrpc_test";
const BIN: &str = "/opt/fastrpc-legacy/usr/bin";
/// The legacy libraries first, then the examples' stubs, then glibc.
const LIBS: &str = "/opt/fastrpc-legacy/usr/lib:/opt/fastrpc-legacy/usr/lib/fastrpc_test:/lib";
/// The library the examples' stubs link (preloaded: see the module doc).
pub(crate) const CDSPRPC: &str = "/opt/fastrpc-legacy/usr/lib/libcdsprpc.so.1";
/// Makes the runner's stdout line-buffered (output survives a kill).
const LINEBUF: &str = "/usr/libexec/qda/linebuf.so";
/// The DSP library path (`;`-separated): the v68 skels, then the stand-in
/// shells. The shell itself is read from the compiled-in `/usr/lib/dsp`.
const DSP_PATH: &str =
    "/opt/fastrpc-legacy/usr/share/fastrpc_test/v68;/opt/fastrpc-legacy/usr/lib/dsp";
/// Printed by the accel backend's device discovery, never by the legacy one.
const ACCEL_MARK: &str = "via discovery";

/// The nodes the legacy backend opens for `dsp`, in its order: the secure
/// node first, then the plain one (`open_device_node`).
fn nodes(dsp: &str) -> [String; 2] {
    [
        format!("/dev/fastrpc-{dsp}-secure"),
        format!("/dev/fastrpc-{dsp}"),
    ]
}

/// `Some(why)` when no node of `dsp` exists. (The library would then fall
/// back to its build's default node, e.g. libcdsprpc to `/dev/fastrpc-cdsp`
/// for adsp: the case must not run.)
fn missing_node(dsp: &str) -> Option<String> {
    let [secure, plain] = nodes(dsp);
    (!Path::new(&secure).exists() && !Path::new(&plain).exists())
        .then(|| format!("neither {plain} nor {secure} exists (no legacy node for {dsp})"))
}

/// The legacy build's environment.
pub(crate) fn legacy_env(cmd: &mut Command) -> &mut Command {
    cmd.env("LD_LIBRARY_PATH", LIBS)
        .env("DSP_LIBRARY_PATH", DSP_PATH)
        .env("ADSP_LIBRARY_PATH", DSP_PATH)
}

/// The legacy `fastrpc_test` on `dsp`: the calculator's verdict.
pub fn calculator_on(dsp: &str, domain: u32, log: &Syslog) -> Verdict {
    if let Some(why) = missing_node(dsp) {
        return Verdict::Skip(why);
    }
    let case = format!("legacy_fastrpc_test_{dsp}");
    let mut cmd = Command::new(FASTRPC_TEST);
    let d = domain.to_string();
    legacy_env(&mut cmd)
        .args(["-d", &d, "-U", "1", "-t", "linux", "-a", "v68"])
        .env("LD_PRELOAD", format!("{LINEBUF} {CDSPRPC}"));
    match library::run(&case, cmd, Duration::from_secs(150), log) {
        Err(e) => Verdict::Fail(e),
        Ok(r) if r.syslog.iter().any(|l| l.contains(ACCEL_MARK)) => Verdict::Fail(
            "the accel backend ran (device discovery logged), not the legacy one".into(),
        ),
        Ok(r) => example_verdict(&r, "calculator"),
    }
}

/// What shows that a daemon's PD is there on the simulated DSP.
#[derive(Clone, Copy)]
enum Evidence {
    /// An INIT_ATTACH (handle 1, method 0, one input) in the PD's context
    /// (`pd<n>` in the channel's trace): 0 root PD, 2 sensors PD.
    Attach(u32),
    /// The audio PD process exists, and one more CREATE_STATIC succeeded.
    AudioPd,
}

/// A check run while a daemon serves its PD, given the DSP.
type Work = fn(&'static str) -> Outcome;

/// One daemon case.
pub struct DaemonCase {
    pub name: &'static str,
    /// The case of its listener's registration.
    pub listener: &'static str,
    bin: &'static str,
    args: &'static [&'static str],
    dsp: &'static str,
    evidence: Evidence,
    /// The PD its process runs in, as `listeners-<dsp>` names it.
    pd: &'static str,
    /// Work done with the simulated DSP once the listener is registered:
    /// the case's name and its check.
    pub work: Option<(&'static str, Work)>,
}

/// The daemons the library builds (`src/Makefile.am`, `files/*.service`),
/// as its service files and its help text start them.
pub const DAEMONS: [DaemonCase; 5] = [
    DaemonCase {
        name: "cdsprpcd_attaches_root_pd",
        listener: "cdsprpcd_registers_its_listener",
        bin: "cdsprpcd",
        args: &[],
        dsp: "cdsp",
        evidence: Evidence::Attach(0),
        pd: "rootpd",
        work: None,
    },
    DaemonCase {
        name: "adsprpcd_attaches_root_pd",
        listener: "adsprpcd_registers_its_listener",
        bin: "adsprpcd",
        args: &[],
        dsp: "adsp",
        evidence: Evidence::Attach(0),
        pd: "rootpd",
        work: None,
    },
    DaemonCase {
        name: "adsprpcd_audiopd_creates_audio_pd",
        listener: "adsprpcd_audiopd_registers_its_listener",
        bin: "adsprpcd",
        args: &["audiopd"],
        dsp: "adsp",
        evidence: Evidence::AudioPd,
        pd: "audiopd",
        work: Some((
            "adsprpcd_audiopd_serves_heap_requests",
            serves_heap_requests,
        )),
    },
    DaemonCase {
        name: "adsprpcd_sensorspd_attaches_sensors_pd",
        listener: "adsprpcd_sensorspd_registers_its_listener",
        bin: "adsprpcd",
        args: &["sensorspd", "adsp"],
        dsp: "adsp",
        evidence: Evidence::Attach(2),
        pd: "sensorspd",
        work: Some(("sensors_daemon_serves_a_file_read", serves_a_file_read)),
    },
    DaemonCase {
        name: "sdsprpcd_attaches_root_pd",
        listener: "sdsprpcd_registers_its_listener",
        bin: "sdsprpcd",
        args: &[],
        dsp: "sdsp",
        evidence: Evidence::Attach(0),
        pd: "rootpd",
        work: None,
    },
];

/// A daemon started for a case: its output collected (and echoed) as it
/// comes; killed with SIGKILL on drop.
struct Daemon {
    case: String,
    child: Child,
    rx: Receiver<String>,
    lines: Vec<String>,
    dsp: &'static str,
}

impl Daemon {
    fn spawn(case: &str, d: &DaemonCase, log: &Syslog) -> Result<Self, String> {
        log.lock().unwrap().clear();
        let mut cmd = Command::new(format!("{BIN}/{}", d.bin));
        legacy_env(&mut cmd)
            .args(d.args)
            .env("LD_PRELOAD", LINEBUF)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        println!("qda-lib[{case}]: $ {cmd:?}");
        let mut child = cmd.spawn().map_err(|e| format!("spawning {cmd:?}: {e}"))?;
        let (tx, rx) = mpsc::channel();
        forward_pipe(child.stdout.take(), "", &tx);
        forward_pipe(child.stderr.take(), "stderr: ", &tx);
        Ok(Self {
            case: case.to_string(),
            child,
            rx,
            lines: Vec::new(),
            dsp: d.dsp,
        })
    }

    /// Takes (and echoes) what the daemon printed so far.
    fn drain(&mut self) {
        while let Ok(l) = self.rx.try_recv() {
            println!("qda-lib[{}]: {l}", self.case);
            self.lines.push(l);
        }
    }

    /// Whether it still runs.
    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, reap, then wait until qda shows none of its sessions (where
    /// qda's debugfs has the DSP; on fastrpc.ko there is nothing to wait for).
    fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let status = self.child.wait();
        let pid = self.child.id() as i32;
        eventually(|| sessions::slots(self.dsp).map_or(true, |s| s.iter().all(|s| s.owner != pid)));
        self.drain();
        format!("{status:?}")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

fn forward_pipe(
    r: Option<impl Read + Send + 'static>,
    tag: &'static str,
    tx: &mpsc::Sender<String>,
) {
    if let Some(r) = r {
        library::forward(r, tag, tx.clone());
    }
}

/// Attaches in PD `pd` in `dsp`'s channel trace.
fn attaches(dsp: &str, pd: u32) -> usize {
    sim_static::trace(dsp)
        .map(|t| {
            sim_static::init_requests(&t, qda::rpc::scalars(0, 1, 0))
                .iter()
                .filter(|a| a.0 == pd)
                .count()
        })
        .unwrap_or(0)
}

/// Lines of the library's log showing the daemon's listener start failed:
/// `dsprpcd.c` then restarts it every 100 ms, or exits when the node is
/// not accessible.
fn restart_lines(syslog: &[String]) -> Vec<&String> {
    syslog
        .iter()
        .filter(|l| l.contains("will restart") || l.contains("daemon exiting"))
        .collect()
}

/// Whether `dsp` shows a process in `pd` whose default listener is
/// registered (register answered 0) and whose listener waits in `next2`.
fn registered(dsp: &str, pd: &str) -> bool {
    sim_static::listeners(dsp)
        .is_ok_and(|v| v.iter().any(|l| l.pd == pd && l.registered && l.next2))
}

/// What one daemon run found.
struct DaemonRun {
    syslog: Vec<String>,
    /// The default listener's registration: `Ok`, or what was seen.
    listener: Result<(), String>,
    /// The outcome of the case's work, if it ran.
    work: Option<Outcome>,
}

/// Runs one daemon: the verdicts of its attach, of its default
/// listener's registration and of its work, by case name.
pub fn daemon_case(d: &DaemonCase, log: &Syslog) -> Vec<(String, Verdict)> {
    let mut names = vec![d.name, d.listener];
    names.extend(d.work.map(|w| w.0));
    let verdicts: Vec<Verdict> = if let Some(why) = missing_node(d.dsp) {
        names.iter().map(|_| Verdict::Skip(why.clone())).collect()
    } else {
        match daemon_run(d, log) {
            Err(e) => std::iter::once(Verdict::Fail(e))
                .chain(
                    names[1..]
                        .iter()
                        .map(|_| Verdict::Fail("not reached: the daemon did not attach".into())),
                )
                .collect(),
            Ok(run) => {
                let mut v = vec![Verdict::Pass, listener_verdict(&run.syslog, &run.listener)];
                if d.work.is_some() {
                    v.push(match run.work {
                        Some(Ok(())) => Verdict::Pass,
                        Some(Err(e)) => Verdict::Fail(e),
                        None => Verdict::Fail(
                            "not reached: the daemon did not register its listener".into(),
                        ),
                    });
                }
                v
            }
        }
    };
    names.into_iter().map(String::from).zip(verdicts).collect()
}

/// After its attach, the daemon opens `adsp_default_listener` (or
/// `adsp_default_listener1`) on the DSP and registers with it, then waits
/// on its event fd; when that fails, `dsprpcd.c` logs a restart and starts
/// over after 100 ms.
fn listener_verdict(syslog: &[String], registered: &Result<(), String>) -> Verdict {
    let restarts = restart_lines(syslog);
    let restarted = restarts.first().map(|first| {
        format!(
            "the daemon restarts ({} restart lines; first: {first})",
            restarts.len()
        )
    });
    match (registered, restarted) {
        (Ok(()), None) => Verdict::Pass,
        (Ok(()), Some(r)) => Verdict::Fail(format!("registered, but {r}")),
        (Err(e), r) => Verdict::Fail(format!(
            "{e}{}{}",
            r.map(|r| format!("; {r}")).unwrap_or_default(),
            library::first_error_in(syslog)
        )),
    }
}

/// Starts the daemon, waits for its PD on the DSP, then for its default
/// listener's registration, runs the case's work, checks the daemon still
/// runs, kills it; what the run found.
fn daemon_run(d: &DaemonCase, log: &Syslog) -> Result<DaemonRun, String> {
    let case = d.name;
    let before = match d.evidence {
        Evidence::Attach(_) => {
            sim_static::clear_trace(d.dsp)?;
            0
        }
        Evidence::AudioPd => sim_static::audio(d.dsp)?.creates,
    };
    // A registration seen must be this daemon's: an earlier process in
    // the PD is gone by now (its daemon was released).
    if !eventually(|| !registered(d.dsp, d.pd)) {
        return Err(format!(
            "a {} process with a registered listener before the daemon started: {:?}",
            d.pd,
            sim_static::listeners(d.dsp)
        ));
    }
    let mut daemon = Daemon::spawn(case, d, log)?;
    // The event: the DSP sees the daemon's PD.
    let seen = eventually(|| {
        daemon.drain();
        match d.evidence {
            Evidence::Attach(pd) => attaches(d.dsp, pd) > 0,
            Evidence::AudioPd => sim_static::audio(d.dsp).is_ok_and(|a| a.up && a.creates > before),
        }
    });
    // Then the daemon registers its default listener; a restart or its
    // end shows it failed.
    let mut listener = Err("not reached".to_string());
    let mut work = None;
    if seen {
        let ended_early = eventually(|| {
            daemon.drain();
            registered(d.dsp, d.pd)
                || !daemon.running()
                || !restart_lines(&log.lock().unwrap()).is_empty()
        });
        listener = if registered(d.dsp, d.pd) {
            Ok(())
        } else {
            Err(format!(
                "no {} process with its default listener registered and next2 held \
                 in listeners-{} {}: {:?} (daemon running: {})",
                d.pd,
                d.dsp,
                if ended_early {
                    "before a restart or the daemon's end"
                } else {
                    "within 10 s"
                },
                sim_static::listeners(d.dsp),
                daemon.running()
            ))
        };
        if let (Ok(()), Some((name, f))) = (&listener, d.work) {
            println!("qda-lib[{case}]: {name}");
            work = Some(f(d.dsp));
            daemon.drain();
        }
    }
    let alive = daemon.running();
    let status = daemon.stop();
    let syslog = log.lock().unwrap().clone();
    library::echo_syslog(case, &syslog);
    println!("qda-lib[{case}]: stopped: {status}");
    let first_error = library::first_error_in(&syslog);
    if !seen {
        let what = match d.evidence {
            Evidence::Attach(pd) => format!("no attach in pd{pd} in trace-{}", d.dsp),
            Evidence::AudioPd => format!("no new audio PD in audiopd-{}", d.dsp),
        };
        return Err(format!(
            "{what} within 10 s (daemon running: {alive}){first_error}"
        ));
    }
    if !alive {
        return Err(format!(
            "the daemon ended after its attach ({status}){first_error}"
        ));
    }
    if let Evidence::Attach(2) = d.evidence {
        // The sensors PD goes with its daemon.
        let gone = eventually(|| sim_static::sensors(d.dsp).is_ok_and(|s| !s.up));
        if !gone {
            return Err(format!(
                "the sensors PD outlived its daemon ({:?})",
                sim_static::sensors(d.dsp)
            ));
        }
    }
    Ok(DaemonRun {
        syslog,
        listener,
        work,
    })
}

/// While `adsprpcd audiopd` serves the audio PD: the remote heap filled,
/// then one more allocation, which the audio PD asks the daemon for
/// through `apps_mem` (`request_map64`: the daemon allocates a buffer and
/// maps it into the PD; the simulator finds the mapping among the PD's,
/// writes and reads a pattern through it in the daemon's SMMU context and
/// counts the grant), then `free`, which gives the grant back
/// (`request_unmap64`: the daemon unmaps and frees it), twice. Reuses the
/// `qda_static_pd` helpers (`static_pd`).
fn serves_heap_requests(dsp: &'static str) -> Outcome {
    use static_pd::{alloc_ok, free_all, heap, PAGE};
    check!(
        dsp == static_pd::DSP,
        "the audio PD is on {}",
        static_pd::DSP
    );
    let (_, size) = heap()?;
    free_all()?;
    alloc_ok(size)?;
    let a = sim_static::audio(dsp)?;
    check!(
        a.used == size && a.grants == 0,
        "the whole heap in one allocation: {a:?}"
    );
    // Twice: the grant given back by `free` is asked for again.
    for round in 1..=2 {
        let grant = 16 * PAGE;
        sim_static::clear_trace(dsp)?;
        alloc_ok(grant)?;
        let b = sim_static::audio(dsp)?;
        check!(
            b.used == size && b.grants == 1,
            "round {round}: {grant} bytes beyond the heap: {b:?} (before {a:?})"
        );
        // The daemon had the kernel add the pages (MMAP, handle 1 method 4,
        // `ADSP_MMAP_ADD_PAGES`) for the audio PD.
        let maps = sim_static::init_requests(&sim_static::trace(dsp)?, qda::rpc::scalars(4, 2, 1));
        check!(
            maps.len() == 1 && maps[0].1.contains("flags=1000"),
            "round {round}: MMAP requests {maps:?}, want one with flags 0x1000"
        );
        // Checks the grant went back (`request_unmap64` answered 0): no
        // grant and nothing used left, and the pages were unmapped.
        free_all()?;
        let unmaps =
            sim_static::init_requests(&sim_static::trace(dsp)?, qda::rpc::scalars(5, 1, 0));
        let size_field = format!("size={grant:x}");
        check!(
            unmaps.len() == 1 && unmaps[0].1.contains(&size_field),
            "round {round}: MUNMAP requests {unmaps:?}, want one with {size_field}"
        );
        alloc_ok(size)?;
    }
    free_all()?;
    Ok(())
}

/// While the sensors daemon serves the sensors PD: the PD reads a file
/// through `apps_std` on the daemon's listener (length and hash checked,
/// as `qda_static_pd` checks it with qda's own daemon), and a missing
/// file's read fails.
fn serves_a_file_read(dsp: &'static str) -> Outcome {
    let path = "/tmp/qda-legacy-sensors.cfg";
    // 40 000 bytes: more than one fread chunk.
    let data: Vec<u8> = (0..40_000u32).map(|i| (i * 13 + i / 509) as u8).collect();
    std::fs::write(path, &data).map_err(|e| format!("{path}: {e}"))?;
    let r = sensors_pd::read_is_checked(dsp, path, &data);
    let _ = std::fs::remove_file(path);
    r?;
    sensors_pd::missing_read_fails(dsp)
}

/// Whether the legacy build is in the initramfs.
pub fn present() -> bool {
    Path::new(FASTRPC_TEST).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_tried_secure_first() {
        assert_eq!(
            nodes("cdsp"),
            [
                "/dev/fastrpc-cdsp-secure".to_string(),
                "/dev/fastrpc-cdsp".to_string()
            ]
        );
        assert!(missing_node("no-such-dsp").is_some_and(|w| w.contains("/dev/fastrpc-no-such-dsp")));
    }

    #[test]
    fn restarts_are_found_in_the_log() {
        let log = [
            "adsprpcd: CDSP daemon starting".to_string(),
            "adsprpcd: CDSP daemon will restart after 100ms...".to_string(),
        ];
        assert_eq!(restart_lines(&log).len(), 1);
        assert!(restart_lines(&log[..1]).is_empty());
        assert!(matches!(
            listener_verdict(&log[..1], &Ok(())),
            Verdict::Pass
        ));
        assert!(matches!(listener_verdict(&log, &Ok(())), Verdict::Fail(_)));
        let none = Err("no registration".to_string());
        assert!(matches!(
            listener_verdict(&log[..1], &none),
            Verdict::Fail(_)
        ));
        assert!(matches!(listener_verdict(&log, &none), Verdict::Fail(_)));
    }

    #[test]
    fn every_daemon_case_is_named_once() {
        let mut names: Vec<&str> = DAEMONS
            .iter()
            .flat_map(|d| [Some(d.name), Some(d.listener), d.work.map(|w| w.0)])
            .flatten()
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        assert!(names.contains(&"adsprpcd_audiopd_serves_heap_requests"));
        assert!(names.contains(&"sensors_daemon_serves_a_file_read"));
    }
}
