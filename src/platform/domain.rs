// SPDX-License-Identifier: GPL-2.0

//! DSP domains, named by the `label` of their FastRPC device-tree node.
//!
//! Pure code (no kernel API), also built and tested on the host.

/// Length of the NUL-padded name reported by `DRM_IOCTL_QDA_QUERY`.
pub(crate) const DSP_NAME_LEN: usize = 16;

/// A Hexagon DSP the driver can talk to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Domain {
    /// Audio DSP.
    Adsp,
    /// Modem DSP.
    Mdsp,
    /// Sensors DSP.
    Sdsp,
    /// Compute DSP `n` (label `cdsp` for 0, `cdspN` otherwise).
    Cdsp(u8),
    /// General-purpose DSP `n` (label `gdspN`).
    Gdsp(u8),
}

impl Domain {
    /// Parses a DT `label` (without NUL). Only the labels of the
    /// `qcom,fastrpc` binding are accepted.
    pub(crate) fn from_label(label: &[u8]) -> Option<Self> {
        Some(match label {
            b"adsp" => Self::Adsp,
            b"mdsp" => Self::Mdsp,
            b"sdsp" => Self::Sdsp,
            b"cdsp" => Self::Cdsp(0),
            b"cdsp1" => Self::Cdsp(1),
            b"cdsp2" => Self::Cdsp(2),
            b"cdsp3" => Self::Cdsp(3),
            b"gdsp0" => Self::Gdsp(0),
            b"gdsp1" => Self::Gdsp(1),
            _ => return None,
        })
    }

    /// The label this domain was parsed from.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Adsp => "adsp",
            Self::Mdsp => "mdsp",
            Self::Sdsp => "sdsp",
            Self::Cdsp(0) => "cdsp",
            Self::Cdsp(1) => "cdsp1",
            Self::Cdsp(2) => "cdsp2",
            Self::Cdsp(_) => "cdsp3",
            Self::Gdsp(0) => "gdsp0",
            Self::Gdsp(_) => "gdsp1",
        }
    }

    /// The label as the NUL-terminated, NUL-padded QUERY field.
    pub(crate) fn dsp_name(self) -> [u8; DSP_NAME_LEN] {
        let mut name = [0u8; DSP_NAME_LEN];
        let label = self.label().as_bytes();
        name[..label.len()].copy_from_slice(label);
        name
    }
}
