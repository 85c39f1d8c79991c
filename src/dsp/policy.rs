// SPDX-License-Identifier: GPL-2.0

//! The access model's rules, as pure functions (also built and tested on
//! the host). See `Documentation/accel/qda/legacy.rst`.
//!
//! Two independent rules decide whether an operation that starts a DSP
//! process is allowed:
//!
//! - **Privilege** (qda's own): attaching to the root PD or the sensors
//!   PD, creating a static PD, and creating a signed PD on a secure
//!   channel are daemon operations. Only a *privileged* file may do them:
//!   one whose opener had `CAP_SYS_ADMIN` or was a member of the group
//!   given by the module parameter `daemon_gid`. Denied: `-EACCES`.
//! - **Secure nodes** (as `drivers/misc/fastrpc.c`): on a secure channel
//!   (no `qcom,non-secure-domain`), a file of a legacy non-secure node
//!   may create only unsigned PDs, and only where the DSP runs them (CDSP,
//!   GDSP). Denied: `-ECONNREFUSED`, checked before privilege so that
//!   upstream's errno is kept. A file of the accel node counts as a file
//!   of the secure node if it is privileged, else of the non-secure one:
//!   an app gets the answer upstream gives it on the node it may open.
//!
//! A third rule is qda's own divergence from upstream: **no unsigned PD on
//! a context bank without SMMU** (a CB node without `iommus`). There the
//! DSP reaches physical memory directly, so code the caller chose running
//! on the DSP could read and write any memory the DSP can address.
//! Denied: `-EPERM`, whoever asks (see `Documentation/accel/qda/legacy.rst`).

use crate::platform::domain::Domain;

/// The operations that start a DSP process for a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PdStart {
    /// `INIT_ATTACH`: the root PD.
    AttachRoot,
    /// `INIT_ATTACH_SNS`: the sensors PD.
    AttachSensors,
    /// `INIT_CREATE_STATIC`: a static PD on the remote heap.
    CreateStatic,
    /// `INIT_CREATE`: a dynamic user PD, unsigned or signed.
    Create {
        /// `FASTRPC_MODE_UNSIGNED_MODULE` was asked for.
        unsigned: bool,
        /// `FASTRPC_MODE_PRIVILEGED` was asked for.
        privileged: bool,
    },
}

/// `FASTRPC_MODE_UNSIGNED_MODULE` in the create attributes.
pub(crate) const ATTR_UNSIGNED: u32 = 1 << 3;
/// `FASTRPC_MODE_PRIVILEGED` (`QDA_PROC_ATTR_PRIVILEGED`) in the create
/// attributes: the DSP grants the PD a privileged client's rights. The
/// library leaves it to the kernel ("populated in kernel"), so only a
/// privileged file may pass it on.
pub(crate) const ATTR_PRIVILEGED: u32 = 1 << 6;

impl PdStart {
    /// The create operation for attributes `attrs`.
    pub(crate) fn create(attrs: u32) -> Self {
        Self::Create {
            unsigned: attrs & ATTR_UNSIGNED != 0,
            privileged: attrs & ATTR_PRIVILEGED != 0,
        }
    }

    /// Whether `self` needs a privileged file on a channel that is
    /// `secure` or not.
    pub(crate) fn needs_privilege(self, secure: bool) -> bool {
        match self {
            Self::AttachRoot | Self::AttachSensors | Self::CreateStatic => true,
            Self::Create {
                unsigned,
                privileged,
            } => privileged || (secure && !unsigned),
        }
    }
}

/// Whether `op` is refused on a context bank without SMMU (`smmu` false):
/// an unsigned PD would run code of the caller's choosing with the DSP's
/// unrestricted view of physical memory.
pub(crate) fn refused_without_smmu(op: PdStart, smmu: bool) -> bool {
    !smmu && matches!(op, PdStart::Create { unsigned: true, .. })
}

/// Whether the DSP of `domain` runs unsigned PDs.
pub(crate) fn unsigned_support(domain: Domain) -> bool {
    matches!(domain, Domain::Cdsp(_) | Domain::Gdsp(_))
}

/// `drivers/misc/fastrpc.c`'s `is_session_rejected()`: a file of a
/// non-secure node on a `secure` channel creating a PD (`unsigned` or
/// not) on `domain`. Upstream applies it to `INIT_CREATE` only.
pub(crate) fn session_rejected(
    node_secure: bool,
    secure: bool,
    domain: Domain,
    unsigned: bool,
) -> bool {
    !node_secure && secure && !(unsigned_support(domain) && unsigned)
}

/// The legacy nodes of a channel, as upstream registers them: `true` for
/// the `-secure` one. ADSP, MDSP and SDSP get one node, secure if the
/// channel is; CDSP and GDSP get both, so that signed and unsigned PDs can
/// each be allowed.
pub(crate) fn legacy_nodes(domain: Domain, secure: bool) -> &'static [bool] {
    match (unsigned_support(domain), secure) {
        (true, _) => &[true, false],
        (false, true) => &[true],
        (false, false) => &[false],
    }
}
