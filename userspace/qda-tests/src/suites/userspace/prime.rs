//! Userspace tests of PRIME export and import.

use std::os::fd::AsFd;

use qda::{heap, uapi, Bo, Device, Mapping};

use crate::fixtures::{
    debugfs::usage,
    errno::expect_errno,
    ktap::{check, Outcome},
    sessions::{me, owned_by},
};

const PAGE: u64 = 4096;

fn cdsp() -> Result<Device, String> {
    Device::by_name("cdsp").map_err(|e| format!("open cdsp: {e}"))
}

/// Maps a dma-buf fd directly.
fn map_fd(fd: std::os::fd::BorrowedFd<'_>, len: usize) -> Result<Mapping, String> {
    Mapping::new(fd, 0, len).map_err(|e| format!("mmap of the dma-buf: {e}"))
}

pub fn export_import_in_forked_child_sees_same_bytes() -> Outcome {
    let d = cdsp()?;
    let bo = Bo::new(&d, 2 * PAGE).map_err(|e| e.to_string())?;
    let mut m = bo.map().map_err(|e| e.to_string())?;
    for (i, b) in m.as_mut_slice().iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let fd = bo.export().map_err(|e| format!("PRIME export: {e}"))?;
    let parent_sid = owned_by("cdsp", me())?
        .first()
        .map(|s| s.sid)
        .ok_or("no session")?;
    // SAFETY: the child opens its own file, imports, checks and `_exit`s.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = (|| -> Option<i32> {
            let d = Device::by_name("cdsp").ok()?;
            let bo = Bo::import(&d, fd.as_fd()).ok()?;
            let info = bo.info().ok()?;
            if info.backend != uapi::QDA_MEM_IMPORTED || (info.dsp_addr >> 32) as u32 == parent_sid
            {
                return Some(3);
            }
            let mut m = bo.map().ok()?;
            let same = m
                .as_slice()
                .iter()
                .enumerate()
                .all(|(i, &b)| b == (i % 251) as u8);
            m.as_mut_slice()[10] = 0xee;
            Some(if same { 0 } else { 2 })
        })()
        .unwrap_or(1);
        // SAFETY: leave without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: reaps the child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    check!(code != 1, "child could not open, import or map the buffer");
    check!(
        code != 3,
        "child's import is not its own mapping in its own CB"
    );
    check!(code == 0, "child saw different bytes (exit {code})");
    check!(
        m.as_slice()[10] == 0xee,
        "child's write through its import not visible"
    );
    Ok(())
}

pub fn self_import_returns_the_same_object() -> Outcome {
    let d = cdsp()?;
    let bo = Bo::new(&d, PAGE).map_err(|e| e.to_string())?;
    let info = bo.info().map_err(|e| e.to_string())?;
    let fd = bo.export().map_err(|e| e.to_string())?;
    let again = Bo::import(&d, fd.as_fd()).map_err(|e| format!("import: {e}"))?;
    check!(
        again.handle() == bo.handle(),
        "same file, new handle {} != {}",
        again.handle(),
        bo.handle()
    );
    std::mem::forget(again);
    // Another file of the same process shares the session and so the
    // mapping: the import is the same object, not a new attachment.
    let d2 = cdsp()?;
    let before = usage("cdsp", "imported")?;
    let other = Bo::import(&d2, fd.as_fd()).map_err(|e| format!("import on 2nd fd: {e}"))?;
    let oi = other.info().map_err(|e| e.to_string())?;
    check!(oi == info, "second file sees {oi:?}, want {info:?}");
    check!(
        usage("cdsp", "imported")? == before,
        "self-import created an attachment"
    );
    Ok(())
}

pub fn import_from_the_system_heap() -> Outcome {
    import_from_heap("system")
}

pub fn import_from_a_cma_heap() -> Outcome {
    let names = heap::names();
    let cma = names
        .iter()
        .find(|n| n.as_str() != "system")
        .ok_or(format!("no CMA heap in {names:?}"))?;
    import_from_heap(cma)
}

fn import_from_heap(name: &str) -> Outcome {
    let d = cdsp()?;
    let len = 3 * PAGE;
    let fd = heap::alloc(name, len).map_err(|e| format!("{name} heap alloc: {e}"))?;
    let mut direct = map_fd(fd.as_fd(), len as usize)?;
    direct.as_mut_slice()[..5].copy_from_slice(b"heap!");
    let before = usage("cdsp", "imported")?;
    let bo = Bo::import(&d, fd.as_fd()).map_err(|e| format!("import: {e}"))?;
    let info = bo.info().map_err(|e| e.to_string())?;
    check!(
        info.backend == uapi::QDA_MEM_IMPORTED,
        "backend {}",
        info.backend
    );
    check!(info.size == len, "size {} != {len}", info.size);
    let sid = owned_by("cdsp", me())?
        .first()
        .map(|s| s.sid)
        .ok_or("no session")?;
    check!(
        (info.dsp_addr >> 32) as u32 == sid,
        "DSP address {:#x} not in SID {sid}",
        info.dsp_addr
    );
    check!(
        usage("cdsp", "imported")? == (before.0 + 1, before.1 + len),
        "import not accounted"
    );
    let mut via_qda = bo
        .map()
        .map_err(|e| format!("mmap via GEM_MMAP_OFFSET: {e}"))?;
    check!(
        &via_qda.as_slice()[..5] == b"heap!",
        "qda mapping shows other bytes"
    );
    via_qda.as_mut_slice()[5] = b'?';
    check!(
        direct.as_slice()[5] == b'?',
        "write via qda not visible via the heap mapping"
    );
    drop(via_qda);
    drop(bo);
    check!(
        usage("cdsp", "imported")? == before,
        "import not released on close"
    );
    Ok(())
}

pub fn import_from_udmabuf() -> Outcome {
    let d = cdsp()?;
    let len = 2 * PAGE;
    let (memfd, buf) = qda::heap::udmabuf(len).map_err(|e| format!("udmabuf: {e}"))?;
    let mut shm = map_fd(memfd.as_fd(), len as usize)?;
    shm.as_mut_slice()[100..104].copy_from_slice(b"udma");
    let bo = Bo::import(&d, buf.as_fd()).map_err(|e| format!("import: {e}"))?;
    let info = bo.info().map_err(|e| e.to_string())?;
    check!(
        info.backend == uapi::QDA_MEM_IMPORTED && info.size == len,
        "info {info:?}"
    );
    let m = bo
        .map()
        .map_err(|e| format!("mmap via GEM_MMAP_OFFSET: {e}"))?;
    check!(
        &m.as_slice()[100..104] == b"udma",
        "qda mapping of the udmabuf shows other bytes"
    );
    Ok(())
}

pub fn importing_a_non_dma_buf_fails() -> Outcome {
    let d = cdsp()?;
    let f = std::fs::File::open("/proc/self/stat").map_err(|e| e.to_string())?;
    expect_errno(
        Bo::import(&d, f.as_fd()),
        libc::EINVAL,
        "import of a procfs file",
    )?;
    expect_errno(
        import_number(&d, 9999),
        libc::EBADF,
        "import of a closed fd",
    )?;
    expect_errno(import_number(&d, -1), libc::EBADF, "import of fd -1")?;
    Ok(())
}

/// PRIME_FD_TO_HANDLE of an fd number no `BorrowedFd` can hold (closed or
/// negative); returns the handle.
fn import_number(d: &Device, fd: i32) -> std::io::Result<u32> {
    let mut a = uapi::PrimeHandle {
        handle: 0,
        flags: 0,
        fd,
    };
    qda::ioctl::ioctl(d.fd(), uapi::req::PRIME_FD_TO_HANDLE, &mut a)?;
    Ok(a.handle)
}
