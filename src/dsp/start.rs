// SPDX-License-Identifier: GPL-2.0

//! Starting a client's DSP process (attach, create, create static), shared
//! by the accel and the legacy UAPI. Each checks the access model first
//! (see [`crate::dsp::policy`]).

use kernel::{
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

use crate::{
    buffer::reference::Resolve,
    dsp::{
        client::Client,
        policy::{
            refused_without_smmu,
            session_rejected,
            PdStart, //
        },
        Dsp, //
    },
    fastrpc::{
        process,
        wire, //
    },
};

/// Attaches the client's process to the always-present PD of type `pd`
/// (root or sensors).
pub(crate) fn attach(dev: &Dsp, c: &Client, pd: u32) -> Result<u32> {
    let op = match pd {
        wire::SENSORS_PD => PdStart::AttachSensors,
        _ => PdStart::AttachRoot,
    };
    c.privilege.check(dev, op)?;
    c.start_process(|| process::attach(c.target(), pd))?;
    Ok(0)
}

/// Why a static PD did not start.
pub(crate) enum StaticError {
    /// The DSP's node names no remote heap (each frontend has its errno:
    /// `-ENODEV` on the accel node, upstream's `-ENOMEM` on the legacy
    /// ones).
    NoHeap,
    /// Any other failure.
    Failed(Error),
}

impl From<Error> for StaticError {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

/// Starts a static PD (the audio PD) on the DSP's remote heap, named by
/// the `namelen` bytes at user address `name`.
pub(crate) fn create_static(
    dev: &Dsp,
    c: &Client,
    (namelen, name): (u32, u64),
) -> Result<u32, StaticError> {
    c.privilege.check(dev, PdStart::CreateStatic)?;
    let Some(heap) = dev.heap.as_ref() else {
        crate::ratelimit::dev_ratelimited!(
            debug,
            c.channel.device(),
            "{}: no remote heap for a static PD (memory-region)\n",
            dev.domain.label()
        );
        return Err(StaticError::NoHeap);
    };
    let len = namelen as usize;
    if len == 0 || len > process::STATIC_NAME_MAX {
        return Err(EINVAL.into());
    }
    let mut buf = [0u8; process::STATIC_NAME_MAX];
    UserSlice::new(UserPtr::from_addr(name as usize), len)
        .reader()
        .read_slice(&mut buf[..len])?;
    c.start_process(|| process::create_static(c.target(), &buf[..len], heap))?;
    Ok(0)
}

/// A dynamic PD to create, as a frontend decoded it.
#[derive(Clone, Copy)]
pub(crate) struct CreateRequest {
    /// Length of the shell image.
    pub(crate) filelen: u32,
    /// Buffer reference of the shell image (0 or less: none).
    pub(crate) filefd: i32,
    /// PD attributes (`FASTRPC_MODE_*`: unsigned PD, debug...).
    pub(crate) attrs: u32,
    /// Length of the signature.
    pub(crate) siglen: u32,
    /// User address of the shell image.
    pub(crate) file: u64,
}

/// Creates a dynamic user PD running the shell `args` describes, whose
/// buffer reference `r` resolves. `node_secure`: whether the caller counts
/// as a file of the DSP's secure node (each frontend's rule; see
/// [`crate::dsp::policy::session_rejected`]).
pub(crate) fn create(
    dev: &Dsp,
    c: &Client,
    r: &impl Resolve,
    args: &CreateRequest,
    node_secure: bool,
) -> Result<u32> {
    let op = PdStart::create(args.attrs);
    let unsigned = matches!(op, PdStart::Create { unsigned: true, .. });
    if session_rejected(node_secure, dev.secure, dev.domain, unsigned) {
        crate::ratelimit::dev_ratelimited!(
            debug,
            c.channel.device(),
            "{}: a file of the non-secure node (or an unprivileged accel file) may only create unsigned PDs, where the DSP supports them\n",
            dev.domain.label()
        );
        return Err(ECONNREFUSED);
    }
    c.privilege.check(dev, op)?;
    let s = c.session();
    if refused_without_smmu(op, s.cb().dev.smmu()) {
        crate::ratelimit::dev_ratelimited!(
            info,
            s.cb().dev.as_ref(),
            "{}: unsigned PD refused: this context bank has no SMMU isolation\n",
            dev.domain.label()
        );
        return Err(EPERM);
    }
    let comm = crate::ffi::current_comm();
    let name_len = comm
        .iter()
        .position(|&b| b == 0)
        .map_or(comm.len(), |n| n + 1);
    // With a pointer, the shell's bytes are in the caller's memory: a
    // reference that names no buffer mapped there (the library passes a
    // GEM handle of its own allocation file) means they are copied.
    let shell = match (args.filefd, args.file) {
        (..=0, _) => None,
        (fd, 0) => Some(r.resolve(fd, 0, "init_create")?),
        (fd, ptr) => r.resolve(fd, ptr, "init_create").ok(),
    };
    let a = process::CreateArgs {
        filelen: args.filelen,
        shell,
        attrs: args.attrs,
        siglen: args.siglen,
        file: args.file,
    };
    c.start_process(|| process::create(c.target(), &comm[..name_len], &a))?;
    Ok(0)
}
