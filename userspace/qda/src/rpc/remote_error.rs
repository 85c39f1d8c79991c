//! Typed errors of remote methods.

use std::{fmt, io};

/// A remote method that ran and failed: its non-zero return value, or the
/// DSP loader's error.
///
/// Converts into an [`io::Error`] of kind [`io::ErrorKind::Other`] carrying
/// it; [`RemoteError::of`] gets it back:
///
/// ```no_run
/// let dsp = qda::Device::by_name("cdsp")?;
/// dsp.attach()?;
/// match dsp.open_module("no_such_module") {
///     Err(e) if qda::rpc::RemoteError::of(&e).is_some_and(|r| r.dl_error != 0) => {}
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteError {
    /// What was called ("open", "close", "sum", ...).
    pub method: &'static str,
    /// The remote method's return value (0 when only `dl_error` is set).
    pub retval: i32,
    /// The loader's error code (remote control's `dlErr`; 0: none).
    pub dl_error: u32,
    /// The loader's `dlerror()` text, if it gave one.
    pub dl_message: String,
}

impl RemoteError {
    /// A failed return value of `method`.
    pub fn new(method: &'static str, retval: i32) -> Self {
        Self {
            method,
            retval,
            dl_error: 0,
            dl_message: String::new(),
        }
    }

    /// The remote error `e` carries, if it is one.
    pub fn of(e: &io::Error) -> Option<&RemoteError> {
        e.get_ref()?.downcast_ref()
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: remote error {:#x}", self.method, self.retval)?;
        if self.dl_error != 0 {
            write!(f, ", load error {:#x}", self.dl_error)?;
        }
        if !self.dl_message.is_empty() {
            write!(f, ": {}", self.dl_message)?;
        }
        Ok(())
    }
}

impl std::error::Error for RemoteError {}

impl From<RemoteError> for io::Error {
    fn from(e: RemoteError) -> Self {
        io::Error::other(e)
    }
}

/// `Ok(())` for remote return value 0, else `method`'s [`RemoteError`].
pub(crate) fn remote_result(method: &'static str, retval: i32) -> io::Result<()> {
    match retval {
        0 => Ok(()),
        r => Err(RemoteError::new(method, r).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_error_survives_the_trip_through_io_error() {
        let e: io::Error = RemoteError {
            method: "open",
            retval: 0,
            dl_error: 0x80000406,
            dl_message: "no such file".into(),
        }
        .into();
        assert_eq!(e.kind(), io::ErrorKind::Other);
        let r = RemoteError::of(&e).expect("a RemoteError");
        assert_eq!((r.retval, r.dl_error), (0, 0x80000406));
        assert_eq!(
            e.to_string(),
            "open: remote error 0x0, load error 0x80000406: no such file"
        );
    }

    #[test]
    fn only_non_zero_return_values_fail() {
        assert!(remote_result("sum", 0).is_ok());
        let e = remote_result("sum", -3).unwrap_err();
        assert_eq!(RemoteError::of(&e), Some(&RemoteError::new("sum", -3)));
        assert_eq!(e.to_string(), "sum: remote error 0xfffffffd");
    }

    #[test]
    fn other_errors_are_not_remote() {
        let e = io::Error::from_raw_os_error(libc::EINVAL);
        assert!(RemoteError::of(&e).is_none());
        assert!(RemoteError::of(&io::Error::other("text")).is_none());
    }
}
