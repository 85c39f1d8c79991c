// SPDX-License-Identifier: GPL-2.0

//! Error codes the simulated firmware answers with.
//!
//! Firmware reports its own failures as AEE codes in the DSP's error space:
//! the apps-side code plus `DSP_AEE_EOFFSET` (0x80000400, `inc/AEEStdErr.h`
//! of the FastRPC library). Reverse calls answered by the apps side carry
//! apps-side codes (no offset). Kernel-level process control keeps negative
//! errnos, as the upstream driver expects from the root PD.

/// Offset of the DSP's AEE error space.
const DSP_AEE_EOFFSET: u32 = 0x8000_0400;

/// An AEE code as the DSP reports it (the wire carries it as an `i32`).
const fn dsp(code: u32) -> i32 {
    (DSP_AEE_EOFFSET + code) as i32
}

/// The process is not in the expected state (exiting): the listener's stop code.
pub(crate) const AEE_EBADSTATE: i32 = dsp(0x0D);
/// Malformed arguments (what a QAIC skel's argument checks raise).
pub(crate) const AEE_EBADPARM: i32 = dsp(0x0E);
/// Unknown method of a known interface (a QAIC skel's default case).
pub(crate) const AEE_EUNSUPPORTED: i32 = dsp(0x14);
/// A handle that names nothing open.
pub(crate) const AEE_EINVHANDLE: i32 = dsp(0x2C);
/// No such module.
pub(crate) const AEE_ENOSUCHMOD: i32 = dsp(0x3E);
/// The skel does not export the requested entry point.
pub(crate) const AEE_ENOSUCHSYMBOL: i32 = dsp(0x42);
