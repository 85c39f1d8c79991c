// SPDX-License-Identifier: GPL-2.0

//! Memory a DSP was given access to, freed only once that access is
//! revoked.
//!
//! If revoking fails (an SCM give-back the hypervisor refused), the DSP or
//! its VM may still own the memory: freeing it would hand the kernel pages
//! it cannot touch or that the DSP still writes. The memory is then leaked
//! on purpose, with a line saying so.

use kernel::prelude::*;

/// A DSP's access to some memory.
pub(crate) trait Access {
    /// Takes the access away; an error if the DSP may still have it.
    fn revoke(&mut self) -> Result;
}

/// `memory` and `access` to it: dropping revokes the access first, then
/// frees the memory, or leaks it if the access could not be revoked.
pub(crate) struct Guarded<A: Access, M> {
    access: A,
    memory: Option<M>,
}

impl<A: Access, M> Guarded<A, M> {
    /// Pairs `memory` with the DSP's `access` to it.
    pub(crate) fn new(access: A, memory: M) -> Self {
        Self {
            access,
            memory: Some(memory),
        }
    }

    /// The access.
    pub(crate) fn access(&self) -> &A {
        &self.access
    }
}

impl<A: Access, M> Drop for Guarded<A, M> {
    fn drop(&mut self) {
        let memory = self.memory.take();
        if let Err(e) = self.access.revoke() {
            pr_err!("remote heap: the DSP's access could not be revoked ({e:?}): its memory is leaked on purpose\n");
            core::mem::forget(memory);
        }
    }
}
