//! Static protection domains: the processes built into the DSP image that
//! a daemon creates or attaches to, then serves through its listener.
//!
//! The audio PD (`"audiopd"`, ADSP) is created with
//! `DRM_IOCTL_QDA_INIT_CREATE_STATIC`; its memory is the DSP's remote heap,
//! handed over by qda on the first create of a channel. The sensors PD is
//! attached to with `DRM_IOCTL_QDA_INIT_ATTACH_SNS`.
//!
//! ```no_run
//! let adsp = qda::Device::by_name("adsp")?;
//! adsp.create_static("audiopd")?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::{io, os::fd::AsFd};

use crate::{
    ioctl::{ioctl_indirect, ioctl_no_arg},
    uapi, Device,
};

/// The name of the ADSP's audio PD.
pub const AUDIO_PD: &str = "audiopd";

/// The heap size the FastRPC library asks for with the audio PD (3 MiB,
/// for dynamic loading); qda ignores it (the heap is the DT region).
pub const AUDIO_PD_MEMLEN: u32 = 3 << 20;

impl Device {
    /// Creates static process `name` on this file, as the FastRPC library
    /// does: the name with its terminating NUL, and [`AUDIO_PD_MEMLEN`].
    pub fn create_static(&self, name: &str) -> io::Result<()> {
        let mut z = name.as_bytes().to_vec();
        z.push(0);
        let len = u32::try_from(z.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        self.create_static_raw(&z, len, AUDIO_PD_MEMLEN)
    }

    /// `DRM_IOCTL_QDA_INIT_CREATE_STATIC` with `namelen` as given (for
    /// tests of the kernel's checks): `namelen` may claim fewer bytes than
    /// `name` holds, never more.
    pub fn create_static_raw(&self, name: &[u8], namelen: u32, memlen: u32) -> io::Result<()> {
        if namelen as usize > name.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("namelen {namelen} > {} bytes given", name.len()),
            ));
        }
        let mut a = uapi::InitCreateStatic {
            namelen,
            memlen,
            name: name.as_ptr() as u64,
        };
        // SAFETY: the kernel reads at most `namelen` bytes at `a.name`,
        // which are inside `name`, borrowed until we return.
        unsafe { ioctl_indirect(self.as_fd(), uapi::req::INIT_CREATE_STATIC, &mut a)? };
        Ok(())
    }

    /// Attaches this file's process to the sensors PD
    /// (`DRM_IOCTL_QDA_INIT_ATTACH_SNS`).
    pub fn attach_sensors(&self) -> io::Result<()> {
        ioctl_no_arg(self.as_fd(), uapi::req::INIT_ATTACH_SNS)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Device` on `/dev/null`: every qda request fails with ENOTTY.
    fn null() -> Device {
        Device::open("/dev/null").unwrap()
    }

    #[test]
    fn the_requests_reach_the_kernel() {
        let d = null();
        for r in [
            d.create_static(AUDIO_PD),
            d.attach_sensors(),
            d.create_static_raw(b"x", 1, 0),
        ] {
            assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::ENOTTY));
        }
    }

    #[test]
    fn a_namelen_past_the_name_is_refused_here() {
        let e = null().create_static_raw(b"audiopd", 8, 0).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}
