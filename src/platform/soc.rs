// SPDX-License-Identifier: GPL-2.0

//! SoC data: what a FastRPC node's compatible says about the DSP's
//! addressing and abilities, as `drivers/misc/fastrpc.c` of Linux 7.3
//! has it.
//!
//! - `qcom,fastrpc` (every SoC until Kaanapali): the SID at bit 32 of a DSP
//!   address, 32-bit IOVAs on every DSP.
//! - `qcom,kaanapali-fastrpc` (Kaanapali; Glymur and later SoCs name it
//!   as their fallback): the SID at bit 56, 34-bit IOVAs on the compute
//!   DSPs (`cdsp*`), 32-bit elsewhere; the firmware answers polling calls.
//!
//! Older SoCs whose firmware also polls are named by machine compatible
//! ([`POLL_MACHINES`]), a list upstream keeps closed.
//!
//! Pure code (no kernel API), also built and tested on the host.

use core::ffi::CStr;

use crate::platform::{
    domain::Domain,
    topology::AddrLayout, //
};

/// What one FastRPC compatible implies.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SocData {
    /// The node compatible selecting this data.
    pub(crate) compatible: &'static CStr,
    /// Addresses of the compute DSPs (`cdsp*`): SID position and the DMA
    /// width of their context banks.
    cdsp: AddrLayout,
    /// Addresses of the other DSPs.
    other: AddrLayout,
    /// The DSP firmware supports FastRPC poll mode.
    pub(crate) poll_mode: bool,
}

/// A layout checked at compile time.
const fn layout(sid_shift: u32, iova_bits: u32) -> AddrLayout {
    match AddrLayout::new(sid_shift, iova_bits) {
        Some(l) => l,
        None => panic!("IOVA and SID overlap"),
    }
}

/// `qcom,fastrpc`.
pub(crate) const DEFAULT: SocData = SocData {
    compatible: c"qcom,fastrpc",
    cdsp: AddrLayout::DEFAULT,
    other: AddrLayout::DEFAULT,
    poll_mode: false,
};

/// `qcom,kaanapali-fastrpc`.
pub(crate) const KAANAPALI: SocData = SocData {
    compatible: c"qcom,kaanapali-fastrpc",
    cdsp: layout(56, 34),
    other: layout(56, 32),
    poll_mode: true,
};

/// Every compatible qda binds, most specific first.
pub(crate) const TABLE: [&SocData; 2] = [&KAANAPALI, &DEFAULT];

/// Machines (root compatibles) on `qcom,fastrpc` whose DSP firmware polls.
pub(crate) const POLL_MACHINES: [&CStr; 10] = [
    c"qcom,milos",
    c"qcom,qcs8300",
    c"qcom,sa8775p",
    c"qcom,sar2130p",
    c"qcom,sm8450",
    c"qcom,sm8550",
    c"qcom,sm8650",
    c"qcom,sm8750",
    c"qcom,x1e80100",
    c"qcom,x1p42100",
];

impl SocData {
    /// The SoC data of a node, given where each of [`TABLE`]'s compatibles
    /// sits in the node's `compatible` list (`position(c)`: `None` if
    /// absent). As the OF core matches, the entry the node lists first
    /// wins.
    pub(crate) fn of_node(position: impl Fn(&CStr) -> Option<usize>) -> Option<&'static Self> {
        TABLE
            .iter()
            .filter_map(|d| position(d.compatible).map(|i| (i, *d)))
            .min_by_key(|&(i, _)| i)
            .map(|(_, d)| d)
    }

    /// How `domain`'s DSP addresses are built (the IOVA width is the DMA
    /// mask of its context banks).
    pub(crate) fn layout(&self, domain: Domain) -> AddrLayout {
        match domain {
            Domain::Cdsp(_) => self.cdsp,
            _ => self.other,
        }
    }
}
