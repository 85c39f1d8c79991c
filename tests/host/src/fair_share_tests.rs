//! The user's share (`src/fair_share.rs`): whatever one user took, the
//! others still find units; privileged files are not limited.

use crate::fair_share::{may_take, user_share};

#[test]
fn one_user_leaves_the_rest_to_the_others() {
    for total in 0..=256usize {
        let share = user_share(total);
        assert!(share <= total);
        if total >= 2 {
            // Two users each get their share, and neither takes it all.
            assert!(share * 2 <= total && share >= 1);
        }
        // A user stops exactly at the share.
        let mut held = 0;
        while may_take(false, held, total) {
            held += 1;
            assert!(held <= total);
        }
        assert_eq!(held, share);
    }
}

#[test]
fn privileged_files_have_no_share() {
    for total in [0, 1, 2, 3, 64, usize::MAX] {
        for held in [0, 1, total / 2, total, usize::MAX] {
            assert!(may_take(true, held, total));
        }
    }
}

#[test]
fn boundaries_do_not_overflow() {
    assert_eq!(user_share(usize::MAX), usize::MAX / 2);
    assert!(!may_take(false, usize::MAX, usize::MAX));
    assert!(!may_take(false, 1, 1));
    assert!(may_take(false, 0, 1));
}
