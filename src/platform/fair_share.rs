// SPDX-License-Identifier: GPL-2.0

//! How much of a channel's shared resources one user may take, so that
//! no unprivileged user can deny them to another (see
//! `Documentation/accel/qda/limits.rst`).
//!
//! A channel has a fixed number of session slots (`qcom,nsessions` per
//! context bank) and of client ids (one per open file). An unprivileged
//! user (by effective uid) may hold at most [`user_share`] of either; a
//! privileged file (a daemon, see [`crate::dsp::access`]) is not limited, so
//! daemons can always start while a slot is free.
//!
//! Pure code, also built and tested on the host.

/// The most of `total` units one unprivileged user may hold: half,
/// rounded down, but at least one.
pub(crate) const fn user_share(total: usize) -> usize {
    if total < 2 {
        total
    } else {
        total / 2
    }
}

/// Whether a user who holds `held` of `total` units may take one more
/// (`privileged`: no share applies; a free unit is still needed).
pub(crate) const fn may_take(privileged: bool, held: usize, total: usize) -> bool {
    privileged || held < user_share(total)
}
