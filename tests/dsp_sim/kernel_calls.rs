// SPDX-License-Identifier: GPL-2.0

//! Calls only the kernel makes (client id 0 on the wire): process control
//! on handle 1 (create/attach, release, map and unmap) and the capability
//! query on handle 2. Process release ends everything the process holds,
//! completing its held calls.

use kernel::prelude::*;

use crate::{
    call::Call,
    dsp::{
        Mapping,
        State,
        EACCES_RV, //
    },
    errors::AEE_EUNSUPPORTED,
    layout,
    process::{
        Effects,
        Process, //
    },
    skel::Answer,
};

/// Return value of malformed or unmatched process-control calls.
const EINVAL_RV: i32 = -22;

/// The attributes the capability query reports (index 0 is the kernel's).
const ATTRIBUTES: [u32; 8] = [0, 1, 1, 0, 1, 2, 4, 1];

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

/// Handles `call` if it is on handle 1 or 2: `Some(return value)`.
pub(crate) fn handle(
    st: &mut State,
    call: &Call,
    outs: &mut KVec<KVec<u8>>,
    fx: &mut Effects<'_>,
) -> Answer<Option<i32>> {
    match call.handle {
        2 => capabilities(call, outs).map(Some),
        1 if call.client_id != 0 => Ok(Some(EACCES_RV)),
        1 => process_control(st, call, outs, fx).map(Some),
        _ => Ok(None),
    }
}

/// Capability query: in u32 count, out u32 attrs[count].
fn capabilities(call: &Call, outs: &mut KVec<KVec<u8>>) -> Answer<i32> {
    let n = call.ins.first().and_then(|b| u32_at(b, 0)).ok_or(EINVAL)? as usize;
    let mut out = KVec::new();
    for i in 1..=n {
        let v = ATTRIBUTES.get(i).copied().unwrap_or(0);
        out.extend_from_slice(&v.to_le_bytes(), GFP_KERNEL)?;
    }
    outs.push(out, GFP_KERNEL)?;
    Ok(0)
}

fn process_control(
    st: &mut State,
    call: &Call,
    outs: &mut KVec<KVec<u8>>,
    fx: &mut Effects<'_>,
) -> Answer<i32> {
    // Methods the process-control interface does not have.
    if !matches!(call.sc.method(), 0 | 1 | 4..=7 | 10 | 11) {
        return Ok(AEE_EUNSUPPORTED);
    }
    let ins = &call.ins;
    let client = ins.first().and_then(|b| u32_at(b, 0)).ok_or(EINVAL)? as i32;
    Ok(match call.sc.method() {
        0 | 6 | 7 => {
            if call.sc.method() != 0 {
                // The shell and the init memory must be readable.
                let pages = ins.get(3).ok_or(EINVAL)?;
                let init = layout::get_u64(pages, 0);
                let mut probe = [0u8; 1];
                fx.smmu.read(init, &mut probe)?;
            }
            st.remove_process(client, fx)?;
            st.procs.push(Process::new(client), GFP_KERNEL)?;
            0
        }
        1 => {
            st.remove_process(client, fx)?;
            0
        }
        4 | 10 => map(st, call, client, outs, fx)?,
        5 | 11 => unmap(st, call, client)?,
        _ => EINVAL_RV,
    })
}

/// MMAP {client, flags, vaddr, num} + page -> vaddr; MEM_MAP {client, fd,
/// offset, flags, vaddrin, num, data_len} + page + empty -> vaddr. The
/// size mapped is the page entry's.
fn map(
    st: &mut State,
    call: &Call,
    client: i32,
    outs: &mut KVec<KVec<u8>>,
    fx: &mut Effects<'_>,
) -> Answer<i32> {
    if st.process(client).is_none() {
        return Ok(EACCES_RV);
    }
    let page = call.ins.get(1).ok_or(EINVAL)?;
    let (addr, size) = (layout::get_u64(page, 0), layout::get_u64(page, 8));
    // The DSP maps what the page entry names: it must be reachable through
    // the SMMU, first and last byte.
    let mut probe = [0u8; 1];
    fx.smmu.read(addr, &mut probe)?;
    fx.smmu.read(addr + size.max(1) - 1, &mut probe)?;
    let req = &call.ins[0];
    // `num` is the size of the page entry (16) in both requests; MEM_MAP
    // carries no extra data (`data_len` 0, an empty third buffer).
    let num_at = if call.sc.method() == 10 { 24 } else { 16 };
    if u32_at(req, num_at) != Some(16) {
        return Ok(EINVAL_RV);
    }
    let fd = if call.sc.method() == 10 {
        if u32_at(req, 28) != Some(0) || call.ins.get(2).is_some_and(|b| !b.is_empty()) {
            return Ok(EINVAL_RV);
        }
        u32_at(req, 4).ok_or(EINVAL)? as i32
    } else {
        -1
    };
    let vaddr = st.next_vaddr;
    st.next_vaddr += layout::align_up(size.max(1), 0x10_0000);
    st.maps.push(
        Mapping {
            client_id: client,
            vaddr,
            size,
            fd,
        },
        GFP_KERNEL,
    )?;
    let mut out = KVec::new();
    out.extend_from_slice(&vaddr.to_le_bytes(), GFP_KERNEL)?;
    outs.push(out, GFP_KERNEL)?;
    Ok(0)
}

/// MUNMAP {client, pad, vaddr, size}; MEM_UNMAP {client, fd, vaddrin,
/// len}, `vaddrin` being the DSP address: must match a mapping.
fn unmap(st: &mut State, call: &Call, client: i32) -> Answer<i32> {
    let req = call.ins.first().ok_or(EINVAL)?;
    let (a, b) = (layout::get_u64(req, 8), layout::get_u64(req, 16));
    let fd = u32_at(req, 4).ok_or(EINVAL)? as i32;
    let legacy = call.sc.method() == 5;
    let before = st.maps.len();
    st.maps.retain(|m| {
        !(m.client_id == client
            && m.size == b
            && if legacy {
                m.fd == -1 && m.vaddr == a
            } else {
                m.fd == fd && m.vaddr == a
            })
    });
    Ok(if st.maps.len() < before { 0 } else { EINVAL_RV })
}
