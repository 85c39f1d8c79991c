// SPDX-License-Identifier: GPL-2.0

//! Misc devices whose open files reach the data of the node they were
//! opened on.
//!
//! 7.3's [`MiscDevice::open`] is given the [`MiscDeviceRegistration`]
//! only. A [`MiscNode`] keeps the registration and the node's data in one
//! pinned allocation and finds the data from the registration. That is
//! sound because the type the registration is of ([`sealed::Opened`]) can
//! be named in this module only, where [`MiscNode::register`] is the only
//! code that registers misc devices of it.

use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

/// The open file of a [`MiscNode`].
pub(crate) trait NodeFile: Sized + Send + Sync + 'static {
    /// What the node keeps for its files.
    type Data: Send + Sync;

    /// Opens a file on the node holding `data`.
    fn open(file: &File, data: &Self::Data) -> Result<Self>;

    /// Handles ioctl `cmd` with argument `arg`.
    fn ioctl(me: &Self, file: &File, cmd: u32, arg: usize) -> Result<isize>;
}

/// The type misc devices are registered with, out of reach of the rest of
/// the crate (the sealed pattern): no other code can register one.
mod sealed {
    /// An open file of a [`super::MiscNode`].
    pub(crate) struct Opened<F>(pub(super) F);
}

use sealed::Opened;

#[vtable]
impl<F: NodeFile> MiscDevice for Opened<F> {
    type Ptr = Pin<KBox<Self>>;

    fn open(file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        let node = MiscNode::<F>::of(misc);
        Ok(KBox::pin(Opened(F::open(file, &node.data)?), GFP_KERNEL)?)
    }

    fn ioctl(me: Pin<&Self>, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        F::ioctl(&me.get_ref().0, file, cmd, arg)
    }
}

/// A registered misc device and the data its files are opened with;
/// deregistered on drop.
///
/// # Invariants
///
/// Every `MiscDeviceRegistration<Opened<F>>` is the `reg` field of a
/// `MiscNode<F>` (only [`MiscNode::register`] makes them), registered
/// after `data` was initialised.
#[pin_data]
pub(crate) struct MiscNode<F: NodeFile> {
    /// Declared first: dropped (deregistered) before the data goes.
    #[pin]
    reg: MiscDeviceRegistration<Opened<F>>,
    data: F::Data,
}

impl<F: NodeFile> MiscNode<F> {
    /// Registers a misc device as `opts` says, whose files are opened
    /// with `data`.
    pub(crate) fn register(opts: MiscDeviceOptions, data: F::Data) -> Result<Pin<KBox<Self>>> {
        // Fields are initialised in the order written: `reg` (which makes
        // the node openable) last.
        KBox::try_pin_init(
            try_pin_init!(Self {
                data,
                reg <- MiscDeviceRegistration::register(opts),
            }),
            GFP_KERNEL,
        )
    }

    /// The node `misc` is the registration of.
    fn of(misc: &MiscDeviceRegistration<Opened<F>>) -> &Self {
        let reg = core::ptr::from_ref(misc).cast_mut();
        // SAFETY: `misc` is the `reg` field of a `MiscNode<F>` (the type
        // invariant), which lives at least as long as `misc` is borrowed.
        unsafe { &*kernel::container_of!(reg, Self, reg) }
    }
}
