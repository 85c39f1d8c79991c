// SPDX-License-Identifier: GPL-2.0

//! The hardware around the simulated DSP: its SMMU ([`smmu`]), the
//! context-bank devices whose IOMMU domains it translates through
//! ([`cb_bus`]), the physical memory behind them ([`phys`]), the
//! remoteproc's own IOMMU view of the remote heap ([`remoteproc`]) and the
//! driver standing in for the board's remoteproc driver
//! ([`remoteproc_driver`]).

pub(crate) mod cb_bus;
pub(crate) mod phys;
pub(crate) mod remoteproc;
pub(crate) mod remoteproc_driver;
pub(crate) mod smmu;
