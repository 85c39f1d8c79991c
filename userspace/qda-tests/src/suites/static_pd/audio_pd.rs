//! Cases of the audio PD (`qda_static_pd`): CREATE_STATIC and its
//! refusals, the remote heap sent once per channel and reachable through
//! the remoteproc's IOMMU domain, `apps_mem` grants beyond it, and apps
//! kept out of it.

use qda::{uapi, Bo};

use crate::fixtures::{
    daemon_proc::DaemonProc,
    debugfs::{phys_of, pool, pools, usage},
    errno::expect_errno,
    ktap::{check, Outcome},
    sim_static::{audio, clear_trace},
    static_pd::{
        alloc_ok, free_all, heap, heap_fully_mapped, open, traced_creates, DSP, HEAP_SIZE, MIB,
        PAGE,
    },
};

/// Starts the audio PD daemon on adsp.
fn daemon() -> Result<DaemonProc, String> {
    DaemonProc::spawn("audiopd", DSP)
}

pub fn first_create_sends_the_heap() -> Outcome {
    let before = audio(DSP)?;
    check!(
        before.creates == 0 && before.heap.is_none() && !before.up,
        "before any create on the fresh channel: {before:?}"
    );
    clear_trace(DSP)?;
    let d = daemon()?;
    let a = audio(DSP)?;
    check!(a.creates == 1 && a.up, "after the first create: {a:?}");
    let sent = traced_creates()?;
    check!(sent == [1], "pageslen of the creates: {sent:?}, want [1]");
    let (base, size) = a.heap.ok_or("the first create sent no heap")?;
    check!(
        size == HEAP_SIZE && base != 0 && base % PAGE == 0,
        "heap {base:#x}+{size:#x}, want 8 MiB"
    );
    heap_fully_mapped(size)?;
    d.kill()
}

pub fn later_create_does_not_send_it_again() -> Outcome {
    let first = audio(DSP)?;
    let sent = heap()?;
    clear_trace(DSP)?;
    let d = daemon()?;
    let pages = traced_creates()?;
    check!(pages == [0], "pageslen of the creates: {pages:?}, want [0]");
    let a = audio(DSP)?;
    check!(
        a.creates == first.creates + 1,
        "creates {} -> {}",
        first.creates,
        a.creates
    );
    check!(a.heap == Some(sent), "heap {sent:x?} became {:x?}", a.heap);
    free_all()?;
    alloc_ok(16 * PAGE)?;
    let b = audio(DSP)?;
    check!(
        b.used == 16 * PAGE && b.grants == 0,
        "64 KiB did not land in the heap: {b:?}"
    );
    heap_fully_mapped(sent.1)?;
    free_all()?;
    d.kill()
}

pub fn create_static_refusals() -> Outcome {
    let before = audio(DSP)?.creates;
    let cdsp = open("cdsp")?;
    expect_errno(
        cdsp.create_static("audiopd"),
        libc::ENODEV,
        "create on cdsp (no remote heap)",
    )?;
    let adsp = open(DSP)?;
    let long = [b'a'; 130];
    expect_errno(
        adsp.create_static_raw(&long, 129, 0),
        libc::EINVAL,
        "namelen 129",
    )?;
    expect_errno(
        adsp.create_static_raw(b"audiopd\0", 0, 0),
        libc::EINVAL,
        "namelen 0",
    )?;
    check!(
        audio(DSP)?.creates == before,
        "refused creates reached the DSP"
    );
    adsp.create_static("audiopd")
        .map_err(|e| format!("create after the refusals: {e}"))?;
    expect_errno(
        adsp.create_static("audiopd"),
        libc::EALREADY,
        "second create on one file",
    )?;
    let attached = open(DSP)?;
    attached.attach().map_err(|e| format!("attach: {e}"))?;
    expect_errno(
        attached.create_static("audiopd"),
        libc::EALREADY,
        "create on a file attached to the root PD",
    )?;
    let after = audio(DSP)?.creates;
    check!(after == before + 1, "creates {before} -> {after}, want +1");
    Ok(())
}

pub fn alloc_in_the_heap_is_reachable() -> Outcome {
    let d = daemon()?;
    let (_, size) = heap()?;
    free_all()?;
    heap_fully_mapped(size)?;
    // Written and read back through the remoteproc domain by the PD.
    alloc_ok(MIB)?;
    alloc_ok(size - MIB)?;
    let a = audio(DSP)?;
    check!(
        a.used == size && a.grants == 0,
        "the whole heap in two allocations: {a:?}"
    );
    heap_fully_mapped(size)?;
    free_all()?;
    d.kill()
}

pub fn alloc_beyond_the_heap_goes_through_apps_mem() -> Outcome {
    let base = usage(DSP, "dma-coherent")?;
    let d = daemon()?;
    let (_, size) = heap()?;
    free_all()?;
    alloc_ok(size / 4 * 3)?;
    let a = audio(DSP)?;
    check!(
        a.used == size / 4 * 3 && a.grants == 0,
        "in the heap: {a:?}"
    );
    // Half the heap does not fit in the last quarter: a grant, written and
    // read through the daemon's context bank.
    alloc_ok(size / 2)?;
    let b = audio(DSP)?;
    check!(
        b.used == a.used && b.grants == 1,
        "beyond the heap: {b:?} (before {a:?})"
    );
    let u = usage(DSP, "dma-coherent")?;
    check!(
        u.0 == base.0 + 1 && u.1 >= base.1 + size / 2,
        "granted buffer not in qda's accounting: {base:?} -> {u:?}"
    );
    free_all()?;
    let u = usage(DSP, "dma-coherent")?;
    check!(
        u == base,
        "grant not freed after unmap64: {base:?} -> {u:?}"
    );
    d.kill()
}

/// Allocates CMA buffers on adsp until the pool is exhausted, checking
/// that each lies in the apps pool and outside `heap`.
fn exhaust_cma<'d>(adsp: &'d qda::Device, heap: (u64, u64)) -> Result<Vec<Bo<'d>>, String> {
    let (cb, cs) = pool(DSP, "cma")?;
    let mut held = Vec::new();
    let mut chunk = cs / 4 / PAGE * PAGE;
    while chunk >= PAGE && held.len() < 1024 {
        match Bo::new_in(adsp, chunk, uapi::QDA_MEM_CMA) {
            Ok(bo) => {
                let info = bo.info().map_err(|e| e.to_string())?;
                let p = phys_of(DSP, info.dsp_addr)?;
                check!(
                    (cb..cb + cs).contains(&p) && !(heap.0..heap.0 + heap.1).contains(&p),
                    "CMA buffer at {p:#x}: pool {cb:#x}+{cs:#x}, heap {heap:x?}"
                );
                held.push(bo);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOMEM) => chunk = chunk / 2 / PAGE * PAGE,
            Err(e) => return Err(format!("CMA {chunk}: {e}")),
        }
    }
    expect_errno(
        Bo::new_in(adsp, PAGE, uapi::QDA_MEM_CMA),
        libc::ENOMEM,
        "a page of the exhausted pool",
    )?;
    Ok(held)
}

pub fn apps_cannot_allocate_from_the_remote_heap() -> Outcome {
    let (hb, hs) = heap()?;
    for (name, b, s) in pools(DSP)? {
        check!(
            b + s <= hb || hb + hs <= b,
            "pool {name} {b:#x}+{s:#x} overlaps the remote heap {hb:#x}+{hs:#x}"
        );
    }
    let adsp = open(DSP)?;
    let held = exhaust_cma(&adsp, (hb, hs))?;
    check!(!held.is_empty(), "no CMA buffer at all");
    let d = daemon()?;
    free_all()?;
    alloc_ok(MIB)?;
    let a = audio(DSP)?;
    check!(
        a.used == MIB && a.grants == 0,
        "heap with the apps pool exhausted: {a:?}"
    );
    free_all()?;
    drop(held);
    d.kill()
}
