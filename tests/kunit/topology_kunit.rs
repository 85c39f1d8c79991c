// SPDX-License-Identifier: GPL-2.0

//! KUnit: context-bank checks, SID placement in DSP addresses per SoC,
//! and which SoC data a node's compatible list selects.

#[kernel::macros::kunit_tests(qda_topology)]
mod tests {
    use crate::platform::{
        domain::Domain,
        soc::{
            SocData, //
            DEFAULT,
            KAANAPALI,
        },
        topology::*, //
    };

    const D: AddrLayout = AddrLayout::DEFAULT;

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
        assert_eq!(check_cbs(&[cb(1, 1), cb(2, 1), cb(3, 2)], D), Ok(4));
    }

    #[test]
    fn bad_layouts_are_rejected() {
        assert_eq!(check_cbs(&[], D), Err(TopologyError::NoContextBanks));
        assert_eq!(
            check_cbs(&[cb(1, 1), cb(1, 1)], D),
            Err(TopologyError::DuplicateSid(1))
        );
        assert_eq!(
            check_cbs(&[cb(4, 0)], D),
            Err(TopologyError::ZeroSessions(4))
        );
        assert_eq!(
            check_cbs(&[cb(MAX_SID + 1, 1)], D),
            Err(TopologyError::SidTooLarge(MAX_SID + 1))
        );
        assert_eq!(
            check_cbs(&[cb(1, 10), cb(2, 5)], D),
            Err(TopologyError::TooManySessions(15))
        );
        assert_eq!(
            check_cbs(&[cb(1, u32::MAX), cb(2, u32::MAX)], D),
            Err(TopologyError::TooManySessions(2 * u32::MAX as usize))
        );
    }

    #[test]
    fn dsp_addresses_carry_the_sid() {
        assert_eq!(D.dsp_addr(3, 0x1000), Some(0x3_0000_1000));
        assert_eq!(D.dsp_addr(0x1181, 0xffff_f000), Some(0x1181_ffff_f000));
        assert_eq!(D.dsp_addr(1, D.iova_limit()), None);
        assert_eq!(D.dsp_addr(MAX_SID + 1, 0), None);
        // Different SIDs never alias, whatever the IOVA.
        assert!(D.dsp_addr(1, 0xffff_ffff) != D.dsp_addr(2, 0xffff_ffff));
    }

    #[test]
    fn kaanapali_puts_the_sid_at_bit_56_over_34_bit_cdsp_iovas() {
        let cdsp = KAANAPALI.layout(Domain::Cdsp(0));
        let adsp = KAANAPALI.layout(Domain::Adsp);
        assert_eq!((cdsp.sid_shift(), cdsp.iova_bits()), (56, 34));
        assert_eq!((adsp.sid_shift(), adsp.iova_bits()), (56, 32));
        assert_eq!(KAANAPALI.layout(Domain::Cdsp(1)), cdsp);
        assert_eq!(cdsp.dsp_addr(3, 0x3_ffff_f000), Some(0x0300_0003_ffff_f000));
        assert_eq!(cdsp.dsp_addr(3, 1 << 34), None);
        assert_eq!(adsp.dsp_addr(3, 1 << 32), None);
        // Eight bits are left for the SID.
        assert_eq!(cdsp.max_sid(), 0xff);
        assert_eq!(cdsp.dsp_addr(0x100, 0), None);
        assert_eq!(
            check_cbs(&[cb(0x100, 1)], cdsp),
            Err(TopologyError::SidTooLarge(0x100))
        );
        assert_eq!(cdsp.split(0x0300_0003_ffff_f000), (3, 0x3_ffff_f000));
        assert_eq!(DEFAULT.layout(Domain::Cdsp(0)), D);
    }

    #[test]
    fn overlapping_layouts_do_not_exist() {
        assert!(AddrLayout::new(32, 33).is_none());
        assert!(AddrLayout::new(64, 32).is_none());
        assert!(AddrLayout::new(32, 0).is_none());
        assert!(AddrLayout::new(56, 56).is_some());
    }

    #[test]
    fn the_first_listed_compatible_selects_the_soc_data() {
        // Glymur: "qcom,glymur-fastrpc", "qcom,kaanapali-fastrpc".
        let glymur = |c: &core::ffi::CStr| (c == c"qcom,kaanapali-fastrpc").then_some(1);
        assert_eq!(SocData::of_node(glymur), Some(&KAANAPALI));
        let plain = |c: &core::ffi::CStr| (c == c"qcom,fastrpc").then_some(0);
        assert_eq!(SocData::of_node(plain), Some(&DEFAULT));
        // Both listed: the earlier one wins, as in the OF core.
        let both = |c: &core::ffi::CStr| {
            if c == c"qcom,fastrpc" {
                Some(0)
            } else {
                Some(1)
            }
        };
        assert_eq!(SocData::of_node(both), Some(&DEFAULT));
        assert_eq!(SocData::of_node(|_| None), None);
    }
}
