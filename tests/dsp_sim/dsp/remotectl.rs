// SPDX-License-Identifier: GPL-2.0

//! Remote control: `remotectl` on constant handle 0 (open 0, close 1,
//! grow_heap 2, set_param 3) and `remotectl1` on handle 8 (open1 2,
//! close1 3, grow_heap 4, set_param 5), marshalled as the library's stubs
//! (`src/remotectl_stub.c`, `src/remotectl1_stub.c`).
//!
//! Opening a module by URI:
//! - `file:///<file>?<symbol>&...`: a module linked into the image under
//!   that URI (file, symbol and `_modver` as `mod_table.c` of the library
//!   looks static modules up, [`Module::linked`]: the default listener) is
//!   bound at once; otherwise firmware's loader reads `<file>` from
//!   the apps side through the process's listener
//!   ([`crate::reverse::loader`]); the open is held until the load ends.
//!   A failed load answers 0 with a non-zero `dlErr` and a dlerror
//!   string, as firmware's `dlopen` path.
//! - a bare name (`calculator`, `null`, `copy`, optionally followed by
//!   `?...` or `&...`): a module built into the simulated DSP image, bound
//!   at once (no listener needed); any other bare name fails at once with
//!   a dlerror (the simulator's choice: the real library sends `file:///`
//!   URIs for generated stubs, bare names for the non-domain interfaces
//!   firmware links in, such as the daemons' `adsp_default_listener`).

use kernel::prelude::*;

use crate::{
    dsp::{
        call::Call,
        errors::{
            AEE_EINVHANDLE,
            AEE_ENOSUCHMOD,
            AEE_EUNSUPPORTED, //
        },
        reply::Reply,
        skel::{
            self,
            Answer,
            Refusal, //
        },
        state::{
            Open,
            State,
            EACCES_RV, //
        }, //
    },
    pd::{
        modules::{
            self,
            Module, //
        },
        process::{
            Effects,
            Finished, //
        }, //
    }, //
};

/// `set_param` request: thread parameters `{priority, stack size}`.
const THREAD_PARAMS: u32 = 1;
/// `set_param` request: adaptive QoS `{mode}`.
const ADAPTIVE_QOS: u32 = 2;

/// A remote-control method.
enum Method {
    Open,
    Close,
    GrowHeap,
    SetParam,
}

fn method(handle: u32, mid: u32) -> Option<Method> {
    let mid = if handle == 8 {
        mid.checked_sub(2)?
    } else {
        mid
    };
    match mid {
        0 => Some(Method::Open),
        1 => Some(Method::Close),
        2 => Some(Method::GrowHeap),
        3 => Some(Method::SetParam),
        _ => None,
    }
}

/// Handles a call on handle 0 or 8.
pub(crate) fn handle(
    st: &mut State,
    call: &Call,
    outs: &mut KVec<KVec<u8>>,
    fx: &mut Effects<'_>,
) -> Answer<Reply> {
    let m = method(call.handle, call.sc.method()).ok_or(Refusal::Code(AEE_EUNSUPPORTED))?;
    match m {
        Method::Open => open(st, call, outs, fx),
        Method::Close => close(st, call, outs).map(Reply::Now),
        Method::GrowHeap => {
            // The simulated user PD's heap does not grow.
            skel::shape(call, 1, 0)?;
            skel::prim_in(call, 8)?;
            Err(Refusal::Code(AEE_EUNSUPPORTED))
        }
        Method::SetParam => set_param(call).map(Reply::Now),
    }
}

/// `open(name, dlerror[dlerrorLen]) -> (handle, dlErr)`.
fn open(
    st: &mut State,
    call: &Call,
    outs: &mut KVec<KVec<u8>>,
    fx: &mut Effects<'_>,
) -> Answer<Reply> {
    skel::shape(call, 2, 2)?;
    let prim = skel::prim_in(call, 8)?;
    let (name_len, dlerr_len) = (skel::word(prim, 0)?, skel::word(prim, 1)?);
    skel::out_at_least(call, 0, 8)?;
    skel::out_at_least(call, 1, u64::from(dlerr_len))?;
    let name = skel::string(call, 1, name_len)?;
    if let Some(rest) = name.strip_prefix(b"file:///") {
        let (path, query) = split(rest, b'?');
        let (symbol, params) = split(query, b'&');
        if let Some(module) = Module::linked(path, symbol, modver(params)) {
            let handle = bind(st, call.client_id, module)?;
            outs.push(skel::words(&[handle, 0])?, GFP_KERNEL)?;
            return Ok(Reply::Now(0));
        }
        let Some(p) = st.process(call.client_id) else {
            return Ok(Reply::Now(EACCES_RV));
        };
        return Ok(match p.load(call, path, symbol, fx)? {
            Some(r) => Reply::Now(r),
            None => Reply::Held,
        });
    }
    let base = split(split(name, b'?').0, b'&').0;
    if let Some(module) = Module::by_name(base) {
        let handle = bind(st, call.client_id, module)?;
        outs.push(skel::words(&[handle, 0])?, GFP_KERNEL)?;
        return Ok(Reply::Now(0));
    }
    // Not in the image: firmware's dlopen error, at once.
    outs.push(skel::words(&[0, AEE_EINVHANDLE as u32])?, GFP_KERNEL)?;
    let text = b"no such module in the simulated DSP image\0";
    let cap = (dlerr_len as usize).min(text.len());
    let mut err = skel::out(&text[..cap])?;
    if let Some(last) = err.last_mut() {
        *last = 0;
    }
    outs.push(err, GFP_KERNEL)?;
    Ok(Reply::Now(0))
}

/// The `_modver` value among `&`-separated query parameters (empty if
/// there is none).
fn modver(mut params: &[u8]) -> &[u8] {
    while !params.is_empty() {
        let (param, rest) = split(params, b'&');
        let (name, value) = split(param, b'=');
        if name == b"_modver" {
            return value;
        }
        params = rest;
    }
    &[]
}

/// `s` up to the first `sep`, and what follows it.
fn split(s: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match s.iter().position(|&c| c == sep) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, &[]),
    }
}

/// Opens `module` for `client_id`: its new handle.
fn bind(st: &mut State, client_id: i32, module: Module) -> Result<u32> {
    let handle = modules::new_handle(|h| st.open.iter().any(|o| o.handle == h));
    st.open.push(
        Open {
            handle,
            client_id,
            module,
        },
        GFP_KERNEL,
    )?;
    Ok(handle)
}

/// Answers an open whose skel load ended.
pub(crate) fn finish_open(st: &mut State, f: Finished, fx: &mut Effects<'_>) -> Result {
    let dlerr_cap = f.open.out_lens.get(1).copied().unwrap_or(0) as usize;
    let (prim, text) = match f.result {
        Ok(module) => (
            skel::words(&[bind(st, f.client_id, module)?, 0])?,
            KVec::new(),
        ),
        Err(fail) => {
            let msg = fail.msg.as_ref().map_or(&b""[..], |m| m.to_bytes());
            let mut text = KVec::new();
            if dlerr_cap > 0 {
                text.extend_from_slice(&msg[..msg.len().min(dlerr_cap - 1)], GFP_KERNEL)?;
                text.push(0, GFP_KERNEL)?;
            }
            (skel::words(&[0, fail.code as u32])?, text)
        }
    };
    fx.done
        .push(f.open.complete(fx.smmu, 0, &[prim, text]), GFP_KERNEL)?;
    Ok(())
}

/// `close(handle, dlerror[dlerrorLen]) -> dlErr`.
fn close(st: &mut State, call: &Call, outs: &mut KVec<KVec<u8>>) -> Answer<i32> {
    skel::shape(call, 1, 2)?;
    let prim = skel::prim_in(call, 8)?;
    let (handle, dlerr_len) = (skel::word(prim, 0)?, skel::word(prim, 1)?);
    skel::out_at_least(call, 0, 4)?;
    skel::out_at_least(call, 1, u64::from(dlerr_len))?;
    let client = call.client_id;
    let before = st.open.len();
    st.open
        .retain(|o| !(o.handle == handle && o.client_id == client));
    if st.open.len() == before {
        return Err(Refusal::Code(AEE_ENOSUCHMOD));
    }
    outs.push(skel::words(&[0])?, GFP_KERNEL)?;
    Ok(0)
}

/// `set_param(reqID, params[paramsLen])`: thread parameters
/// `{priority, stack size}` or adaptive QoS `{0 off | 2 on}`.
fn set_param(call: &Call) -> Answer<i32> {
    skel::shape(call, 2, 0)?;
    let prim = skel::prim_in(call, 8)?;
    let (req, n) = (skel::word(prim, 0)?, skel::word(prim, 1)? as usize);
    let params = skel::input(call, 1, n.checked_mul(4).ok_or(skel::BADPARM)?)?;
    match (req, n) {
        (THREAD_PARAMS, 2) => Ok(0),
        (ADAPTIVE_QOS, 1) if matches!(skel::word(params, 0)?, 0 | 2) => Ok(0),
        (THREAD_PARAMS | ADAPTIVE_QOS, _) => Err(skel::BADPARM),
        _ => Err(Refusal::Code(AEE_EUNSUPPORTED)),
    }
}
