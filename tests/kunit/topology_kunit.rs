// SPDX-License-Identifier: GPL-2.0

//! KUnit: context-bank checks and SID prefixing of DSP addresses.

#[kernel::macros::kunit_tests(qda_topology)]
mod tests {
    use crate::topology::*;

    fn cb(sid: u32, nsessions: u32) -> CbSpec {
        CbSpec {
            sid,
            nsessions,
            coherent: true,
            smmu: true,
        }
    }

    #[test]
    fn good_layout_counts_sessions() {
        assert_eq!(check_cbs(&[cb(1, 1), cb(2, 1), cb(3, 2)]), Ok(4));
    }

    #[test]
    fn bad_layouts_are_rejected() {
        assert_eq!(check_cbs(&[]), Err(TopologyError::NoContextBanks));
        assert_eq!(
            check_cbs(&[cb(1, 1), cb(1, 1)]),
            Err(TopologyError::DuplicateSid(1))
        );
        assert_eq!(check_cbs(&[cb(4, 0)]), Err(TopologyError::ZeroSessions(4)));
        assert_eq!(
            check_cbs(&[cb(MAX_SID + 1, 1)]),
            Err(TopologyError::SidTooLarge(MAX_SID + 1))
        );
        assert_eq!(
            check_cbs(&[cb(1, 10), cb(2, 5)]),
            Err(TopologyError::TooManySessions(15))
        );
        assert_eq!(
            check_cbs(&[cb(1, u32::MAX), cb(2, u32::MAX)]),
            Err(TopologyError::TooManySessions(2 * u32::MAX as usize))
        );
    }

    #[test]
    fn dsp_addresses_carry_the_sid() {
        assert_eq!(dsp_addr(3, 0x1000), Some(0x3_0000_1000));
        assert_eq!(dsp_addr(0x1181, 0xffff_f000), Some(0x1181_ffff_f000));
        assert_eq!(dsp_addr(1, IOVA_LIMIT), None);
        assert_eq!(dsp_addr(MAX_SID + 1, 0), None);
        // Different SIDs never alias, whatever the IOVA.
        assert!(dsp_addr(1, 0xffff_ffff) != dsp_addr(2, 0xffff_ffff));
    }
}
