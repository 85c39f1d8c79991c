//! Daemons of static PDs, as the FastRPC library's `adsprpcd audiopd`
//! and sensors daemon run them: open the DSP's node, create the audio PD
//! or attach to the sensors PD, then serve the PD's reverse calls
//! (`apps_std`, and `apps_mem` granting buffers of the daemon's file)
//! until the PD or the DSP goes away.
//!
//! ```no_run
//! use qda::daemon::{Daemon, StaticPd};
//! let d = Daemon::start(StaticPd::Audio, "adsp")?;
//! let report = d.serve(Some(d.gem_memory()?))?;
//! println!("{:?}", report.end);
//! # Ok::<(), std::io::Error>(())
//! ```

use std::{ffi::OsString, io, str::FromStr, sync::Arc};

use crate::{
    listener::{GemMemory, Memory, Report, Serving},
    static_pd::AUDIO_PD,
    Device,
};

/// The library path served to the PD when `ADSP_LIBRARY_PATH` is unset.
pub const DEFAULT_LIBRARY_PATH: &str = "/usr/lib/dsp";

/// Which static PD a daemon serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaticPd {
    /// The audio PD (`"audiopd"`), created with INIT_CREATE_STATIC.
    Audio,
    /// The sensors PD, attached to with INIT_ATTACH_SNS.
    Sensors,
}

impl StaticPd {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Audio => AUDIO_PD,
            Self::Sensors => "sensors",
        }
    }
}

impl FromStr for StaticPd {
    type Err = io::Error;

    fn from_str(s: &str) -> io::Result<Self> {
        match s {
            "audiopd" => Ok(Self::Audio),
            "sensors" | "sensorspd" => Ok(Self::Sensors),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown static PD {s:?} (audiopd or sensors)"),
            )),
        }
    }
}

/// A file of a DSP with a static PD created or attached on it.
#[derive(Debug)]
pub struct Daemon {
    dev: Device,
    pd: StaticPd,
}

impl Daemon {
    /// Opens DSP `dsp` and creates (audio) or attaches to (sensors) `pd`.
    pub fn start(pd: StaticPd, dsp: &str) -> io::Result<Self> {
        Self::start_on(Device::by_name(dsp)?, pd)
    }

    /// Creates or attaches to `pd` on the open file `dev`.
    pub fn start_on(dev: Device, pd: StaticPd) -> io::Result<Self> {
        match pd {
            StaticPd::Audio => dev.create_static(AUDIO_PD)?,
            StaticPd::Sensors => dev.attach_sensors()?,
        }
        Ok(Self { dev, pd })
    }

    /// The file the PD runs on.
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// The PD served.
    pub fn pd(&self) -> StaticPd {
        self.pd
    }

    /// Memory for `apps_mem`: buffers of this file's default memory.
    pub fn gem_memory(&self) -> io::Result<Box<dyn Memory>> {
        let dev = Arc::new(self.dev.try_clone()?);
        Ok(Box::new(GemMemory::new(dev, 0)))
    }

    /// Registers the PD's listener with the DSP (with `mem` behind
    /// `apps_mem`); the PD's reverse calls reach the daemon from then on.
    pub fn listen(&self, mem: Option<Box<dyn Memory>>) -> io::Result<Serving<'_>> {
        let path = std::env::var_os("ADSP_LIBRARY_PATH")
            .unwrap_or_else(|| OsString::from(DEFAULT_LIBRARY_PATH));
        self.dev.listen(path, mem)
    }

    /// Serves the PD's reverse calls on this thread until the PD or the
    /// DSP goes away.
    pub fn serve(&self, mem: Option<Box<dyn Memory>>) -> io::Result<Report> {
        Ok(self.listen(mem)?.run())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pd_names() {
        for pd in [StaticPd::Audio, StaticPd::Sensors] {
            assert_eq!(pd.name().parse::<StaticPd>().unwrap(), pd);
        }
        assert_eq!("audiopd".parse::<StaticPd>().unwrap(), StaticPd::Audio);
        let e = "rootpd".parse::<StaticPd>().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_failed_create_is_reported() {
        let dev = Device::open("/dev/null").unwrap();
        let e = Daemon::start_on(dev, StaticPd::Sensors).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOTTY));
    }
}
