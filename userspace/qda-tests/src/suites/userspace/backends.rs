//! Userspace tests of the memory backends: DMA-coherent, CMA (adsp's
//! `shared-dma-pool`) and carve-out (cdsp's `no-map` region).

use qda::{uapi, Bo, Device};

use crate::fixtures::{
    debugfs::{phys_of, pool, usage},
    errno::expect_errno,
    ktap::{check, Outcome},
};

const PAGE: u64 = 4096;
const MIB: u64 = 1 << 20;

fn open(dsp: &str) -> Result<Device, String> {
    Device::by_name(dsp).map_err(|e| format!("open {dsp}: {e}"))
}

/// Allocates from `backend`, checks zeroing and a write/read through two
/// mappings, and returns the physical address of the first page.
fn roundtrip(d: &Device, dsp: &str, backend: u32, name: &str) -> Result<u64, String> {
    let before = usage(dsp, name)?;
    let bo = Bo::new_in(d, 5 * PAGE, backend).map_err(|e| format!("{name}: GEM_CREATE_EX: {e}"))?;
    let info = bo.info().map_err(|e| e.to_string())?;
    check!(
        info.backend == backend,
        "{name}: backend {} reported",
        info.backend
    );
    check!(
        usage(dsp, name)? == (before.0 + 1, before.1 + 5 * PAGE),
        "{name}: not accounted"
    );
    {
        let mut m = bo.map().map_err(|e| format!("{name}: mmap: {e}"))?;
        check!(
            m.as_slice().iter().all(|&b| b == 0),
            "{name}: new buffer not zeroed"
        );
        for (i, b) in m.as_mut_slice().iter_mut().enumerate() {
            *b = (i % 241) as u8;
        }
    }
    let m = bo.map().map_err(|e| e.to_string())?;
    let ok = m
        .as_slice()
        .iter()
        .enumerate()
        .all(|(i, &b)| b == (i % 241) as u8);
    check!(ok, "{name}: data differs after remapping");
    let phys = phys_of(dsp, info.dsp_addr)?;
    drop(m);
    drop(bo);
    check!(usage(dsp, name)? == before, "{name}: not freed");
    Ok(phys)
}

pub fn every_backend_allocates_zeroed_mappable_memory() -> Outcome {
    let (adsp, cdsp) = (open("adsp")?, open("cdsp")?);
    roundtrip(&cdsp, "cdsp", uapi::QDA_MEM_DMA_COHERENT, "dma-coherent")?;
    let cma = roundtrip(&adsp, "adsp", uapi::QDA_MEM_CMA, "cma")?;
    let (base, size) = pool("adsp", "cma")?;
    check!(
        (base..base + size).contains(&cma),
        "CMA buffer at {cma:#x} outside the pool {base:#x}+{size:#x}"
    );
    let co = roundtrip(&cdsp, "cdsp", uapi::QDA_MEM_CARVEOUT, "carveout")?;
    let (base, size) = pool("cdsp", "carveout")?;
    check!(
        base == 0x8180_0000 && size == 0x1e0_0000,
        "carve-out pool {base:#x}+{size:#x} is not the DT's"
    );
    check!(
        (base..base + size).contains(&co),
        "carve-out buffer at {co:#x} outside the region"
    );
    Ok(())
}

pub fn missing_or_unknown_backends_are_refused() -> Outcome {
    let (adsp, cdsp) = (open("adsp")?, open("cdsp")?);
    expect_errno(
        Bo::new_in(&cdsp, PAGE, uapi::QDA_MEM_CMA),
        libc::ENODEV,
        "CMA on cdsp",
    )?;
    expect_errno(
        Bo::new_in(&adsp, PAGE, uapi::QDA_MEM_CARVEOUT),
        libc::ENODEV,
        "carve-out on adsp",
    )?;
    expect_errno(Bo::new_in(&adsp, PAGE, 99), libc::EINVAL, "backend 99")?;
    expect_errno(
        Bo::new_in(&adsp, PAGE, uapi::QDA_MEM_IMPORTED),
        libc::EINVAL,
        "backend IMPORTED",
    )?;
    let d = Bo::new_in(&cdsp, PAGE, 0).map_err(|e| format!("default backend: {e}"))?;
    let b = d.info().map_err(|e| e.to_string())?.backend;
    check!(b == uapi::QDA_MEM_DMA_COHERENT, "default backend is {b}");
    Ok(())
}

pub fn cma_pool_exhausts_and_recovers() -> Outcome {
    let adsp = open("adsp")?;
    let (_, size) = pool("adsp", "cma")?;
    let big = size * 2 / 3;
    let a = Bo::new_in(&adsp, big, uapi::QDA_MEM_CMA).map_err(|e| format!("first {big}: {e}"))?;
    expect_errno(
        Bo::new_in(&adsp, big, uapi::QDA_MEM_CMA),
        libc::ENOMEM,
        "second 2/3 of the pool",
    )?;
    drop(a);
    let again = Bo::new_in(&adsp, big, uapi::QDA_MEM_CMA);
    check!(
        again.is_ok(),
        "pool not reusable after free: {:?}",
        again.err()
    );
    Ok(())
}

pub fn carveout_exhausts_reuses_and_never_leaks_data() -> Outcome {
    let cdsp = open("cdsp")?;
    let (_, size) = pool("cdsp", "carveout")?;
    let big = size * 2 / 3;
    let a = Bo::new_in(&cdsp, big, uapi::QDA_MEM_CARVEOUT).map_err(|e| format!("first: {e}"))?;
    {
        let mut m = a.map().map_err(|e| e.to_string())?;
        m.as_mut_slice().fill(0x5a);
    }
    expect_errno(
        Bo::new_in(&cdsp, big, uapi::QDA_MEM_CARVEOUT),
        libc::ENOMEM,
        "second 2/3",
    )?;
    let small = Bo::new_in(&cdsp, 2 * MIB, uapi::QDA_MEM_CARVEOUT)
        .map_err(|e| format!("2 MiB in the rest: {e}"))?;
    drop(a);
    let b =
        Bo::new_in(&cdsp, big, uapi::QDA_MEM_CARVEOUT).map_err(|e| format!("after free: {e}"))?;
    let m = b.map().map_err(|e| e.to_string())?;
    check!(
        m.as_slice().iter().all(|&x| x == 0),
        "reused carve-out pages carry old data"
    );
    drop(small);
    Ok(())
}

pub fn carveout_buffers_cannot_be_exported() -> Outcome {
    let cdsp = open("cdsp")?;
    let bo = Bo::new_in(&cdsp, PAGE, uapi::QDA_MEM_CARVEOUT).map_err(|e| e.to_string())?;
    expect_errno(
        bo.export(),
        libc::EOPNOTSUPP,
        "PRIME export of a carve-out buffer",
    )
}
