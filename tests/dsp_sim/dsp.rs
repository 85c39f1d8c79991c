// SPDX-License-Identifier: GPL-2.0

//! The simulated DSP's side of FastRPC: process control on handle 1, the
//! remote-control interface on handle 0 (modules opened by URI), and the
//! built-in modules `calculator`, `null` and `copy`.
//!
//! Every argument is read and written through the SMMU ([`Smmu`]) at the
//! addresses the metadata gives, checked against its page entry, exactly
//! as firmware would.

use kernel::{
    new_mutex,
    prelude::*,
    sync::Mutex, //
};

use crate::{
    layout,
    scalars::Scalars,
    smmu::Smmu,
    wire::Msg, //
};

/// Return values (negative errnos come back to the caller as errnos).
const EFAULT_RV: i32 = -14;
const EINVAL_RV: i32 = -22;
const EACCES_RV: i32 = -13;
const ENOENT_RV: i32 = -2;

/// The built-in modules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Module {
    Calculator,
    Null,
    Copy,
}

/// An attached or created process.
struct Proc {
    client_id: i32,
}

/// An open module handle.
struct Open {
    handle: u32,
    client_id: i32,
    module: Module,
}

/// A mapping made on the DSP.
struct Mapping {
    client_id: i32,
    vaddr: u64,
    size: u64,
    /// `fd` of an attribute mapping, -1 for a legacy one.
    fd: i32,
    vaddrin: u64,
}

struct State {
    procs: KVec<Proc>,
    open: KVec<Open>,
    maps: KVec<Mapping>,
    next_handle: u32,
    next_vaddr: u64,
}

/// The attributes the capability query reports (index 0 is the kernel's).
const ATTRIBUTES: [u32; 8] = [0, 1, 1, 0, 1, 2, 4, 1];

/// One simulated DSP.
#[pin_data]
pub(crate) struct Dsp {
    smmu: Smmu,
    #[pin]
    state: Mutex<State>,
}

/// First dynamic handle (1..=20 are static).
const FIRST_DYNAMIC_HANDLE: u32 = 0x100;

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

impl Dsp {
    /// A DSP reaching memory through `smmu`.
    pub(crate) fn new(smmu: Smmu) -> impl PinInit<Self> {
        pin_init!(Self {
            smmu,
            state <- new_mutex!(State {
                procs: KVec::new(),
                open: KVec::new(),
                maps: KVec::new(),
                next_handle: FIRST_DYNAMIC_HANDLE,
                next_vaddr: 0x4000_0000,
            }),
        })
    }

    /// Handles one request; returns the reply's return value.
    pub(crate) fn handle(&self, msg: &Msg) -> i32 {
        match self.try_handle(msg) {
            Ok(r) => r,
            Err(e) if e == EFAULT => {
                pr_warn!(
                    "SMMU fault handling handle {} sc {:#x} (payload {:#x})\n",
                    msg.handle,
                    msg.sc,
                    msg.addr
                );
                EFAULT_RV
            }
            Err(e) => e.to_errno(),
        }
    }

    /// Overwrites the metadata of `msg`'s payload (remote arguments, page
    /// table, fd and CRC lists) with `0xff` bytes, as broken firmware
    /// might after running a method. The driver must not trust any of it.
    pub(crate) fn scribble(&self, msg: &Msg) {
        let n = Scalars(msg.sc).len();
        if n == 0 {
            return;
        }
        let Ok(junk) = KVec::from_elem(0xffu8, layout::metalen(n), GFP_KERNEL) else {
            return;
        };
        if self.smmu.write(msg.addr, &junk).is_err() {
            pr_warn!("scribble: payload {:#x} not writable\n", msg.addr);
        }
    }

    fn try_handle(&self, msg: &Msg) -> Result<i32> {
        let sc = Scalars(msg.sc);
        let n = sc.len();
        let mut meta = KVec::from_elem(0u8, layout::metalen(n), GFP_KERNEL)?;
        if n > 0 {
            self.smmu.read(msg.addr, &mut meta)?;
        }
        // Inputs, each read where its metadata says, within its page entry.
        let mut ins: KVec<KVec<u8>> = KVec::new();
        for i in 0..sc.inbufs() {
            let (pv, len, page, psize) = layout::read_buf(&meta, n, i);
            let addr = layout::dsp_data_addr(pv, page);
            if addr.checked_add(len).is_none_or(|e| e > page + psize) || len > (64 << 20) {
                return Err(EFAULT);
            }
            let mut b = KVec::from_elem(0u8, len as usize, GFP_KERNEL)?;
            self.smmu.read(addr, &mut b)?;
            ins.push(b, GFP_KERNEL)?;
        }
        // Input handles: `{fd, offset, len}` within their page entry.
        for i in sc.buffers()..sc.buffers() + sc.in_handles() {
            let offset = u64::from(u32_at(&meta, layout::rpra_off(n, i) + 4).ok_or(EINVAL)?);
            let len = u64::from(u32_at(&meta, layout::rpra_off(n, i) + 8).ok_or(EINVAL)?);
            let (addr, size) = (
                layout::get_u64(&meta, layout::page_off(n, i)),
                layout::get_u64(&meta, layout::page_off(n, i) + 8),
            );
            if offset + len > size {
                return Err(EFAULT);
            }
            let mut b = KVec::from_elem(0u8, len as usize, GFP_KERNEL)?;
            self.smmu.read(addr + offset, &mut b)?;
            ins.push(b, GFP_KERNEL)?;
        }
        let mut outs: KVec<KVec<u8>> = KVec::new();
        let r = self.dispatch(msg, sc, &ins, &mut outs)?;
        for (k, i) in (sc.inbufs()..sc.buffers()).enumerate() {
            let (pv, len, page, psize) = layout::read_buf(&meta, n, i);
            let addr = layout::dsp_data_addr(pv, page);
            if addr.checked_add(len).is_none_or(|e| e > page + psize) {
                return Err(EFAULT);
            }
            if let Some(data) = outs.get(k) {
                let m = data.len().min(len as usize);
                self.smmu.write(addr, &data[..m])?;
            }
        }
        Ok(r)
    }

    fn dispatch(
        &self,
        msg: &Msg,
        sc: Scalars,
        ins: &[KVec<u8>],
        outs: &mut KVec<KVec<u8>>,
    ) -> Result<i32> {
        let mut st = self.state.lock();
        if msg.handle == 2 {
            // Capability query: in u32 count, out u32 attrs[count].
            let n = ins.first().and_then(|b| u32_at(b, 0)).ok_or(EINVAL)? as usize;
            let mut out = KVec::new();
            for i in 1..=n {
                let v = ATTRIBUTES.get(i).copied().unwrap_or(0);
                out.extend_from_slice(&v.to_le_bytes(), GFP_KERNEL)?;
            }
            outs.push(out, GFP_KERNEL)?;
            return Ok(0);
        }
        if msg.handle == 1 {
            // Process control: kernel calls only (client id 0 on the wire).
            if msg.client_id != 0 {
                return Ok(EACCES_RV);
            }
            let client = ins.first().and_then(|b| u32_at(b, 0)).ok_or(EINVAL)? as i32;
            return Ok(match sc.method() {
                0 | 6 | 7 => {
                    if sc.method() != 0 {
                        // The shell and the init memory must be readable.
                        let pages = ins.get(3).ok_or(EINVAL)?;
                        let init = layout::get_u64(pages, 0);
                        let mut probe = [0u8; 1];
                        self.smmu.read(init, &mut probe)?;
                    }
                    st.procs.retain(|p| p.client_id != client);
                    st.procs.push(Proc { client_id: client }, GFP_KERNEL)?;
                    0
                }
                1 => {
                    st.procs.retain(|p| p.client_id != client);
                    st.open.retain(|o| o.client_id != client);
                    st.maps.retain(|m| m.client_id != client);
                    0
                }
                // MMAP {client, flags, vaddr, num} + page -> vaddr;
                // MEM_MAP {client, fd, offset, flags, vaddrin, num, len} +
                // page + empty -> vaddr.
                4 | 10 => {
                    if !st.procs.iter().any(|p| p.client_id == client) {
                        return Ok(EACCES_RV);
                    }
                    let page = ins.get(1).ok_or(EINVAL)?;
                    let (addr, size) = (layout::get_u64(page, 0), layout::get_u64(page, 8));
                    // The DSP maps what the page entry names: it must be
                    // reachable through the SMMU, first and last byte.
                    let mut probe = [0u8; 1];
                    self.smmu.read(addr, &mut probe)?;
                    self.smmu.read(addr + size.max(1) - 1, &mut probe)?;
                    let req = &ins[0];
                    let (fd, vaddrin, size) = if sc.method() == 10 {
                        let len = u64::from(u32_at(req, 28).ok_or(EINVAL)?);
                        (
                            u32_at(req, 4).ok_or(EINVAL)? as i32,
                            layout::get_u64(req, 16),
                            len,
                        )
                    } else {
                        (-1, 0, size)
                    };
                    let vaddr = st.next_vaddr;
                    st.next_vaddr += layout::align_up(size.max(1), 0x10_0000);
                    st.maps.push(
                        Mapping {
                            client_id: client,
                            vaddr,
                            size,
                            fd,
                            vaddrin,
                        },
                        GFP_KERNEL,
                    )?;
                    let mut out = KVec::new();
                    out.extend_from_slice(&vaddr.to_le_bytes(), GFP_KERNEL)?;
                    outs.push(out, GFP_KERNEL)?;
                    0
                }
                // MUNMAP {client, pad, vaddr, size}; MEM_UNMAP {client, fd,
                // vaddrin, len}: must match a mapping.
                5 | 11 => {
                    let req = &ins[0];
                    let (a, b) = (layout::get_u64(req, 8), layout::get_u64(req, 16));
                    let fd = u32_at(req, 4).ok_or(EINVAL)? as i32;
                    let before = st.maps.len();
                    st.maps.retain(|m| {
                        !(m.client_id == client
                            && m.size == b
                            && if sc.method() == 5 {
                                m.fd == -1 && m.vaddr == a
                            } else {
                                m.fd == fd && m.vaddrin == a
                            })
                    });
                    if st.maps.len() < before {
                        0
                    } else {
                        EINVAL_RV
                    }
                }
                _ => EINVAL_RV,
            });
        }
        if !st.procs.iter().any(|p| p.client_id == msg.client_id) {
            return Ok(EACCES_RV);
        }
        if msg.handle == 0 {
            return self.remotectl(&mut st, msg.client_id, sc, ins, outs);
        }
        let Some(module) = st
            .open
            .iter()
            .find(|o| o.handle == msg.handle && o.client_id == msg.client_id)
            .map(|o| o.module)
        else {
            return Ok(EINVAL_RV);
        };
        drop(st);
        module_call(module, sc, ins, outs)
    }

    /// Handle 0: `open(name) -> handle` (method 0) and `close(handle)`
    /// (method 1), QAIC marshalled.
    fn remotectl(
        &self,
        st: &mut State,
        client: i32,
        sc: Scalars,
        ins: &[KVec<u8>],
        outs: &mut KVec<KVec<u8>>,
    ) -> Result<i32> {
        match (sc.method(), sc.inbufs(), sc.outbufs()) {
            (0, 2, 2) => {
                let name = &ins[1];
                let module = if contains(name, b"calculator") {
                    Module::Calculator
                } else if contains(name, b"null") {
                    Module::Null
                } else if contains(name, b"copy") {
                    Module::Copy
                } else {
                    outs.push(KVec::new(), GFP_KERNEL)?;
                    let mut err = KVec::new();
                    err.extend_from_slice(b"no such module\0", GFP_KERNEL)?;
                    outs.push(err, GFP_KERNEL)?;
                    return Ok(ENOENT_RV);
                };
                let handle = st.next_handle;
                st.next_handle += 1;
                st.open.push(
                    Open {
                        handle,
                        client_id: client,
                        module,
                    },
                    GFP_KERNEL,
                )?;
                let mut h = KVec::new();
                h.extend_from_slice(&handle.to_le_bytes(), GFP_KERNEL)?;
                outs.push(h, GFP_KERNEL)?;
                Ok(0)
            }
            (1, 1, _) => {
                let handle = u32_at(&ins[0], 0).ok_or(EINVAL)?;
                let before = st.open.len();
                st.open
                    .retain(|o| !(o.handle == handle && o.client_id == client));
                Ok(if st.open.len() < before { 0 } else { EINVAL_RV })
            }
            _ => Ok(EINVAL_RV),
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn push(outs: &mut KVec<KVec<u8>>, b: &[u8]) -> Result {
    let mut v = KVec::new();
    v.extend_from_slice(b, GFP_KERNEL)?;
    outs.push(v, GFP_KERNEL)?;
    Ok(())
}

/// A method of a built-in module.
fn module_call(
    module: Module,
    sc: Scalars,
    ins: &[KVec<u8>],
    outs: &mut KVec<KVec<u8>>,
) -> Result<i32> {
    match (module, sc.method(), sc.inbufs(), sc.outbufs()) {
        // Hexagon SDK calculator: primIn {u32 vecLen}, int32 vec[vecLen].
        (Module::Calculator, m @ (2 | 3), 2, 1) => {
            let n = u32_at(&ins[0], 0).ok_or(EINVAL)? as usize;
            if ins[1].len() != n * 4 {
                return Ok(EINVAL_RV);
            }
            let vals = ins[1]
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            if m == 2 {
                let sum: i64 = vals.map(i64::from).sum();
                push(outs, &sum.to_le_bytes())?;
            } else {
                let max = vals.max().unwrap_or(i32::MIN);
                push(outs, &max.to_le_bytes())?;
            }
            Ok(0)
        }
        (Module::Null, _, _, _) => Ok(0),
        // copy: in0 -> out0.
        (Module::Copy, 2, 1, 1) => {
            push(outs, &ins[0])?;
            Ok(0)
        }
        // checksum of an input handle's bytes -> out0.
        (Module::Copy, 4, 0, 1) if sc.in_handles() == 1 => {
            let sum = ins[0]
                .iter()
                .fold(0u32, |a, &b| a.wrapping_add(u32::from(b)));
            push(outs, &sum.to_le_bytes())?;
            Ok(0)
        }
        // checksum: in0 -> out0 = u32 sum of bytes.
        (Module::Copy, 3, 1, 1) => {
            let sum = ins[0]
                .iter()
                .fold(0u32, |a, &b| a.wrapping_add(u32::from(b)));
            push(outs, &sum.to_le_bytes())?;
            Ok(0)
        }
        _ => Ok(EINVAL_RV),
    }
}
