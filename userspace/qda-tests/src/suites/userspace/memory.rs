//! Userspace tests of buffer objects: allocation, mapping, bad input,
//! isolation between processes and leak accounting.

use qda::{bo::close_handle, uapi, Bo, Device, Mapping};

use crate::fixtures::{
    debugfs::{probe, usage},
    errno::expect_errno,
    ktap::{check, Outcome},
    sessions::{me, owned_by, slots, Holder},
};

const PAGE: u64 = 4096;

fn cdsp() -> Result<Device, String> {
    Device::by_name("cdsp").map_err(|e| format!("open cdsp: {e}"))
}

fn pattern(i: usize, seed: u8) -> u8 {
    (i as u8).wrapping_mul(31).wrapping_add(seed)
}

pub fn gem_create_mmap_write_read() -> Outcome {
    let d = cdsp()?;
    let before = usage("cdsp", "dma-coherent")?;
    let bo = Bo::new(&d, 3 * PAGE + 5).map_err(|e| format!("GEM_CREATE: {e}"))?;
    let info = bo.info().map_err(|e| format!("GEM_INFO: {e}"))?;
    check!(
        info.size == 4 * PAGE,
        "size {} not rounded up to 4 pages",
        info.size
    );
    check!(
        info.backend == uapi::QDA_MEM_DMA_COHERENT,
        "backend {}",
        info.backend
    );
    let mine = owned_by("cdsp", me())?;
    check!(mine.len() == 1, "no session for this process: {mine:?}");
    check!(
        (info.dsp_addr >> 32) as u32 == mine[0].sid,
        "DSP address {:#x} lacks the SID prefix {}",
        info.dsp_addr,
        mine[0].sid
    );
    check!(
        usage("cdsp", "dma-coherent")? == (before.0 + 1, before.1 + 4 * PAGE),
        "usage not counted"
    );
    {
        let mut m = bo.map().map_err(|e| format!("mmap: {e}"))?;
        for (i, b) in m.as_mut_slice().iter_mut().enumerate() {
            *b = pattern(i, 7);
        }
    }
    let m = bo.map().map_err(|e| format!("second mmap: {e}"))?;
    let bad = m
        .as_slice()
        .iter()
        .enumerate()
        .position(|(i, &b)| b != pattern(i, 7));
    check!(bad.is_none(), "byte {bad:?} differs after remapping");
    drop(m);
    bo.close().map_err(|e| format!("GEM_CLOSE: {e}"))?;
    check!(
        usage("cdsp", "dma-coherent")? == before,
        "memory not freed on close"
    );
    Ok(())
}

pub fn mapping_survives_fork() -> Outcome {
    let d = cdsp()?;
    let bo = Bo::new(&d, PAGE).map_err(|e| e.to_string())?;
    let mut m = bo.map().map_err(|e| e.to_string())?;
    m.as_mut_slice()[..4].copy_from_slice(b"qda!");
    let p = m.as_mut_slice().as_mut_ptr();
    // SAFETY: the child only touches the inherited shared mapping and
    // exits with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: the mapping is inherited by the child.
        let ok = unsafe { std::slice::from_raw_parts(p, 4) } == b"qda!";
        // SAFETY: as above; MAP_SHARED makes the write visible to the parent.
        unsafe {
            *p.add(4) = b'c';
            libc::_exit(if ok { 0 } else { 1 });
        }
    }
    let mut status = 0;
    // SAFETY: reaps the child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    check!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child did not see the data"
    );
    check!(
        m.as_slice()[4] == b'c',
        "child's write not visible in the parent"
    );
    Ok(())
}

pub fn mmap_beyond_the_object_fails() -> Outcome {
    let d = cdsp()?;
    let bo = Bo::new(&d, 2 * PAGE).map_err(|e| e.to_string())?;
    let off = bo.mmap_offset().map_err(|e| e.to_string())?;
    expect_errno(
        Mapping::new(d.fd(), off, 3 * PAGE as usize),
        libc::EINVAL,
        "mmap 3 pages of 2",
    )?;
    expect_errno(
        Mapping::new(d.fd(), off + PAGE, 2 * PAGE as usize),
        libc::EINVAL,
        "mmap 2 pages from page 1",
    )?;
    expect_errno(
        Mapping::new(d.fd(), off + 64 * PAGE, PAGE as usize),
        libc::EINVAL,
        "mmap unknown offset",
    )?;
    // Mappings start at the object; a shorter one is fine.
    check!(
        Mapping::new(d.fd(), off, PAGE as usize).is_ok(),
        "mmap of the first page alone failed"
    );
    Ok(())
}

pub fn bad_gem_requests_get_specific_errnos() -> Outcome {
    let d = cdsp()?;
    let before = usage("cdsp", "dma-coherent")?;
    expect_errno(Bo::new(&d, 0), libc::EINVAL, "size 0")?;
    expect_errno(Bo::new(&d, u64::MAX), libc::E2BIG, "size u64::MAX")?;
    expect_errno(Bo::new(&d, 1 << 40), libc::E2BIG, "size 1 TiB")?;
    // The library's struct has no pad member: its tail bytes are stack
    // garbage, which must not fail the allocation.
    let mut a = uapi::GemCreate {
        size: PAGE,
        handle: 0,
        pad: 0xdead_beef,
    };
    let r = qda::ioctl::ioctl(d.fd(), uapi::req::GEM_CREATE, &mut a);
    check!(
        r.is_ok() && a.handle != 0,
        "GEM_CREATE with garbage pad: {r:?}"
    );
    Bo::from_handle(&d, a.handle)
        .close()
        .map_err(|e| format!("close: {e}"))?;
    let ghost = Bo::from_handle(&d, 0x7777);
    expect_errno(ghost.info(), libc::ENOENT, "GEM_INFO of an unknown handle")?;
    expect_errno(
        ghost.mmap_offset(),
        libc::ENOENT,
        "MMAP_OFFSET of an unknown handle",
    )?;
    std::mem::forget(ghost);
    let bo = Bo::new(&d, PAGE).map_err(|e| e.to_string())?;
    let h = bo.handle();
    bo.close().map_err(|e| format!("first close: {e}"))?;
    expect_errno(close_handle(d.fd(), h), libc::EINVAL, "double GEM_CLOSE")?;
    expect_errno(
        Bo::from_handle(&d, h).info(),
        libc::ENOENT,
        "GEM_INFO of a closed handle",
    )?;
    check!(
        usage("cdsp", "dma-coherent")? == before,
        "bad requests leaked memory"
    );
    Ok(())
}

pub fn buffers_are_isolated_by_the_smmu() -> Outcome {
    // Process A (a child) allocates and reports its buffer's DSP address.
    let a = Holder::spawn_with("cdsp", |d| {
        let bo = Bo::new(d, 4 * PAGE).ok()?;
        let addr = bo.info().ok()?.dsp_addr;
        std::mem::forget(bo);
        Some(addr)
    })?;
    // Process B (us) allocates a buffer of the same size in its own CB.
    let d = cdsp()?;
    let bo = Bo::new(&d, 4 * PAGE).map_err(|e| e.to_string())?;
    let b_addr = bo.info().map_err(|e| e.to_string())?.dsp_addr;
    let (a_sid, b_sid) = ((a.value >> 32) as u32, (b_addr >> 32) as u32);
    check!(a_sid != b_sid, "A and B share SID {a_sid}");
    let table = probe("cdsp", a.value)?;
    let in_a = table
        .iter()
        .find(|(s, _)| *s == a_sid)
        .and_then(|(_, p)| *p);
    let in_b = table.iter().find(|(s, _)| *s == b_sid).map(|(_, p)| *p);
    check!(
        in_a.is_some(),
        "A's buffer does not translate in A's own CB: {table:?}"
    );
    check!(in_b.is_some(), "B's CB missing from the probe: {table:?}");
    check!(
        in_b.flatten() != in_a,
        "A's DSP address reaches A's memory through B's CB: {table:?}"
    );
    // Only A's CB maps A's memory at that IOVA.
    let reach = table.iter().filter(|(_, p)| *p == in_a).count();
    check!(
        reach == slots("cdsp")?.iter().filter(|s| s.sid == a_sid).count(),
        "A's memory reachable via other CBs: {table:?}"
    );
    drop(bo);
    drop(a);
    Ok(())
}
