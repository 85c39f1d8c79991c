// SPDX-License-Identifier: GPL-2.0

//! Reverse calls: the DSP asking the apps side, through the process's
//! listener ([`listener`], its packed buffers [`listener_buf`]), to load a
//! module's skel ([`loader`]), read a file ([`file_read`]) or give and
//! take memory ([`mem_request`]).

pub(crate) mod file_read;
pub(crate) mod listener;
pub(crate) mod listener_buf;
pub(crate) mod loader;
pub(crate) mod mem_request;
