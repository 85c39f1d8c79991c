// SPDX-License-Identifier: GPL-2.0

//! The protection domains of the simulated DSP: the processes the driver
//! creates or attaches ([`process`]) and their own interface
//! ([`current_process`]), the audio PD ([`audio_pd`]), the debugfs
//! control of the static PDs ([`static_pds`]) and the modules a process
//! opens ([`modules`]).

pub(crate) mod audio_pd;
pub(crate) mod current_process;
pub(crate) mod modules;
pub(crate) mod process;
pub(crate) mod static_pds;
