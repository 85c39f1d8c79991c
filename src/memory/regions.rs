// SPDX-License-Identifier: GPL-2.0

//! Reserved-memory regions: decoding and checking them.
//!
//! A FastRPC node's `memory-region` names a child of `/reserved-memory`:
//! either a `no-map` carve-out (a fixed `reg`, no kernel mapping) or a
//! `shared-dma-pool` (reusable: a CMA area). The driver checks the region
//! and its siblings before using it: no empty or wrapping region, no
//! overlap, no region that is both `no-map` and `reusable`.
//!
//! Pure code (no kernel API), also built and tested on the host.

/// What a region is used as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RegionKind {
    /// `no-map`: a carve-out the kernel does not map.
    Carveout,
    /// `shared-dma-pool` + `reusable`: a CMA area.
    Cma,
    /// Anything else (not usable by qda, still checked for overlaps).
    Other,
}

/// A region as placed in physical memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    /// Physical base address.
    pub(crate) base: u64,
    /// Size in bytes.
    pub(crate) size: u64,
    /// Its use.
    pub(crate) kind: RegionKind,
}

/// Why a region is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RegionError {
    /// `reg` does not hold whole (address, size) cell groups, or a
    /// cell count is not 1 or 2.
    BadCells,
    /// Zero size.
    Empty,
    /// `base + size` wraps around.
    Wraps,
    /// Overlaps the region with this index.
    Overlaps(usize),
    /// Both `no-map` and `reusable`.
    NoMapAndReusable,
}

/// Classifies a region node by its properties.
pub(crate) fn classify(
    no_map: bool,
    reusable: bool,
    shared_dma_pool: bool,
) -> Result<RegionKind, RegionError> {
    match (no_map, reusable, shared_dma_pool) {
        (true, true, _) => Err(RegionError::NoMapAndReusable),
        (true, false, _) => Ok(RegionKind::Carveout),
        (false, true, true) => Ok(RegionKind::Cma),
        _ => Ok(RegionKind::Other),
    }
}

/// Decodes the first `(address, size)` entry of a `reg` property given the
/// parent's `#address-cells` and `#size-cells`.
pub(crate) fn reg_entry(
    cells: &[u32],
    address_cells: u32,
    size_cells: u32,
) -> Result<(u64, u64), RegionError> {
    let (ac, sc) = (address_cells as usize, size_cells as usize);
    if !(1..=2).contains(&ac)
        || !(1..=2).contains(&sc)
        || cells.is_empty()
        || cells.len() % (ac + sc) != 0
    {
        return Err(RegionError::BadCells);
    }
    let read = |c: &[u32]| c.iter().fold(0u64, |acc, &v| (acc << 32) | u64::from(v));
    Ok((read(&cells[..ac]), read(&cells[ac..ac + sc])))
}

/// Checks one region on its own.
pub(crate) fn check_region(r: &Region) -> Result<(), RegionError> {
    if r.size == 0 {
        return Err(RegionError::Empty);
    }
    if r.base.checked_add(r.size).is_none() {
        return Err(RegionError::Wraps);
    }
    Ok(())
}

/// Checks a set of regions; on error returns the index of the bad one.
pub(crate) fn check_regions(regions: &[Region]) -> Result<(), (usize, RegionError)> {
    for (i, r) in regions.iter().enumerate() {
        check_region(r).map_err(|e| (i, e))?;
        let end = r.base + r.size;
        for (j, o) in regions[..i].iter().enumerate() {
            if r.base < o.base.saturating_add(o.size) && o.base < end {
                return Err((i, RegionError::Overlaps(j)));
            }
        }
    }
    Ok(())
}
