// SPDX-License-Identifier: GPL-2.0

//! The module implementations built into the simulated DSP, and the
//! handles open modules get.
//!
//! `calculator` follows the Hexagon SDK example as its prebuilt stub
//! (`test/linux/libcalculator.so` of the FastRPC library) calls it:
//! `sum` is method 2 with sc `0x02020100` (primIn `{vecLen}`, the vector,
//! primROut an `int64`), `max` method 3 with sc `0x03020100` (primROut an
//! `int32`). `multithreading` follows its prebuilt stub
//! (`test/linux/libmultithreading.so`): `parallel_sum` (method 2),
//! `barriers` (3) and `mutexes` (4) take no arguments (sc `mid << 24`) and
//! report only success (the real skel's results go to the DSP log), so the
//! simulator checks the marshalling and succeeds. `hap_example` likewise
//! follows `test/linux/libhap_example.so`: compute_res 2, compute_resv2 3,
//! mem_reserve_va 8, perf 10, power 11 and sysmon_cachelock 12 take no
//! arguments; farf_runtime 4 and mem_map_reserve_va 9 a 4-byte primIn;
//! mem_fastrpc_mmap 7 an 8-byte primIn; mem_dmahandle 5 and
//! mem_dmahandlev2 6 one input dma handle and nothing else. Their effects
//! (log levels, resource requests, DSP-side mappings) are not observable
//! through the interface, so only the marshalling is checked. `null` and
//! `copy` serve
//! the project's own tests.
//!
//! `adsp_default_listener` and `adsp_default_listener1` are the default
//! listener firmware links into its image, which the library's daemons
//! (`src/adsp_default_listener.c`) register with once their PD is there:
//! the non-domain interface by its bare name, register being method 0
//! (`src/adsp_default_listener_stub.c`), the domain one by its URI
//! (`adsp_default_listener1_URI` of `inc/adsp_default_listener1.h`),
//! register being method 2 after the handle interface's open and close
//! (`src/adsp_default_listener1_stub.c`). Register takes no argument
//! (sc `mid << 24`); the registration itself, the process's default
//! listener, is kept by the DSP state (`crate::dsp`).

use kernel::prelude::*;

use crate::dsp::{
    call::Call,
    errors::AEE_EUNSUPPORTED,
    skel::{
        self,
        Answer,
        Refusal, //
    }, //
};

/// A built-in module implementation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Module {
    Calculator,
    Null,
    Copy,
    Multithreading,
    HapExample,
    /// `adsp_default_listener` (non-domain: register is method 0).
    DefaultListener,
    /// `adsp_default_listener1` (domain: register is method 2).
    DefaultListener1,
}

/// A module linked into the firmware image, registered under its URI
/// `file:///<file>?<symbol>&_modver=<version>`.
struct Linked {
    file: &'static [u8],
    symbol: &'static [u8],
    version: &'static [u8],
    module: Module,
}

/// The linked modules. As the library's `mod_table.c` looks static
/// modules up, an open's URI is parsed into file, symbol and `_modver`
/// (other query parameters such as `_dom` are left out) and must name one
/// of these exactly; it is then bound without loading anything.
const LINKED: [Linked; 1] = [Linked {
    file: b"libadsp_default_listener1_skel.so",
    symbol: b"adsp_default_listener1_skel_handle_invoke",
    version: b"1.0",
    module: Module::DefaultListener1,
}];

impl Module {
    /// The implementation called `name` (the IDL interface name).
    pub(crate) fn by_name(name: &[u8]) -> Option<Self> {
        match name {
            b"calculator" => Some(Self::Calculator),
            b"null" => Some(Self::Null),
            b"copy" => Some(Self::Copy),
            b"multithreading" => Some(Self::Multithreading),
            b"hap_example" => Some(Self::HapExample),
            b"adsp_default_listener" => Some(Self::DefaultListener),
            b"adsp_default_listener1" => Some(Self::DefaultListener1),
            _ => None,
        }
    }

    /// The linked module registered under the URI of `file`, `symbol` and
    /// `version` (see [`LINKED`]).
    pub(crate) fn linked(file: &[u8], symbol: &[u8], version: &[u8]) -> Option<Self> {
        LINKED
            .iter()
            .find(|l| l.file == file && l.symbol == symbol && l.version == version)
            .map(|l| l.module)
    }

    /// The method number of `register` if this is a default listener.
    pub(crate) fn register_method(self) -> Option<u32> {
        match self {
            Self::DefaultListener => Some(0),
            Self::DefaultListener1 => Some(2),
            _ => None,
        }
    }

    /// Runs a method; its outputs go to `outs`.
    pub(crate) fn call(self, call: &Call, outs: &mut KVec<KVec<u8>>) -> Answer<i32> {
        match self {
            Self::Calculator => calculator(call, outs),
            Self::Null => Ok(0),
            Self::Copy => copy(call, outs),
            Self::Multithreading => multithreading(call),
            Self::HapExample => hap_example(call),
            Self::DefaultListener | Self::DefaultListener1 => default_listener(self, call),
        }
    }
}

/// Handles up to this are static handles (0..=20) or, for the library,
/// static-PD handles (0x100..=0x200, `IS_STATICPD_HANDLE` in
/// `inc/fastrpc_apps_user.h`).
const HIGHEST_STATIC_HANDLE: u32 = 0x200;

/// Whether `handle` can name an opened module (faults apply to these).
pub(crate) fn is_module_handle(handle: u32) -> bool {
    handle > HIGHEST_STATIC_HANDLE && handle != u32::MAX
}

/// A fresh module handle: a large random 32-bit value, as firmware hands
/// out (addresses of its module records), for which `taken` is false.
pub(crate) fn new_handle(taken: impl Fn(u32) -> bool) -> u32 {
    loop {
        // SAFETY: `get_random_u32` has no preconditions.
        let h = unsafe { kernel::bindings::get_random_u32() } & !0x7;
        if is_module_handle(h) && !taken(h) {
            return h;
        }
    }
}

/// The vector of `sum`/`max`: primIn `{vecLen}`, input 1 `vecLen` int32s.
fn vector(call: &Call) -> Answer<impl Iterator<Item = i32> + '_> {
    skel::shape(call, 2, 1)?;
    let n = skel::word(skel::prim_in(call, 4)?, 0)? as usize;
    let bytes = skel::input(call, 1, n.checked_mul(4).ok_or(skel::BADPARM)?)?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
}

fn calculator(call: &Call, outs: &mut KVec<KVec<u8>>) -> Answer<i32> {
    match call.sc.method() {
        2 => {
            skel::out_at_least(call, 0, 8)?;
            let sum: i64 = vector(call)?.map(i64::from).sum();
            outs.push(skel::out(&sum.to_le_bytes())?, GFP_KERNEL)?;
        }
        3 => {
            skel::out_at_least(call, 0, 4)?;
            let max = vector(call)?.max().unwrap_or(i32::MIN);
            outs.push(skel::out(&max.to_le_bytes())?, GFP_KERNEL)?;
        }
        _ => return Err(Refusal::Code(AEE_EUNSUPPORTED)),
    }
    Ok(0)
}

/// Sum of bytes, as the `copy` checksums compute it.
fn byte_sum(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |a, &x| a.wrapping_add(u32::from(x)))
}

fn copy(call: &Call, outs: &mut KVec<KVec<u8>>) -> Answer<i32> {
    let sc = call.sc;
    match (sc.method(), sc.inbufs(), sc.outbufs(), sc.in_handles()) {
        // copy: in0 -> out0.
        (2, 1, 1, 0) => outs.push(skel::out(&call.ins[0])?, GFP_KERNEL)?,
        // checksum: in0 -> out0 = u32 sum of bytes.
        (3, 1, 1, 0) => outs.push(skel::words(&[byte_sum(&call.ins[0])])?, GFP_KERNEL)?,
        // checksum of an input handle's bytes -> out0.
        (4, 0, 1, 1) => outs.push(skel::words(&[byte_sum(&call.ins[0])])?, GFP_KERNEL)?,
        (2..=4, _, _, _) => return Err(skel::BADPARM),
        _ => return Err(Refusal::Code(AEE_EUNSUPPORTED)),
    }
    Ok(0)
}

fn multithreading(call: &Call) -> Answer<i32> {
    if !(2..=4).contains(&call.sc.method()) {
        return Err(Refusal::Code(AEE_EUNSUPPORTED));
    }
    // No data crosses the interface: the example's DSP side only logs.
    skel::shape(call, 0, 0)?;
    Ok(0)
}

/// `register`: no argument; the only method served.
fn default_listener(module: Module, call: &Call) -> Answer<i32> {
    if Some(call.sc.method()) != module.register_method() {
        return Err(Refusal::Code(AEE_EUNSUPPORTED));
    }
    skel::shape(call, 0, 0)?;
    Ok(0)
}

fn hap_example(call: &Call) -> Answer<i32> {
    match call.sc.method() {
        2 | 3 | 8 | 10..=12 => skel::shape(call, 0, 0)?,
        4 | 9 => {
            skel::shape(call, 1, 0)?;
            skel::prim_in(call, 4)?;
        }
        7 => {
            skel::shape(call, 1, 0)?;
            skel::prim_in(call, 8)?;
        }
        5 | 6 => {
            let sc = call.sc;
            if sc.buffers() != 0 || sc.in_handles() != 1 || sc.out_handles() != 0 {
                return Err(skel::BADPARM);
            }
        }
        _ => return Err(Refusal::Code(AEE_EUNSUPPORTED)),
    }
    Ok(0)
}
