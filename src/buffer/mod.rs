// SPDX-License-Identifier: GPL-2.0

//! Buffers the DSP is given: qda buffer objects ([`bo`]) and the buffers a
//! reference names, resolved for one context bank ([`reference`]).

pub(crate) mod bo;
pub(crate) mod reference;
