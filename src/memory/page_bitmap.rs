// SPDX-License-Identifier: GPL-2.0

//! A first-fit page allocator over a bitmap, for carve-outs.
//!
//! Bit `i` of `words` set means page `i` is in use. Allocations are runs
//! of pages starting at a multiple of `align` pages. Freeing checks that
//! every page of the run was in use, so a double free is reported instead
//! of corrupting the map.
//!
//! Pure code (no kernel API), also built and tested on the host.

/// Number of `u64` words needed for `pages` pages.
pub(crate) const fn words_for(pages: usize) -> usize {
    pages.div_ceil(64)
}

fn test(words: &[u64], i: usize) -> bool {
    words[i / 64] & (1 << (i % 64)) != 0
}

/// Whether the first `pages` pages fit in `words`.
fn holds(words: &[u64], pages: usize) -> bool {
    words.len().checked_mul(64).is_some_and(|cap| pages <= cap)
}

fn set(words: &mut [u64], i: usize, used: bool) {
    if used {
        words[i / 64] |= 1 << (i % 64);
    } else {
        words[i / 64] &= !(1 << (i % 64));
    }
}

/// Finds and marks `count` free pages among the first `pages` pages,
/// starting at a multiple of `align` (a power of two). Returns the first
/// page, or `None` if no such run is free.
pub(crate) fn alloc(words: &mut [u64], pages: usize, count: usize, align: usize) -> Option<usize> {
    if count == 0 || !align.is_power_of_two() || !holds(words, pages) {
        return None;
    }
    let mut start: usize = 0;
    while start.checked_add(count)? <= pages {
        match (start..start + count).find(|&i| test(words, i)) {
            None => {
                for i in start..start + count {
                    set(words, i, true);
                }
                return Some(start);
            }
            // Restart after the used page, at the next aligned position.
            Some(used) => start = (used + 1).next_multiple_of(align),
        }
    }
    None
}

/// Frees `count` pages from `start`. `Err` (and nothing changed) if any of
/// them was not in use or the run is out of range (of `pages`, or of
/// `words` if `pages` is more than it holds).
pub(crate) fn free(words: &mut [u64], pages: usize, start: usize, count: usize) -> Result<(), ()> {
    let end = start.checked_add(count).ok_or(())?;
    if count == 0 || end > pages || !holds(words, pages) || (start..end).any(|i| !test(words, i)) {
        return Err(());
    }
    for i in start..end {
        set(words, i, false);
    }
    Ok(())
}
