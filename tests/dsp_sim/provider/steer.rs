// SPDX-License-Identifier: GPL-2.0

//! Which driver a channel's rpmsg device is bound to: comparison runs bind
//! each channel to a named driver (the `upstream_cdsp`, `upstream_mask`
//! and `pin_drivers` module parameters); otherwise the first driver that
//! matches takes it, as on a board.

use kernel::prelude::*;

/// The driver channel `index` (DT label `label`) is bound to: comparison
/// runs bind each channel to a named driver, whichever was loaded first
/// (`upstream_cdsp`: cdsp to fastrpc.ko; `upstream_mask`: channel `i` for
/// bit `i`; the others to qda; `pin`: every channel to qda unless
/// steered); otherwise the first driver that matches.
pub(crate) fn steer(
    upstream_cdsp: bool,
    mask: u32,
    pin: bool,
    index: u32,
    label: &[u8],
) -> Option<&'static CStr> {
    if !upstream_cdsp && mask == 0 && !pin {
        return None;
    }
    let by_mask = 1u32.checked_shl(index).is_some_and(|bit| mask & bit != 0);
    if by_mask || (upstream_cdsp && label == b"cdsp") {
        Some(c"qcom,fastrpc")
    } else {
        Some(c"qda")
    }
}

/// The driver channel `index` (DT label `label`) is bound to, as the
/// module parameters ask.
pub(crate) fn by_parameters(index: u32, label: &[u8]) -> Option<&'static CStr> {
    steer(
        crate::module_parameters::upstream_cdsp.value(),
        crate::module_parameters::upstream_mask.value(),
        crate::module_parameters::pin_drivers.value(),
        index,
        label,
    )
}
