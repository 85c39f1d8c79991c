// SPDX-License-Identifier: GPL-2.0

//! TEMPORARY placeholder until the scm branch lands (not to be committed).

use core::marker::PhantomData;
use kernel::prelude::*;

/// Placeholder.
pub(crate) struct HeapAssignment<A>(PhantomData<A>);

impl<A> HeapAssignment<A> {
    /// Placeholder.
    pub(crate) fn new(_a: A, _base: u64, _size: u64, _vmids: &[u32]) -> Result<Self> {
        Err(ENODEV)
    }
}
