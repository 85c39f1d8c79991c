//! `qdactl daemon audiopd|sensors [DSP]`: the daemon of a static PD, as
//! the FastRPC library's `adsprpcd audiopd` and sensors daemon.
//!
//! Creates the audio PD (or attaches to the sensors PD) on DSP (default
//! `adsp`), prints `qdactl: <pd> up on <dsp>` once its listener is
//! registered with the DSP, then serves
//! the PD's reverse calls until killed or until the PD or the DSP goes
//! away; it then says why and exits with failure unless the PD exited.

use std::io::{self, Write};

use qda::{
    daemon::{Daemon, StaticPd},
    listener::End,
};

/// Runs the daemon of `pd` on `dsp`.
pub fn run(pd: &str, dsp: &str) -> io::Result<()> {
    let pd: StaticPd = pd.parse()?;
    let d = Daemon::start(pd, dsp)
        .map_err(|e| io::Error::new(e.kind(), format!("{} on {dsp}: {e}", pd.name())))?;
    let serving = d.listen(Some(d.gem_memory()?))?;
    println!("qdactl: {} up on {dsp}", pd.name());
    io::stdout().flush()?;
    let r = serving.run();
    println!(
        "qdactl: {} on {dsp} ended: {:?} ({} calls served, {} grants left)",
        pd.name(),
        r.end,
        r.served,
        r.grants
    );
    io::stdout().flush()?;
    match r.end {
        End::ProcessExited => Ok(()),
        End::Os(e) => Err(e),
        End::Remote(code) => Err(io::Error::other(format!("DSP code {code:#x}"))),
    }
}
