//! Result codes of the FastRPC world that the listener sends or receives.
//!
//! Apps-side codes (what a reverse call returns) have no offset; the DSP's
//! own codes carry [`DSP_OFFSET`]. Reverse calls may also return a plain
//! errno (the `apps_std` calls do).

/// Offset of the DSP's codes (`DSP_AEE_EOFFSET`).
pub const DSP_OFFSET: u32 = 0x8000_0400;

/// Process or thread not in the expected state.
pub const EBADSTATE: i32 = 0x0d;
/// Invalid parameter (also: arguments that don't match the method).
pub const EBADPARM: i32 = 0x0e;
/// Method not implemented.
pub const EUNSUPPORTED: i32 = 0x14;
/// Invalid handle (a failed module load reports it as `dlErr`).
pub const EINVHANDLE: i32 = 0x2c;
/// A waitable call was interrupted; the listener restarts its loop.
pub const EINTERRUPTED: i32 = 46;
/// No such module (reverse call on a handle that is not open).
pub const ENOSUCHMOD: i32 = 0x3e;
/// Bad buffer size.
pub const EBADSIZE: i32 = 0x4d;
/// Out of memory for the listener's buffers.
pub const ENORPCMEMORY: i32 = 0x68;
/// Error of the FastRPC implementation.
pub const ERPC: i32 = 0x200;

/// The DSP-side value of apps-side code `code`.
pub const fn dsp(code: i32) -> i32 {
    (DSP_OFFSET + code as u32) as i32
}

/// What the DSP answers a pending `next2` with once its process exits.
pub const DSP_EBADSTATE: i32 = dsp(EBADSTATE);
