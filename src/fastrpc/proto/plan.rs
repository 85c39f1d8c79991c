// SPDX-License-Identifier: GPL-2.0

//! Planning an invoke payload from the caller's arguments: the caller
//! range of each inline argument, how overlapping ones share bytes, where
//! each one goes after the metadata, and the payload's size.
//!
//! Inline buffers that overlap in the caller's memory overlap in the
//! payload too: they are sorted by start (then longest first), a buffer
//! inside an earlier one adds no bytes and a partly overlapping one only
//! its tail, pointing back into the earlier data. Every other one starts
//! 128-byte aligned. Kernel buffers never share bytes: each is placed
//! after the user ones, in argument order.
//!
//! Every value may come from a hostile caller. A user range whose end
//! passes the top of the address space is a fault (no mapping can hold
//! it), a length or a payload past [`MAX_PAYLOAD`] is too big; all
//! arithmetic is checked, nothing saturates.
//!
//! Pure code (no kernel API), also built and tested on the host.

use core::cmp::Reverse;

use super::layout::{
    metalen,
    ALIGN, //
};

/// Largest payload (metadata and inline data).
pub(crate) const MAX_PAYLOAD: u64 = 64 << 20;

/// An argument as the planner sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Span {
    /// Caller memory `[ptr, ptr + len)`, copied inline.
    User { ptr: u64, len: u64 },
    /// Kernel bytes copied inline.
    Kernel { len: u64 },
    /// Not in the payload (zero copy, or a handle).
    Direct,
}

/// Why a plan is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlanError {
    /// A user range wraps past the top of the address space (`EFAULT`).
    Wraps,
    /// A length or the payload exceeds [`MAX_PAYLOAD`], or the work
    /// slices are too short (`E2BIG`).
    TooBig,
}

/// The end of the user range `[ptr, ptr + len)`; [`PlanError::Wraps`] if
/// it passes 2^64 - 1.
pub(crate) const fn user_end(ptr: u64, len: u64) -> Result<u64, PlanError> {
    match ptr.checked_add(len) {
        Some(end) => Ok(end),
        None => Err(PlanError::Wraps),
    }
}

/// An inline length as a byte count; [`PlanError::TooBig`] past
/// [`MAX_PAYLOAD`].
pub(crate) fn inline_len(len: u64) -> Result<usize, PlanError> {
    if len > MAX_PAYLOAD {
        return Err(PlanError::TooBig);
    }
    usize::try_from(len).map_err(|_| PlanError::TooBig)
}

/// Where one argument goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Placed {
    /// Where the argument starts in the payload (0: not inline or empty).
    pub(crate) pos: u64,
    /// The caller range `[start, end)` (user buffers; `[0, len)` else).
    pub(crate) start: u64,
    /// End of the caller range.
    pub(crate) end: u64,
    /// Start of the part of the range this argument adds to the payload.
    pub(crate) mstart: u64,
    /// End of that part (`mstart == mend`: it adds nothing).
    pub(crate) mend: u64,
    /// How far the argument starts before the part it adds.
    pub(crate) offset: u64,
}

impl Span {
    /// Bytes the argument has inline (0 if not inline).
    pub(crate) const fn len(self) -> u64 {
        match self {
            Span::User { len, .. } | Span::Kernel { len } => len,
            Span::Direct => 0,
        }
    }

    /// The checked caller range of an inline argument: a wrapping range
    /// first, then the length.
    fn range(self) -> Result<(u64, u64), PlanError> {
        let range = match self {
            Span::User { ptr, len } => (ptr, user_end(ptr, len)?),
            _ => (0, self.len()),
        };
        inline_len(self.len())?;
        Ok(range)
    }
}

/// Sort key of argument `i`: user buffers by start, longest first, then
/// kernel ones and the rest in argument order.
fn key(spans: &[Span], out: &[Placed], i: usize) -> (u8, u64, Reverse<u64>, usize) {
    match spans[i] {
        Span::User { .. } => (0, out[i].start, Reverse(out[i].end), i),
        Span::Kernel { .. } => (1, 0, Reverse(0), i),
        Span::Direct => (2, 0, Reverse(0), i),
    }
}

/// Checks every span and records its range in `out`; sorts `order`.
fn sort(spans: &[Span], order: &mut [usize], out: &mut [Placed]) -> Result<(), PlanError> {
    for (i, s) in spans.iter().enumerate() {
        let (start, end) = s.range()?;
        out[i] = Placed {
            start,
            end,
            ..Placed::default()
        };
        order[i] = i;
    }
    order.sort_unstable_by_key(|&i| key(spans, out, i));
    Ok(())
}

/// Finds the part of each user buffer not covered by an earlier one
/// (in `order`); kernel buffers add all their bytes.
fn share(spans: &[Span], order: &[usize], out: &mut [Placed]) {
    let mut covered: Option<u64> = None;
    for &i in order {
        let p = &mut out[i];
        match spans[i] {
            Span::User { .. } => match covered {
                Some(max) if p.start < max => {
                    p.offset = max - p.start;
                    (p.mstart, p.mend) = (max, p.end.max(max));
                    covered = Some(p.end.max(max));
                }
                _ => {
                    (p.mstart, p.mend) = (p.start, p.end);
                    covered = Some(p.end);
                }
            },
            Span::Kernel { len } => (p.mstart, p.mend) = (0, len),
            Span::Direct => {}
        }
    }
}

/// Places the inline arguments in `order` after `n` arguments' metadata;
/// returns the payload size.
fn place(spans: &[Span], order: &[usize], out: &mut [Placed]) -> Result<u64, PlanError> {
    let big = |_| PlanError::TooBig;
    let mut cursor = u64::try_from(metalen(spans.len())).map_err(big)?;
    for &i in order {
        let p = &mut out[i];
        if spans[i].len() == 0 {
            continue;
        }
        if p.offset == 0 {
            cursor = cursor
                .checked_next_multiple_of(ALIGN)
                .ok_or(PlanError::TooBig)?;
        }
        p.pos = cursor.checked_sub(p.offset).ok_or(PlanError::TooBig)?;
        cursor = (p.mend - p.mstart)
            .checked_add(cursor)
            .filter(|&c| c <= MAX_PAYLOAD)
            .ok_or(PlanError::TooBig)?;
    }
    Ok(cursor)
}

/// Plans the payload of a call with `spans`: `out[i]` receives where
/// argument `i` goes, `order` the placement order (both at least as long
/// as `spans`). Returns the payload size (metadata and inline data, at
/// most [`MAX_PAYLOAD`]).
pub(crate) fn plan(
    spans: &[Span],
    order: &mut [usize],
    out: &mut [Placed],
) -> Result<u64, PlanError> {
    let n = spans.len();
    let (Some(order), Some(out)) = (order.get_mut(..n), out.get_mut(..n)) else {
        return Err(PlanError::TooBig);
    };
    sort(spans, order, out)?;
    share(spans, order, out);
    place(spans, order, out)
}
