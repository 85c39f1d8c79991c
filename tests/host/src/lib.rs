//! Host-side tests of the qda driver's pure modules.
//!
//! The driver files are compiled here unchanged (`#[path]`), so these tests
//! exercise the exact code that runs in the kernel, with the full std test
//! harness and no QEMU boot.

#![allow(dead_code)]

#[path = "../../../src/domain.rs"]
mod domain;

#[cfg(test)]
mod tests {
    use super::domain::{Domain, DSP_NAME_LEN};

    const LABELS: [&str; 9] = [
        "adsp", "mdsp", "sdsp", "cdsp", "cdsp1", "cdsp2", "cdsp3", "gdsp0", "gdsp1",
    ];

    #[test]
    fn every_binding_label_round_trips() {
        for l in LABELS {
            assert_eq!(Domain::from_label(l.as_bytes()).map(Domain::label), Some(l));
        }
    }

    #[test]
    fn labels_map_to_distinct_domains() {
        let all: Vec<_> = LABELS
            .iter()
            .filter_map(|l| Domain::from_label(l.as_bytes()))
            .collect();
        for (i, a) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|b| a != b), "{a:?} repeated");
        }
    }

    #[test]
    fn near_miss_labels_are_rejected() {
        for bad in [
            "", "dsp", "ADSP", "cdsp4", "cdsp0", "gdsp", "gdsp2", "adsp\0", " adsp", "adspx",
        ] {
            assert_eq!(Domain::from_label(bad.as_bytes()), None, "{bad:?} accepted");
        }
    }

    #[test]
    fn dsp_name_fits_and_is_padded() {
        for l in LABELS {
            let name = Domain::from_label(l.as_bytes()).unwrap().dsp_name();
            assert_eq!(name.len(), DSP_NAME_LEN);
            assert_eq!(&name[..l.len()], l.as_bytes());
            assert!(name[l.len()..].iter().all(|&b| b == 0));
        }
    }
}
