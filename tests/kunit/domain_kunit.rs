// SPDX-License-Identifier: GPL-2.0

//! KUnit: parsing the DSP `label` into a domain and the QUERY name.

#[kernel::macros::kunit_tests(qda_domain)]
mod tests {
    use crate::platform::domain::{
        Domain,
        DSP_NAME_LEN, //
    };

    #[test]
    fn every_binding_label_round_trips() {
        for label in [
            "adsp", "mdsp", "sdsp", "cdsp", "cdsp1", "cdsp2", "cdsp3", "gdsp0", "gdsp1",
        ] {
            let d = Domain::from_label(label.as_bytes());
            assert!(d.is_some());
            if let Some(d) = d {
                assert_eq!(d.label(), label);
            }
        }
    }

    #[test]
    fn unknown_labels_are_rejected() {
        for bad in [
            &b""[..],
            b"dsp",
            b"ADSP",
            b"cdsp4",
            b"gdsp2",
            b"adsp\0",
            b"adsp ",
            b"cdsp0",
        ] {
            assert!(Domain::from_label(bad).is_none());
        }
    }

    #[test]
    fn dsp_name_is_nul_terminated_and_padded() {
        let name = Domain::Cdsp(1).dsp_name();
        assert_eq!(&name[..5], b"cdsp1");
        assert!(name[5..].iter().all(|&b| b == 0));
        assert_eq!(name.len(), DSP_NAME_LEN);
        assert_eq!(Domain::Gdsp(1).dsp_name()[DSP_NAME_LEN - 1], 0);
    }
}
