// SPDX-License-Identifier: GPL-2.0

//! Names of the legacy nodes, exactly as `drivers/misc/fastrpc.c` names
//! them: `fastrpc-<label>` and `fastrpc-<label>-secure`. A misc device
//! keeps a pointer to its name, so each is a static string.

use core::ffi::CStr;

use crate::platform::domain::Domain;

/// The name of the legacy node of `domain`, the `-secure` one if `secure`.
pub(crate) fn node_name(domain: Domain, secure: bool) -> &'static CStr {
    let (plain, sec): (&'static CStr, &'static CStr) = match domain {
        Domain::Adsp => (c"fastrpc-adsp", c"fastrpc-adsp-secure"),
        Domain::Mdsp => (c"fastrpc-mdsp", c"fastrpc-mdsp-secure"),
        Domain::Sdsp => (c"fastrpc-sdsp", c"fastrpc-sdsp-secure"),
        Domain::Cdsp(0) => (c"fastrpc-cdsp", c"fastrpc-cdsp-secure"),
        Domain::Cdsp(1) => (c"fastrpc-cdsp1", c"fastrpc-cdsp1-secure"),
        Domain::Cdsp(2) => (c"fastrpc-cdsp2", c"fastrpc-cdsp2-secure"),
        Domain::Cdsp(_) => (c"fastrpc-cdsp3", c"fastrpc-cdsp3-secure"),
        Domain::Gdsp(0) => (c"fastrpc-gdsp0", c"fastrpc-gdsp0-secure"),
        Domain::Gdsp(_) => (c"fastrpc-gdsp1", c"fastrpc-gdsp1-secure"),
    };
    if secure {
        sec
    } else {
        plain
    }
}
