//! A static PD daemon (`/bin/qdactl daemon <pd> <dsp>`) run as a child
//! process by the tests: started, waited for until it says it is up,
//! killed with SIGKILL (on drop too).

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    thread,
    time::Duration,
};

/// A running `qdactl daemon`.
pub struct DaemonProc {
    child: Child,
    what: String,
    dsp: String,
}

impl DaemonProc {
    /// Starts the daemon of `pd` on `dsp` and waits (up to 10 s) for its
    /// `qdactl: <pd> up on <dsp>` line. Its later lines, and its
    /// standard error, are shown as KTAP comments.
    pub fn spawn(pd: &str, dsp: &str) -> Result<Self, String> {
        let what = format!("qdactl daemon {pd} {dsp}");
        let mut child = Command::new("/bin/qdactl")
            .args(["daemon", pd, dsp])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{what}: {e}"))?;
        let out = child.stdout.take().ok_or("no stdout pipe")?;
        if let Some(err) = child.stderr.take() {
            thread::spawn(move || {
                for l in BufReader::new(err).lines().map_while(Result::ok) {
                    println!("# {l}");
                }
            });
        }
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            let _ = tx.send(lines.next());
            for l in lines.map_while(Result::ok) {
                println!("# {l}");
            }
        });
        let mut d = Self {
            child,
            what,
            dsp: dsp.to_string(),
        };
        let want = format!("qdactl: {pd} up on {dsp}");
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Some(Ok(line))) if line == want => Ok(d),
            other => {
                let status = d.stop();
                Err(format!(
                    "{}: not up ({other:?}), ended with {status:?}",
                    d.what
                ))
            }
        }
    }

    /// The exit status if the daemon has ended by itself.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL (if still running), then reaps it and waits until its
    /// session is free (its file is released just after it dies).
    fn stop(&mut self) -> Option<ExitStatus> {
        let _ = self.child.kill();
        let status = self.child.wait().ok();
        let pid = self.child.id() as i32;
        crate::faults::eventually(|| {
            crate::sessions::slots(&self.dsp).is_ok_and(|s| s.iter().all(|s| s.owner != pid))
        });
        status
    }

    /// Kills the daemon (SIGKILL) and reaps it.
    pub fn kill(mut self) -> Result<(), String> {
        self.stop()
            .map(|_| ())
            .ok_or_else(|| format!("{}: could not reap", self.what))
    }
}

impl Drop for DaemonProc {
    fn drop(&mut self) {
        self.stop();
    }
}
