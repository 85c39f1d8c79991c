// SPDX-License-Identifier: GPL-2.0

//! Fault injection: the faults a test can arm on a channel ([`fault`]),
//! how an armed fault changes the answer to a call ([`inject`]), and the
//! debugfs files that arm them and show what a channel received
//! ([`debugfs`]).

pub(crate) mod debugfs;
pub(crate) mod fault;
pub(crate) mod inject;
