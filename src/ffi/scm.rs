// SPDX-License-Identifier: GPL-2.0

//! TEMPORARY placeholder until the scm branch lands (not to be committed).

use kernel::prelude::*;

/// Placeholder.
pub(crate) struct ScmAssigner;

impl ScmAssigner {
    /// Placeholder.
    pub(crate) fn get() -> Result<Option<Self>> {
        Ok(None)
    }
}
