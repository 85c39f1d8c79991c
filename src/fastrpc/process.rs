// SPDX-License-Identifier: GPL-2.0

//! Process control on remote handle 1 (kernel-only): attach to the root
//! PD, create a dynamic user PD, release it on the last close.

use kernel::{
    prelude::*,
    sync::Arc, //
};

use super::{
    channel::{
        Channel,
        Request, //
    },
    invoke::{
        self,
        Arg, //
    },
    scalars::Scalars,
    wire, //
};
use crate::{
    ffi::dma::CoherentBuf,
    session::ContextBank,
    topology, //
};

/// The process-control handle.
pub(crate) const INIT_HANDLE: u32 = 1;
/// Method ids on [`INIT_HANDLE`].
const RMID_ATTACH: u32 = 0;
const RMID_RELEASE: u32 = 1;
const RMID_CREATE: u32 = 6;
const RMID_CREATE_ATTR: u32 = 7;
/// Largest shell image.
pub(crate) const INIT_FILELEN_MAX: u32 = 2 << 20;
/// Timeout of kernel-originated calls.
const KERNEL_CALL_TIMEOUT_MS: u32 = 10_000;

/// A DSP process of a session, alive until released.
pub(crate) struct Process {
    /// PD type of the process.
    pub(crate) pd: u32,
    /// Init memory given to a created process.
    _init_mem: Option<CoherentBuf>,
}

/// Maps a remote return value of a kernel call to a result.
fn remote_result(r: i32) -> Result {
    match r {
        0 => Ok(()),
        -4095..=-1 => Err(Error::from_errno(r)),
        _ => Err(EIO),
    }
}

/// Sends a kernel call on handle 1 for the process of `cb`/`client_id`.
fn kernel_call(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    pd: u32,
    sc: Scalars,
    args: &[Arg<'_>],
) -> Result {
    let m = invoke::marshal(cb, args)?;
    let req = Request {
        client_id: 0,
        pd,
        handle: INIT_HANDLE,
        sc: sc.0,
        payload: m.dsp,
        timeout_ms: Some(KERNEL_CALL_TIMEOUT_MS),
    };
    remote_result(channel.call(&req, m.payload.clone())?)
}

/// Attaches the process `client_id` to the DSP's root PD (daemons).
pub(crate) fn attach(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    client_id: i32,
) -> Result<Process> {
    let id = client_id.to_le_bytes();
    kernel_call(
        channel,
        cb,
        wire::ROOT_PD,
        Scalars::new(RMID_ATTACH, 1, 0),
        &[Arg::In(&id)],
    )?;
    Ok(Process {
        pd: wire::ROOT_PD,
        _init_mem: None,
    })
}

/// What `DRM_IOCTL_QDA_INIT_CREATE` asks for.
pub(crate) struct CreateArgs {
    /// Shell image length.
    pub(crate) filelen: u32,
    /// Shell as a dma-buf fd (> 0), else from `file`.
    pub(crate) filefd: i32,
    /// `QDA_PROC_ATTR_*`.
    pub(crate) attrs: u32,
    /// Signature length.
    pub(crate) siglen: u32,
    /// User pointer to the shell.
    pub(crate) file: u64,
}

/// Creates a dynamic user PD for process `client_id` running the shell
/// described by `a`, named after the calling task.
pub(crate) fn create(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    client_id: i32,
    comm: &[u8],
    a: &CreateArgs,
) -> Result<Process> {
    if a.filelen > INIT_FILELEN_MAX {
        return Err(EFBIG);
    }
    // Init memory: four times the shell, at least 2 MiB, in whole MiB.
    let memlen = super::layout::align_up((u64::from(a.filelen) * 4).max(2 << 20), 1 << 20);
    let init_mem = CoherentBuf::new(cb.dev.as_ref(), memlen as usize)?;
    let page_addr = topology::dsp_addr(cb.sid, init_mem.dma_addr()).ok_or(EOVERFLOW)?;
    let mut inbuf = [0u8; 24];
    inbuf[0..4].copy_from_slice(&client_id.to_le_bytes());
    inbuf[4..8].copy_from_slice(&(comm.len() as u32).to_le_bytes());
    inbuf[8..12].copy_from_slice(&a.filelen.to_le_bytes());
    inbuf[12..16].copy_from_slice(&1u32.to_le_bytes());
    inbuf[16..20].copy_from_slice(&a.attrs.to_le_bytes());
    inbuf[20..24].copy_from_slice(&a.siglen.to_le_bytes());
    let mut pages = [0u8; 16];
    pages[0..8].copy_from_slice(&page_addr.to_le_bytes());
    pages[8..16].copy_from_slice(&memlen.to_le_bytes());
    let file = if a.filefd > 0 {
        Arg::Mapped {
            fd: a.filefd,
            ptr: a.file,
            len: u64::from(a.filelen),
        }
    } else {
        Arg::UserIn {
            ptr: a.file,
            len: u64::from(a.filelen),
        }
    };
    let method = if a.attrs != 0 {
        RMID_CREATE_ATTR
    } else {
        RMID_CREATE
    };
    let args = [Arg::In(&inbuf), Arg::In(comm), file, Arg::In(&pages)];
    kernel_call(
        channel,
        cb,
        wire::USER_PD,
        Scalars::new(method, 4, 0),
        &args,
    )?;
    Ok(Process {
        pd: wire::USER_PD,
        _init_mem: Some(init_mem),
    })
}

/// Releases the DSP side of process `client_id` (last close).
pub(crate) fn release(
    channel: &Arc<Channel>,
    cb: &Arc<ContextBank>,
    client_id: i32,
    p: &Process,
) -> Result {
    let id = client_id.to_le_bytes();
    kernel_call(
        channel,
        cb,
        p.pd,
        Scalars::new(RMID_RELEASE, 1, 0),
        &[Arg::In(&id)],
    )
}
