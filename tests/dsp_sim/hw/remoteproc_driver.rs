// SPDX-License-Identifier: GPL-2.0

//! A test-only driver for the simulated remoteproc nodes
//! (`qda,sim-remoteproc`), standing in for the board's remoteproc driver
//! (`qcom_q6v5_pas`): binding it configures the device's DMA and IOMMU
//! from its DT node, as on a board, so the ADSP's remoteproc (with
//! `iommus`) sits in a real IOMMU domain that qda identity-maps the remote
//! heap into. It does nothing else: the simulated DSP reaches that domain
//! through [`crate::hw::remoteproc`].

use kernel::{
    device::Core,
    of,
    platform,
    prelude::*, //
};

/// The bound driver (no state).
pub(crate) struct SimRemoteproc;

kernel::of_device_table!(
    OF_TABLE,
    <SimRemoteproc as platform::Driver>::IdInfo,
    [(of::DeviceId::new(c"qda,sim-remoteproc"), ())]
);

impl platform::Driver for SimRemoteproc {
    type IdInfo = ();
    type Data<'bound> = Self;
    const OF_ID_TABLE: Option<of::IdTable<Self::IdInfo>> = Some(&OF_TABLE);

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        dev_info!(pdev.as_ref(), "simulated remoteproc bound\n");
        Ok(Self)
    }
}
