//! Userspace access to qda, the Qualcomm Hexagon DSP DRM accel driver.
//!
//! ```no_run
//! for dev in qda::Device::all()? {
//!     println!("{}: {}", dev.path().display(), dev.query()?.name());
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The fastrpc.ko client the guest tests and `qdactl compare` use is the
//! `fastrpc-ko` crate of this workspace.

pub mod bo;
pub mod daemon;
pub mod heap;
pub mod ioctl;
pub mod listener;
pub mod rpc;
pub mod static_pd;
pub mod uapi;

pub use bo::{Bo, BoInfo, Mapping};
pub use listener::Listener;

use ioctl::{ioctl, ioctl_indirect};
use std::{
    fs::{File, OpenOptions},
    io,
    os::fd::{AsFd, BorrowedFd},
    path::{Path, PathBuf},
};

/// Where accel nodes live.
pub const ACCEL_DIR: &str = "/dev/accel";

/// An open qda accel node.
#[derive(Debug)]
pub struct Device {
    file: File,
    path: PathBuf,
}

/// The answer to `DRM_IOCTL_QDA_QUERY`.
#[derive(Clone, Debug)]
pub struct DspInfo {
    raw: uapi::Query,
}

impl DspInfo {
    /// The DSP's DT label ("adsp", "cdsp", ...).
    pub fn name(&self) -> &str {
        let n = self
            .raw
            .dsp_name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(uapi::DSP_NAME_LEN);
        std::str::from_utf8(&self.raw.dsp_name[..n]).unwrap_or("<invalid>")
    }
    /// Capability bits reported by the DSP.
    pub fn capabilities(&self) -> u32 {
        self.raw.capabilities
    }
    /// The raw 16-byte name field.
    pub fn raw_name(&self) -> [u8; uapi::DSP_NAME_LEN] {
        self.raw.dsp_name
    }
}

impl AsFd for Device {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl Device {
    /// Opens one accel node.
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        Ok(Self { file, path })
    }

    /// Paths of every `/dev/accel/accel*` node, sorted.
    pub fn paths() -> io::Result<Vec<PathBuf>> {
        let mut v = Vec::new();
        match std::fs::read_dir(ACCEL_DIR) {
            Ok(rd) => {
                for e in rd {
                    let e = e?;
                    if e.file_name().to_string_lossy().starts_with("accel") {
                        v.push(e.path());
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        v.sort();
        Ok(v)
    }

    /// Opens every accel node whose DRM driver is qda.
    pub fn all() -> io::Result<Vec<Self>> {
        let mut v = Vec::new();
        for p in Self::paths()? {
            let d = Self::open(&p)?;
            if d.driver_name()? == "qda" {
                v.push(d);
            }
        }
        Ok(v)
    }

    /// Opens the node of the DSP labelled `name`. Nodes are opened one at
    /// a time and closed unless they match (each open file holds a session
    /// of its DSP); a node that cannot be opened is skipped, and its error
    /// returned if no node matches.
    pub fn by_name(name: &str) -> io::Result<Self> {
        let mut last = None;
        for p in Self::paths()? {
            let d = match Self::open(&p) {
                Ok(d) => d,
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            };
            if d.driver_name()? == "qda" && d.query()?.name() == name {
                return Ok(d);
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no qda DSP named {name:?}"),
            )
        }))
    }

    /// The node's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The node's fd (for requests this crate has no method for).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// Which DSP this node drives (`DRM_IOCTL_QDA_QUERY`).
    pub fn query(&self) -> io::Result<DspInfo> {
        let mut raw = uapi::Query::default();
        ioctl(self.as_fd(), uapi::req::QUERY, &mut raw)?;
        Ok(DspInfo { raw })
    }

    /// The DRM driver name (`DRM_IOCTL_VERSION`).
    pub fn driver_name(&self) -> io::Result<String> {
        let mut name = [0u8; 64];
        let mut v = uapi::DrmVersion {
            version_major: 0,
            version_minor: 0,
            version_patchlevel: 0,
            name_len: name.len(),
            name: name.as_mut_ptr(),
            date_len: 0,
            date: std::ptr::null_mut(),
            desc_len: 0,
            desc: std::ptr::null_mut(),
        };
        // SAFETY: the kernel writes at most `name_len` bytes to `name`,
        // which is live and unaliased for the call; `date` and `desc` are
        // null with length 0.
        unsafe { ioctl_indirect(self.as_fd(), uapi::req::VERSION, &mut v)? };
        let n = v.name_len.min(name.len());
        Ok(String::from_utf8_lossy(&name[..n]).into_owned())
    }
}
