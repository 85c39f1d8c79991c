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

/// What each entry of a FastRPC node's `memory-region` is for.
///
/// Entry names come from `memory-region-names`. Without names (every
/// board DT written for `drivers/misc/fastrpc.c`), entry 0 is the remote
/// heap and further entries are refused. With names, each entry has one
/// of [`ROLE_NAMES`], at most once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Roles {
    /// `"remote-heap"`: memory of the static PDs; no app allocates from it.
    pub(crate) remote_heap: Option<usize>,
    /// `"apps-cma"`: contiguous pool apps allocate from.
    pub(crate) apps_cma: Option<usize>,
    /// `"apps-carveout"`: `no-map` pool apps allocate from.
    pub(crate) apps_carveout: Option<usize>,
}

/// The names of `memory-region-names`, in the order of the slots
/// [`roles`] takes.
pub(crate) const ROLE_NAMES: [&str; 3] = ["remote-heap", "apps-cma", "apps-carveout"];

/// Why `memory-region` and `memory-region-names` do not go together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RoleError {
    /// Entry `i` has no (known) name.
    Unnamed(usize),
    /// The name [`ROLE_NAMES`]`[i]` points past the last entry.
    NoSuchEntry(usize),
    /// Two names point at one entry.
    Shared(usize),
}

/// Resolves the entries' roles. `entries` is the number of
/// `memory-region` phandles; `named[i]` is the index of
/// [`ROLE_NAMES`]`[i]` in `memory-region-names`, `None` if absent;
/// `has_names` whether `memory-region-names` exists at all.
pub(crate) fn roles(
    entries: usize,
    named: [Option<usize>; 3],
    has_names: bool,
) -> Result<Roles, RoleError> {
    if !has_names {
        return match entries {
            0 => Ok(Roles::default()),
            1 => Ok(Roles {
                remote_heap: Some(0),
                ..Roles::default()
            }),
            _ => Err(RoleError::Unnamed(1)),
        };
    }
    let mut claimed = [false; 8];
    for (i, n) in named.iter().enumerate() {
        if let Some(e) = *n {
            if e >= entries || e >= claimed.len() {
                return Err(RoleError::NoSuchEntry(i));
            }
            if claimed[e] {
                return Err(RoleError::Shared(e));
            }
            claimed[e] = true;
        }
    }
    if let Some(e) = (0..entries).find(|&e| e >= claimed.len() || !claimed[e]) {
        return Err(RoleError::Unnamed(e));
    }
    Ok(Roles {
        remote_heap: named[0],
        apps_cma: named[1],
        apps_carveout: named[2],
    })
}
