//! Per-file limits (`src/limits.rs`): the count and the bytes are each
//! enforced, a refusal takes nothing, a give-back frees exactly what was
//! taken, and no sum wraps, including from many threads at once.

use crate::limits::{Limits, Quota, Refusal};

fn quota(buffers: u64, bytes: u64) -> Quota {
    Quota::new(Limits { buffers, bytes })
}

#[test]
fn the_count_is_enforced() {
    let q = quota(2, u64::MAX);
    assert_eq!(q.take(1), Ok(()));
    assert_eq!(q.take(1), Ok(()));
    assert_eq!(q.take(1), Err(Refusal::Count));
    assert_eq!(q.held(), (2, 2));
    q.give(1);
    assert_eq!(q.take(1), Ok(()));
}

#[test]
fn the_bytes_are_enforced_and_a_refusal_takes_nothing() {
    let q = quota(10, 8 << 20);
    assert_eq!(q.take(4 << 20), Ok(()));
    assert_eq!(q.take(4 << 20), Ok(()));
    assert_eq!(q.take(1), Err(Refusal::Bytes));
    assert_eq!(q.held(), (2, 8 << 20));
}

#[test]
fn no_sum_wraps() {
    let q = quota(u64::MAX, u64::MAX);
    assert_eq!(q.take(u64::MAX - 1), Ok(()));
    assert_eq!(q.take(2), Err(Refusal::Bytes));
    assert_eq!(q.take(u64::MAX), Err(Refusal::Bytes));
    assert_eq!(q.held(), (1, u64::MAX - 1));
    let z = quota(0, 0);
    assert_eq!(z.take(0), Err(Refusal::Count));
}

#[test]
fn random_sequences_keep_the_invariants() {
    // A seeded generator: the same cases every run.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..200 {
        let limits = Limits {
            buffers: next() % 16,
            bytes: [0, 1, 4096, 1 << 30, u64::MAX][(next() % 5) as usize],
        };
        let q = Quota::new(limits);
        let mut live: Vec<u64> = Vec::new();
        for _ in 0..500 {
            if next() % 3 == 0 && !live.is_empty() {
                let i = (next() as usize) % live.len();
                q.give(live.swap_remove(i));
            } else {
                let b = [0, 1, 4096, u64::MAX / 2, u64::MAX][(next() % 5) as usize];
                let (n, held) = q.held();
                let want = if n >= limits.buffers {
                    Err(Refusal::Count)
                } else if held.checked_add(b).is_none_or(|s| s > limits.bytes) {
                    Err(Refusal::Bytes)
                } else {
                    Ok(())
                };
                assert_eq!(q.take(b), want);
                if want.is_ok() {
                    live.push(b);
                }
            }
            let sum: u128 = live.iter().map(|&b| u128::from(b)).sum();
            assert_eq!(q.held(), (live.len() as u64, sum as u64));
        }
    }
}

#[test]
fn concurrent_takers_never_pass_the_limits() {
    let q = std::sync::Arc::new(quota(100, 100 * 4096));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let q = q.clone();
            std::thread::spawn(move || (0..1000).filter(|_| q.take(4096).is_ok()).count())
        })
        .collect();
    let got: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(got, 100);
    assert_eq!(q.held(), (100, 100 * 4096));
}
