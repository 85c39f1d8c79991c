// SPDX-License-Identifier: GPL-2.0

//! Calls only the kernel makes (client id 0 on the wire): process control
//! on handle 1 (create/attach, release, map and unmap) and the capability
//! query on handle 2. Process release ends everything the process holds,
//! completing its held calls.
//!
//! Firmware checks each request's shape before acting on it, and answers a
//! malformed one with `AEE_EBADPARM`: the buffer counts of the method, the
//! exact size of the request structure and its page entries, lengths that
//! agree with the buffers they describe, and the PD type in `ctx` (root
//! for attach, user for create). Unknown methods answer
//! `AEE_EUNSUPPORTED`.

use kernel::prelude::*;

use crate::{
    dsp::{
        call::Call,
        errors::AEE_EUNSUPPORTED,
        skel::{
            out_at_least,
            shape,
            Answer,
            BADPARM, //
        },
        state::{
            Mapping,
            State,
            EACCES_RV, //
        }, //
    },
    layout,
    pd::process::{
        Effects,
        Pd,
        Process, //
    },
    proc_msgs::{
        method,
        CapsReq,
        ClientReq,
        CreateReq,
        CreateStaticReq,
        MapRsp,
        MemMapReq,
        MemUnmapReq,
        MmapReq,
        MunmapReq,
        PhyPage,
        CAPS_METHOD,
        INIT_HANDLE,
        UTILITIES_HANDLE, //
    },
    wire::{
        ROOT_PD,
        SENSORS_PD,
        USER_PD, //
    }, //
};

/// Return value of malformed or unmatched process-control calls.
const EINVAL_RV: i32 = -22;

/// The attributes the capability query reports (index 0 is the kernel's).
const ATTRIBUTES: [u32; 8] = [0, 1, 1, 0, 1, 2, 4, 1];

/// Handles `call` if it is on handle 1 or 2: `Some(return value)`.
pub(crate) fn handle(
    st: &mut State,
    call: &Call,
    outs: &mut KVec<KVec<u8>>,
    fx: &mut Effects<'_>,
) -> Answer<Option<i32>> {
    match call.handle {
        UTILITIES_HANDLE => capabilities(call, outs).map(Some),
        INIT_HANDLE if call.client_id != 0 => Ok(Some(EACCES_RV)),
        INIT_HANDLE => process_control(st, call, outs, fx).map(Some),
        _ => Ok(None),
    }
}

/// Capability query (method 0 only): in u32 count, out u32 attrs[count].
fn capabilities(call: &Call, outs: &mut KVec<KVec<u8>>) -> Answer<i32> {
    if call.sc.method() != CAPS_METHOD {
        return Ok(AEE_EUNSUPPORTED);
    }
    shape(call, 1, 1)?;
    exact(call, 0, CapsReq::SIZE)?;
    let req = arg(call, 0, CapsReq::decode)?;
    out_at_least(call, 0, u64::from(req.count) * 4)?;
    let mut out = KVec::new();
    for i in 1..=req.count as usize {
        let v = ATTRIBUTES.get(i).copied().unwrap_or(0);
        out.extend_from_slice(&v.to_le_bytes(), GFP_KERNEL)?;
    }
    outs.push(out, GFP_KERNEL)?;
    Ok(0)
}

/// Input buffer `i` of `call` decoded by `decode`; refused if missing or
/// short.
fn arg<T>(call: &Call, i: usize, decode: fn(&[u8]) -> Option<T>) -> Answer<T> {
    Ok(call.ins.get(i).and_then(|b| decode(b)).ok_or(EINVAL)?)
}

/// Checks input `i` of `call` is exactly `len` bytes long.
fn exact(call: &Call, i: usize, len: usize) -> Answer<()> {
    match call.ins.get(i) {
        Some(b) if b.len() == len => Ok(()),
        _ => Err(BADPARM),
    }
}

/// Checks the PD type in `call`'s `ctx` is `pd`.
fn pd_is(call: &Call, pd: u32) -> Answer<()> {
    if (call.ctx & 0xf) as u32 != pd {
        return Err(BADPARM);
    }
    Ok(())
}

/// Checks the shape of a process-control request: its buffer counts, the
/// size of its request structure (first input), page entries (second
/// input of the maps), the map answer's room and the PD type. `false` for
/// a method process control does not have.
fn check_request(call: &Call) -> Answer<bool> {
    // (inputs, outputs, request size, page entry input).
    let (ins, outs, req, page) = match call.sc.method() {
        method::ATTACH => {
            if pd_is(call, SENSORS_PD).is_err() {
                pd_is(call, ROOT_PD)?;
            }
            (1, 0, ClientReq::SIZE, false)
        }
        method::CREATE_STATIC => {
            pd_is(call, USER_PD)?;
            (3, 0, CreateStaticReq::SIZE, false)
        }
        method::RELEASE => (1, 0, ClientReq::SIZE, false),
        method::MMAP => (2, 1, MmapReq::SIZE, true),
        method::MUNMAP => (1, 0, MunmapReq::SIZE, false),
        method::CREATE | method::CREATE_ATTR => {
            pd_is(call, USER_PD)?;
            (4, 0, CreateReq::SIZE, false)
        }
        method::MEM_MAP => (3, 1, MemMapReq::SIZE, true),
        method::MEM_UNMAP => (1, 0, MemUnmapReq::SIZE, false),
        _ => return Ok(false),
    };
    shape(call, ins, outs)?;
    exact(call, 0, req)?;
    if page {
        exact(call, 1, PhyPage::SIZE)?;
        out_at_least(call, 0, MapRsp::SIZE as u64)?;
    }
    Ok(true)
}

/// CREATE: the lengths in the request match the name, shell and page
/// entry buffers (all read by now); every page of the init memory must be
/// reachable, first and last byte.
fn create(st: &mut State, call: &Call, fx: &mut Effects<'_>) -> Answer<i32> {
    let r = arg(call, 0, CreateReq::decode)?;
    let len = |i: usize| call.ins.get(i).map_or(0, |b| b.len());
    let pages_len = (r.pageslen as usize).checked_mul(PhyPage::SIZE);
    if len(1) != r.namelen as usize
        || len(2) != r.filelen as usize
        || r.pageslen == 0
        || pages_len != Some(len(3))
    {
        return Err(BADPARM);
    }
    for entry in call.ins[3].chunks_exact(PhyPage::SIZE) {
        let page = PhyPage::decode(entry).ok_or(BADPARM)?;
        let last = page.size.checked_sub(1).ok_or(BADPARM)?;
        let mut probe = [0u8; 1];
        fx.smmu.read(page.addr, &mut probe)?;
        fx.smmu
            .read(page.addr.checked_add(last).ok_or(BADPARM)?, &mut probe)?;
    }
    start_process(st, r.client_id, Pd::User, fx)
}

fn process_control(
    st: &mut State,
    call: &Call,
    outs: &mut KVec<KVec<u8>>,
    fx: &mut Effects<'_>,
) -> Answer<i32> {
    if !check_request(call)? {
        // Methods the process-control interface does not have.
        return Ok(AEE_EUNSUPPORTED);
    }
    Ok(match call.sc.method() {
        method::ATTACH => {
            let client = arg(call, 0, ClientReq::decode)?.client_id;
            let sensors = (call.ctx & 0xf) as u32 == SENSORS_PD;
            let pd = if sensors { Pd::Sensors } else { Pd::Root };
            let r = start_process(st, client, pd, fx)?;
            if sensors {
                st.sensors = Some(client);
            }
            r
        }
        method::CREATE_STATIC => create_static(st, call, fx)?,
        method::CREATE | method::CREATE_ATTR => create(st, call, fx)?,
        method::RELEASE => {
            let client = arg(call, 0, ClientReq::decode)?.client_id;
            st.remove_process(client, fx)?;
            0
        }
        method::MMAP | method::MEM_MAP => map(st, call, outs, fx)?,
        method::MUNMAP => {
            let r = arg(call, 0, MunmapReq::decode)?;
            unmap(st, r.client_id, -1, r.vaddr, r.size)
        }
        method::MEM_UNMAP => {
            let r = arg(call, 0, MemUnmapReq::decode)?;
            unmap(st, r.client_id, r.fd, r.vaddrin, r.len)
        }
        // Methods the process-control interface does not have.
        _ => AEE_EUNSUPPORTED,
    })
}

/// CREATE_STATIC: the audio PD (see [`crate::pd::audio_pd`]).
fn create_static(st: &mut State, call: &Call, fx: &mut Effects<'_>) -> Answer<i32> {
    match st.audio.create(fx.rproc, call) {
        Ok(client) => {
            start_process(st, client, Pd::Audio, fx)?;
            // `start_process` ended any earlier process of that client.
            st.audio.client = Some(client);
            Ok(0)
        }
        Err(code) => Ok(code),
    }
}

/// Starts a fresh process `client` in `pd` (ending any earlier one).
fn start_process(st: &mut State, client: i32, pd: Pd, fx: &mut Effects<'_>) -> Answer<i32> {
    st.remove_process(client, fx)?;
    st.procs.push(Process::new(client, pd), GFP_KERNEL)?;
    Ok(0)
}

/// MMAP and MEM_MAP: maps what the page entry (second buffer) names, for
/// a buffer handle (-1: heap pages); answers the DSP address.
fn map(
    st: &mut State,
    call: &Call,
    outs: &mut KVec<KVec<u8>>,
    fx: &mut Effects<'_>,
) -> Answer<i32> {
    // (client, num, fd, extra data given).
    let (client, num, fd, extra) = if call.sc.method() == method::MEM_MAP {
        let r = arg(call, 0, MemMapReq::decode)?;
        let data = call.ins.get(2).is_some_and(|b| !b.is_empty());
        (r.client_id, r.num, r.fd, r.data_len != 0 || data)
    } else {
        let r = arg(call, 0, MmapReq::decode)?;
        (r.client_id, r.num, -1, false)
    };
    if st.process(client).is_none() {
        return Ok(EACCES_RV);
    }
    let page = arg(call, 1, PhyPage::decode)?;
    // The DSP maps what the page entry names: it must be reachable through
    // the SMMU, first and last byte.
    let mut probe = [0u8; 1];
    fx.smmu.read(page.addr, &mut probe)?;
    fx.smmu.read(page.addr + page.size.max(1) - 1, &mut probe)?;
    // `num` is the size of the page entry in both requests; MEM_MAP
    // carries no extra data (`data_len` 0, an empty third buffer).
    if num != PhyPage::NUM || extra {
        return Ok(EINVAL_RV);
    }
    let vaddr = st.next_vaddr;
    st.next_vaddr += layout::align_up(page.size.max(1), 0x10_0000).ok_or(BADPARM)?;
    st.maps.push(
        Mapping {
            client_id: client,
            vaddr,
            size: page.size,
            fd,
            addr: page.addr,
        },
        GFP_KERNEL,
    )?;
    let mut out = KVec::new();
    out.extend_from_slice(&MapRsp { vaddr }.encode(), GFP_KERNEL)?;
    outs.push(out, GFP_KERNEL)?;
    Ok(0)
}

/// MUNMAP (`fd` -1) and MEM_UNMAP: the DSP address `vaddr`, `size` and
/// `fd` must match a mapping of `client`.
fn unmap(st: &mut State, client: i32, fd: i32, vaddr: u64, size: u64) -> i32 {
    let before = st.maps.len();
    st.maps
        .retain(|m| !(m.client_id == client && m.size == size && m.fd == fd && m.vaddr == vaddr));
    if st.maps.len() < before {
        0
    } else {
        EINVAL_RV
    }
}
